"""The checks a reader makes between the journal, its acknowledgement mark and the
snapshot: each returns one line naming the file and what is wrong, or None. Kept apart
from the replay itself so `audit.py` can run the same checks on every line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import JournalCorrupt
from .ackmark import AckRecord, read_ack
from .journal import Tail, line_number
from .labels import SnapshotFile, load_snapshot

if TYPE_CHECKING:
    from .replay import Replay


def ack_problem(jpath: Path, apath: Path, ack: AckRecord, rep: Replay) -> str | None:
    """The replay (up to the mark's offset, wanting the mark's seq) must end exactly on
    the marked line."""
    tail = rep.tail
    if tail == Tail(ack.offset, ack.seq, ack.hash):
        return None
    found = rep.found.get(ack.seq)
    if found is not None or tail.offset == ack.offset:
        line = found.line(jpath) if found else line_number(jpath, tail.offset) - 1
        return (
            f"{jpath}:{line}: does not match {apath.name}: the last acknowledged line "
            f"(seq {ack.seq}) is not the line found here: it, or lines before it, "
            "were rewritten or removed"
        )
    size = jpath.stat().st_size
    line = line_number(jpath, tail.offset)
    recorded = f"{apath.name} records {ack.seq} acknowledged events ({ack.offset} bytes)"
    if size >= ack.offset:
        return (
            f"{jpath}:{line}: does not match {apath.name}: this line runs past byte "
            f"{ack.offset}, where the last acknowledged line (seq {ack.seq}) ended: "
            "lines up to here were rewritten"
        )
    if size > tail.offset:
        return (
            f"{jpath}:{line}: acknowledged line cut in half: the journal ends inside "
            f"line {line} (at byte {size}), but {recorded}"
        )
    return (
        f"{jpath}:{line}: acknowledged lines missing from line {line} on: the journal "
        f"ends after line {line - 1} ({size} bytes), but {recorded}"
    )


def snapshot_problem(
    spath: Path, apath: Path, snap: SnapshotFile, ack: AckRecord | None
) -> str | None:
    """Unreadable, or not the snapshot the mark says was last written."""
    if snap.problem:
        return snap.problem
    if ack is None:
        return None
    if ack.snap_seq and not snap.present:
        return (
            f"{spath}: missing, but {apath.name} records a snapshot up to seq "
            f"{ack.snap_seq}: it was deleted (the journal alone is complete)"
        )
    if snap.present and (
        snap.mark.seq < ack.snap_seq
        or (snap.mark.seq == ack.snap_seq and snap.mark.hash != ack.snap_hash)
    ):
        return (
            f"{spath}: not the last snapshot written (it covers seq {snap.mark.seq}, "
            f"{apath.name} records seq {ack.snap_seq}): an old or foreign copy was put back"
        )
    if snap.present and ack.snap_sha and snap.sha not in (ack.snap_sha, ack.next_sha):
        return (
            f"{spath}: altered: its bytes are not those of the snapshot last written "
            f"({apath.name} records their SHA-256); it is ignored"
        )
    return None


def moved_on(snap: SnapshotFile, ack: AckRecord | None) -> bool:
    """A snapshot newer than the mark read just before it: the session wrote one in
    between (it records the hash before the rename, so reading both again settles it)."""
    if ack is None or not snap.present or snap.problem:
        return False
    return snap.mark.seq > ack.seq or bool(
        ack.snap_sha and snap.sha not in (ack.snap_sha, ack.next_sha)
    )


def read_mark_and_snapshot(
    apath: Path, spath: Path, user: str
) -> tuple[AckRecord | None, str | None, SnapshotFile]:
    """The mark (or why it is unreadable) and then the snapshot, read again while a
    session is seen writing a new snapshot between the two reads."""
    for _ in range(5):
        try:
            ack, bad = read_ack(apath, user), None
        except JournalCorrupt as exc:
            ack, bad = None, str(exc)
        snap = load_snapshot(spath, user)
        if not moved_on(snap, ack):
            break
    return ack, bad, snap


def ahead_problem(spath: Path, apath: Path, mark: Tail, ack: AckRecord) -> str:
    return (
        f"{spath}: covers seq {mark.seq}, but {apath.name} records only {ack.seq} "
        "acknowledged events"
    )


def missing_journal_problem(
    jpath: Path, spath: Path, apath: Path, snap: SnapshotFile, ack: AckRecord | None
) -> str | None:
    if ack is not None and ack.seq:
        return (
            f"{jpath}: missing, but {apath.name} records {ack.seq} acknowledged events: "
            "the journal was deleted"
        )
    if snap.mark.seq:
        return (
            f"{jpath}: missing, but {spath.name} covers {snap.mark.seq} events: "
            "the journal was deleted"
        )
    return None
