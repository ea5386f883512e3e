"""Published queues (`queues/USER.json`, written by an admin, mode 0644: the admin
cannot give a file to its user, so every user can read every queue). Nothing in a
queue file depends on labels: another annotator who reads it learns nothing of what
its user has labeled, and the user's own process leaves out what they have done.
Real OS users (tests/blind_attack_setup.py)."""

from __future__ import annotations

import json
from typing import Any

from blind_attack_setup import ADM, AN1, AN2, cli, needs_root, project, read
from test_file_attacks import as_os

pytestmark = needs_root


def _published(with_b: bool) -> tuple[Any, list[str], list[str]]:
    """AN2's queue file as AN1 reads it, the images it lists, and AN2's own queue."""
    for root in project(with_b=with_b):
        code, out = as_os(ADM, cli, root, "qa", "plan", "DIR", "--publish")
        assert code == 0, out
        seen = as_os(AN1, read, root / "queues" / f"{AN2}.json")
        listed = [i["image"] for i in json.loads(seen)["items"]]
        code, out = as_os(AN2, cli, root, "qa", "queue", "DIR", "--json")
        assert code == 0, out
        return seen, listed, [i["image"] for i in json.loads(out)]
    raise AssertionError("no project")


def test_another_annotators_queue_tells_nothing_of_their_labels(blind_users):
    with_b, listed, own_b = _published(with_b=True)
    without_b, _, own_none = _published(with_b=False)
    assert with_b == without_b
    # AN2 labeled 4 of their planned images: their own queue no longer holds them
    assert len(set(listed) - set(own_b)) == 4 and set(own_b) < set(listed)
    assert set(own_none) == set(listed)
