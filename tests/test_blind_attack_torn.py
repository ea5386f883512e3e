"""The bytes a session moves aside (`labels/USER.jsonl.torn-TIME-OFFSET`: lines never
acknowledged, a crash mid-batch) are that user's labels: readable by their writer and
the privileged group only, like the journal, and never written through a link another
user planted there. Real OS users (tests/blind_attack_setup.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path


from blind_attack_setup import ADJ, AN1, AN2, label, needs_root, read
from test_file_attacks import as_os

pytestmark = needs_root


def _tear(root: Path) -> None:
    """AN2's process died while writing a line: its bytes lie past the mark."""
    with open(root / "labels" / f"{AN2}.jsonl", "ab") as fh:
        fh.write(b'{"kind": "label", "after": {"defect_class": "crack-SECRET"')


def _aside(root: Path) -> list[Path]:
    return sorted((root / "labels").glob(f"{AN2}.jsonl.torn-*"))


def test_torn_bytes_moved_aside_are_as_private_as_the_journal(blind_both):
    as_os(AN2, _tear, blind_both)
    as_os(AN2, label, blind_both, 4, "burr")  # the next session moves the bytes aside
    (aside,) = _aside(blind_both)
    assert aside.stat().st_mode & 0o777 == 0o640
    assert aside.stat().st_uid == (blind_both / "labels" / f"{AN2}.jsonl").stat().st_uid
    assert as_os(AN1, read, aside) == "PermissionError"
    assert b"crack-SECRET" in as_os(ADJ, read, aside)  # the privileged group reads it
    assert b"crack-SECRET" in as_os(AN2, read, aside)


def _plant_links(root: Path, target: Path) -> None:
    """AN1 plants links under every name AN2's next session may give the torn
    bytes in the next minute (the time is the clock, the offset the journal's size,
    which every project member sees)."""
    offset = (root / "labels" / f"{AN2}.jsonl").stat().st_size
    now = time.time()
    for s in range(-5, 60):
        stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now + s))
        os.symlink(target, root / "labels" / f"{AN2}.jsonl.torn-{stamp}-{offset}")


def test_a_planted_link_neither_redirects_nor_stops_the_session(blind_both):
    victim = blind_both / "labels" / f"{AN2}.snapshot.json"  # a file only AN2 may write
    as_os(AN1, _plant_links, blind_both, victim)
    as_os(AN2, _tear, blind_both)
    before = victim.read_bytes()
    as_os(AN2, label, blind_both, 4, "burr")  # opens, moves the bytes aside, labels
    assert b"crack-SECRET" not in victim.read_bytes()
    assert victim.read_bytes() != before  # the session's own new snapshot, not the tail
    (aside,) = [p for p in _aside(blind_both) if not p.is_symlink()]
    assert aside.stat().st_mode & 0o777 == 0o640
    assert b"crack-SECRET" in aside.read_bytes()
