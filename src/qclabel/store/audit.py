"""Audit trail: verify every journal's hash chain and print who labeled what."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..core.kinds import KINDS
from ..errors import JournalCorrupt
from .journal import Tail, Torn, genesis, read_events
from .labels import _load_snapshot, check_snapshot_mark, journal_path, snapshot_path, users


@dataclass
class Finding:
    file: str
    ok: bool
    events: int
    message: str


def verify_journal(labels_dir: Path, user: str) -> Finding:
    """Replay the whole chain from its first line, then hold it against the snapshot."""
    path = journal_path(labels_dir, user)
    tail, count, note = Tail(0, 0, genesis(user)), 0, ""
    try:
        snap_entries, mark = _load_snapshot(snapshot_path(labels_dir, user), user, strict=True)
    except JournalCorrupt as exc:
        return Finding(str(path), False, 0, str(exc))
    replayed: dict[tuple[str, str], Any] = {}
    at_mark: dict[tuple[str, str], Any] | None = {} if mark.seq == 0 else None
    try:
        for item in read_events(path, tail, user, verify=True):
            if isinstance(item, Torn):
                note = (f"; torn last line at byte {item.offset} ignored "
                        "(a crash mid-write; it was never acknowledged)")
                break
            tail, event = item
            count += 1
            replayed[(event["kind"], event["image"])] = event.get("after")
            if tail.seq == mark.seq:
                at_mark = dict(replayed)
        check_snapshot_mark(snapshot_path(labels_dir, user), path, mark)
    except JournalCorrupt as exc:
        return Finding(str(path), False, count, str(exc))
    problem = _compare_snapshot(labels_dir, user, snap_entries, at_mark)
    if problem:
        return Finding(str(path), False, count, problem)
    return Finding(str(path), True, count, f"OK, {count} events, chain intact{note}")


def _compare_snapshot(labels_dir: Path, user: str, snap: dict[tuple[str, str], Any],
                      at_mark: dict[tuple[str, str], Any] | None) -> str | None:
    """The snapshot must hold exactly what replaying the journal up to its mark gives;
    anything else means the snapshot file was edited."""
    if at_mark is None:  # the mark itself is checked by check_snapshot_mark
        return None
    mine = {k: e["after"] for k, e in snap.items()}
    if mine == at_mark:
        return None
    diff = sorted(k for k in mine.keys() | at_mark.keys() if mine.get(k) != at_mark.get(k))
    kind, image = diff[0]
    return (f"{snapshot_path(labels_dir, user)}: {kind} of image {image} differs from "
            f"the journal ({len(diff)} entries differ): the snapshot was altered")


def verify_all(labels_dir: Path) -> list[Finding]:
    return [verify_journal(labels_dir, u) for u in users(labels_dir)]


def iter_log(labels_dir: Path, image: str | None = None,
             user: str | None = None) -> Iterator[dict[str, Any]]:
    """Every event of the selected journals, oldest first (merged by timestamp)."""
    events: list[dict[str, Any]] = []
    for u in users(labels_dir):
        if user and u != user:
            continue
        start = Tail(0, 0, genesis(u))
        for item in read_events(journal_path(labels_dir, u), start, u, verify=False):
            if isinstance(item, Torn):
                break
            _, event = item
            if image is None or event.get("image", "").startswith(image):
                events.append(event)
    events.sort(key=lambda e: (e["ts"], e["user"], e["seq"]))
    yield from events


def describe(value: Any) -> str:
    """A one-line summary of a label state for the log."""
    if not value:
        return "-"
    if not isinstance(value, dict):
        return str(value)
    parts = []
    for key in ("verdict", "defect_class", "severity", "decision", "outcome"):
        if value.get(key):
            parts.append(str(value[key]))
    for kind in KINDS:
        if value.get(kind.field):
            parts.append(f"{len(value[kind.field])} {kind.counted}")
    if value.get("checks"):
        parts.append(f"{len(value['checks'])} check(s)")
    if value.get("flag") is not None:
        parts.append(f"flagged: {value['flag']}")
    if value.get("skipped"):
        parts.append("skipped")
    return ", ".join(parts) or "-"


def format_event(e: dict[str, Any]) -> str:
    note = f"  note: {e['note']}" if e.get("note") else ""
    return (f"{e['ts']}  {e['user']:<10} {e['kind']:<9} {e['image'][:12]}  "
            f"{describe(e.get('before'))} -> {describe(e.get('after'))}{note}")
