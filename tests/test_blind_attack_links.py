"""Symbolic links an annotator plants in the project folder (mode 3770: every project
member may create files there) under the name of a lock that does not exist yet
(`versions.json.lock`, `.pipeline.lock`, ...). Followed with O_CREAT, the link made
the admin's process create the file it points at: `labels/ADMIN.jsonl`, empty and
0644, which the admin's next session then filled with golden references and final
labels for every project member to read. Real OS users (tests/blind_attack_setup.py)."""

from __future__ import annotations

import os
from pathlib import Path


from blind_attack_setup import ADM, AN1, cli, label, needs_root, read
from test_file_attacks import as_os

pytestmark = needs_root


def _plant(root: Path, name: str, target: str) -> None:
    os.symlink(target, root / name)


def test_a_planted_lock_link_creates_nothing_where_it_points(blind_only_a):
    as_os(AN1, _plant, blind_only_a, "versions.json.lock", f"labels/{ADM}.jsonl")
    code, out = as_os(ADM, cli, blind_only_a, "version", "create", "DIR", "v1")
    assert code == 5 and len(out.splitlines()) == 1, out
    assert "versions.json.lock" in out and "symbolic link" in out
    assert not (blind_only_a / "labels" / f"{ADM}.jsonl").exists()
    assert not (blind_only_a / "versions.json").exists()


def test_an_own_journal_made_readable_by_others_is_made_private_again(blind_only_a):
    """However the file came to be the admin's with another mode (a link followed by
    an older release, a `touch` under a loose umask), the session writes no label
    into a file that others may read."""
    journal = blind_only_a / "labels" / f"{ADM}.jsonl"
    as_os(ADM, lambda: (journal.touch(), journal.chmod(0o644)))
    as_os(ADM, label, blind_only_a, 2, "crack")
    assert journal.stat().st_mode & 0o777 == 0o640
    assert as_os(AN1, read, journal) == "PermissionError"
