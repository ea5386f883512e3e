"""Published queues (`queues/USER.json`, written by an admin, mode 0644) list the
planned images a user has not labeled yet. Another annotator can read them, and so
learns which dual images the other has labeled: the file differs with and without the
other annotator's labels. Known and not fixed yet (the file must stay readable by its
user, whom the admin cannot give it to): xfail until it is. Real OS users
(tests/blind_attack_setup.py)."""

from __future__ import annotations

import pytest

from blind_attack_setup import ADM, AN1, AN2, cli, needs_root, project, read
from test_file_attacks import as_os

pytestmark = needs_root


def _published(with_b: bool) -> object:
    for root in project(with_b=with_b):
        code, out = as_os(ADM, cli, root, "qa", "plan", "DIR", "--publish")
        assert code == 0, out
        return as_os(AN1, read, root / "queues" / f"{AN2}.json")
    raise AssertionError("no project")


@pytest.mark.xfail(strict=True, reason="queues/OTHER.json tells what OTHER has labeled")
def test_another_annotators_queue_tells_nothing_of_their_labels(blind_users):
    assert _published(with_b=True) == _published(with_b=False)
