"""A file an annotator plants in `roles/` (mode 3775: every project member may create
files there) under the name of an admin who has no role journal yet. The admin's
session then keeps the admin's role journal as `roles/ADMIN@TAG.jsonl`, as sessions do
in `labels/`; the role history read only plain names, so every role change that admin
made was reported as done and honoured by no reader. Real OS users
(tests/blind_attack_setup.py)."""

from __future__ import annotations

import json
from pathlib import Path


from blind_attack_setup import ADJ, ADM, AN1, AN2, cli, needs_root
from test_file_attacks import as_os

pytestmark = needs_root


def _plant(root: Path) -> None:
    (root / "roles" / f"{ADJ}.jsonl").write_text("planted\n")


def _roles(root: Path) -> dict[str, list[str]]:
    code, out = as_os(ADM, cli, root, "role", "list", "DIR", "--json")
    assert code == 0, out
    return json.loads(out)


def test_a_planted_role_journal_does_not_void_an_admins_role_changes(blind_only_a):
    assert as_os(ADM, cli, blind_only_a, "role", "add", "DIR", ADJ, "admin")[0] == 0
    as_os(AN1, _plant, blind_only_a)
    code, out = as_os(ADJ, cli, blind_only_a, "role", "add", "DIR", AN2, "reviewer")
    assert code == 0, out
    assert list((blind_only_a / "roles").glob(f"{ADJ}@*.jsonl"))  # kept aside from the plant
    roles = _roles(blind_only_a)
    assert AN2 in roles["reviewer"], roles
    code, out = as_os(ADJ, cli, blind_only_a, "role", "remove", "DIR", AN2, "reviewer")
    assert code == 0, out
    assert AN2 not in _roles(blind_only_a)["reviewer"]
    code, out = as_os(ADM, cli, blind_only_a, "audit", "verify", "DIR")
    assert f"{ADJ}.jsonl: owned by {AN1}, not by {ADJ}" in out  # the plant is reported
