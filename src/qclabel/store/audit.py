"""Audit trail: verify every journal's hash chain, its acknowledgement mark and its
snapshot, and print who labeled what.

`verify_journal` replays the chain from the first line (every line's hash, link, owner
and exact bytes), holds the last acknowledged line against the mark (`USER.ack`) and the
snapshot's content against the replay up to the line it covers, and notices any of the
three files missing while the others say it should exist."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..core.kinds import KINDS
from ..errors import JournalCorrupt
from ..identity import current_user
from .ackmark import AckRecord, ack_path, read_ack
from .journal import Tail, Torn, genesis, line_number, read_events
from .authority import EVENT_ROLES, ROLES_DIR, RoleHistory
from .ownership import ALT, owner_problem
from .labels import SnapshotFile, journal_path, snapshot_path, users
from .replay import Replay, replay
from .replay_checks import (
    ack_problem,
    ahead_problem,
    missing_journal_problem,
    read_mark_and_snapshot,
    snapshot_problem,
)


@dataclass
class Finding:
    file: str
    ok: bool
    events: int
    message: str  # the first problem, or the OK summary
    problems: list[str] = field(default_factory=list)  # every problem, one line each
    verified: bool = True  # False: this OS user may not read the files (file modes)


def verify_journal(labels_dir: Path, user: str, history: RoleHistory | None = None) -> Finding:
    """Replay the whole chain from its first line, then hold it against the mark and
    the snapshot; with `history`, also every event against its author's roles. Files
    this OS user may not read (another annotator's, in a project with a privileged
    group) are a Finding that says so, not verified."""
    try:
        return _verify_journal(Path(labels_dir), user, history)
    except PermissionError:
        jpath = journal_path(Path(labels_dir), user)
        return Finding(str(jpath), True, 0, f"not readable by {current_user()}", [], False)


def _verify_journal(labels_dir: Path, user: str, history: RoleHistory | None) -> Finding:
    jpath = journal_path(labels_dir, user)
    apath, spath = ack_path(labels_dir, user), snapshot_path(labels_dir, user)
    planted = [p for p in (owner_problem(f, (user,)) for f in (jpath, spath, apath)) if p]
    if planted:  # not this user's files: their content proves nothing
        return _finding(jpath, planted, 0, "")
    ack, bad, snap = read_mark_and_snapshot(apath, spath, user)
    mark_bad, problems = bad is not None, [bad] if bad else []
    problems += _snapshot_problems(spath, apath, snap, ack)
    if not jpath.exists():
        missing = missing_journal_problem(jpath, spath, apath, snap, ack)
        problems += [missing] if missing else []
        return _finding(jpath, problems, 0, "")
    unauthorized: list[str] = []

    def check(line: int, event: dict[str, Any]) -> None:
        if history is not None and not history.allows(user, event["kind"], event["ts"]):
            unauthorized.append(
                f"{jpath}:{line}: {event['kind']} event on image {event['image']} by {user}, "
                f"who did not hold the {EVENT_ROLES[event['kind']]} role at {event['ts']}: "
                "not honoured by any reader"
            )

    rep = replay(
        jpath,
        Tail(0, 0, genesis(user)),
        user,
        {},
        end=ack.offset if ack else None,
        want=(snap.mark.seq, ack.seq if ack else -1),
        keep=snap.mark.seq,
        visit=check,
    )
    problems += unauthorized
    journal_problem = rep.problem or (ack_problem(jpath, apath, ack, rep) if ack else None)
    problems += [journal_problem] if journal_problem else []
    if snap.present and not snap.problem and snap.mark.seq:
        problems += _against_snapshot(jpath, spath, snap, rep, explained=bool(journal_problem))
    if ack is None and not mark_bad and (snap.acked or rep.marked):
        problems.append(
            f"{apath}: missing, but {jpath.name} was written with "
            "acknowledgement marks: it was deleted"
        )
    return _finding(jpath, problems, rep.lines, _torn_note(jpath, rep, ack))


def _finding(jpath: Path, problems: list[str], events: int, note: str) -> Finding:
    if problems:
        return Finding(str(jpath), False, events, problems[0], problems)
    return Finding(str(jpath), True, events, f"OK, {events} events, chain intact{note}")


def _snapshot_problems(
    spath: Path, apath: Path, snap: SnapshotFile, ack: AckRecord | None
) -> list[str]:
    problem = snapshot_problem(spath, apath, snap, ack)
    if problem is None and ack is not None and snap.mark.seq > ack.seq:
        problem = ahead_problem(spath, apath, snap.mark, ack)
    return [problem] if problem else []


def _against_snapshot(
    jpath: Path, spath: Path, snap: SnapshotFile, rep: Replay, explained: bool
) -> list[str]:
    """The journal must still hold the line the snapshot ends at, and the snapshot must
    hold exactly what replaying the journal up to it gives."""
    found, mark = rep.found.get(snap.mark.seq), snap.mark
    if found is None:
        if explained:  # the replay stopped (or the journal ends) before that line
            return []
        line = line_number(jpath, rep.tail.offset)
        return [
            f"{jpath}:{line}: lines missing from line {line} on: {spath.name} covers "
            f"{mark.seq} events, the journal ends after seq {rep.tail.seq}"
        ]
    if found.tail != mark:
        return [
            f"{jpath}:{found.line(jpath)}: does not match {spath.name}: the line with seq "
            f"{mark.seq}, which the snapshot covers up to, was rewritten"
        ]
    mine = {k: e["after"] for k, e in snap.entries.items()}
    theirs = {k: e["after"] for k, e in (found.entries or {}).items()}
    if mine == theirs:
        return []
    diff = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    kind, image = diff[0]
    return [
        f"{spath}: {kind} of image {image} differs from the journal ({len(diff)} "
        "entries differ): the snapshot was altered"
    ]


def _torn_note(jpath: Path, rep: Replay, ack: AckRecord | None) -> str:
    torn = rep.torn
    if torn is None or rep.problem:
        return ""
    line = line_number(jpath, torn.offset)
    if ack is None:
        return (
            f"; torn last line {line} ignored (a crash mid-write; this journal has no "
            "acknowledgement mark yet)"
        )
    return (
        f"; {len(torn.data)} bytes from line {line} on were never acknowledged "
        "(a crash mid-write or a failed save): ignored, and moved aside by the next "
        "session"
    )


def verify_all(labels_dir: Path, history: RoleHistory | None = None) -> list[Finding]:
    """Every journal of the folder, then every file planted under a user's name that
    the journals' findings do not name already (a lock, or the files a user's session
    moved aside from)."""
    labels_dir = Path(labels_dir)
    found = [verify_journal(labels_dir, u, history) for u in users(labels_dir)]
    named = {p.split(":", 1)[0] for f in found for p in f.problems}
    for path in _named_files(labels_dir):
        user = _user_of(path.name).split(ALT, 1)[0]
        problem = owner_problem(path, (user,))
        if problem and str(path) not in named:
            found.append(Finding(str(path), False, 0, problem, [problem]))
    return found


_SUFFIXES = (".snapshot.json", ".jsonl", ".ack", ".lock")


def _user_of(name: str) -> str:
    return next(name[: -len(s)] for s in _SUFFIXES if name.endswith(s))


def _named_files(folder: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [folder / n for n in names if not n.startswith(".") and n.endswith(_SUFFIXES)]


def verify_project(root: Path, history: RoleHistory) -> list[Finding]:
    """The label journals (each event against its author's roles), the admins' role
    journals, and the role changes the history could not honour."""
    root = Path(root)
    found = verify_all(root / "labels", history) + verify_all(root / ROLES_DIR)
    seen = {p for f in found for p in f.problems}
    extra = [p for p in history.findings if p not in seen]
    if extra:
        found.append(Finding(str(root / ROLES_DIR), False, 0, extra[0], extra))
    return found


def iter_log(
    labels_dir: Path, image: str | None = None, user: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every event of the selected journals, oldest first (merged by timestamp)."""
    events: list[dict[str, Any]] = []
    for u in users(labels_dir):
        if user and u != user:
            continue
        jpath = journal_path(labels_dir, u)
        if not jpath.exists():
            continue
        try:
            ack = read_ack(ack_path(labels_dir, u), u)
        except JournalCorrupt:
            ack = None  # `audit verify` reports it; the log shows every complete line
        start = Tail(0, 0, genesis(u))
        end = ack.offset if ack else None  # lines past the mark were never acknowledged
        for item in read_events(jpath, start, u, verify=False, end=end):
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
    return (
        f"{e['ts']}  {e['user']:<10} {e['kind']:<9} {e['image'][:12]}  "
        f"{describe(e.get('before'))} -> {describe(e.get('after'))}{note}"
    )
