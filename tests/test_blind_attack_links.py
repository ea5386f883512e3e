"""Symbolic links an annotator plants in the project folder (mode 3770: every project
member may create files there) under the name of a lock that does not exist yet
(`versions.json.lock`, `.pipeline.lock`, ...). Followed with O_CREAT, the link made
the admin's process create the file it points at: `labels/ADMIN.jsonl`, empty and
0644, which the admin's next session then filled with golden references and final
labels for every project member to read. Real OS users (tests/blind_attack_setup.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blind_attack_setup import ADM, AN1, cli, label, make_users, needs_root, project, read
from test_file_attacks import as_os

pytestmark = needs_root


@pytest.fixture(scope="module")
def users():
    yield from make_users()


@pytest.fixture
def proj(users):
    yield from project(with_b=False)


def _plant(root: Path, name: str, target: str) -> None:
    os.symlink(target, root / name)


def test_a_planted_lock_link_creates_nothing_where_it_points(proj):
    as_os(AN1, _plant, proj, "versions.json.lock", f"labels/{ADM}.jsonl")
    code, out = as_os(ADM, cli, proj, "version", "create", "DIR", "v1")
    assert code == 5 and len(out.splitlines()) == 1, out
    assert "versions.json.lock" in out and "symbolic link" in out
    assert not (proj / "labels" / f"{ADM}.jsonl").exists()
    assert not (proj / "versions.json").exists()


def test_an_own_journal_made_readable_by_others_is_made_private_again(proj):
    """However the file came to be the admin's with another mode (a link followed by
    an older release, a `touch` under a loose umask), the session writes no label
    into a file that others may read."""
    journal = proj / "labels" / f"{ADM}.jsonl"
    as_os(ADM, lambda: (journal.touch(), journal.chmod(0o644)))
    as_os(ADM, label, proj, 2, "crack")
    assert journal.stat().st_mode & 0o777 == 0o640
    assert as_os(AN1, read, journal) == "PermissionError"
