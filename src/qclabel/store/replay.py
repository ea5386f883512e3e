"""Reading one annotator's state: the snapshot, then the journal up to the
acknowledgement mark, with every check that costs no more than reading them.

Readers take no lock and never raise for damage: status, QA and the other annotators'
apps keep working when one journal is damaged, and `LabelState.damage` says what is
wrong (one line each, naming the file and the line as a person counts lines). The state
then holds what could still be verified. The mark is read before the journal: a session
advances it only after the journal line is durable, so the journal is never shorter
than a mark read earlier, unless it was damaged. `audit.py` checks the rest (every line
from the first, and the snapshot's content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import JournalCorrupt
from .ackmark import AckRecord, ack_path
from .journal import FORMAT, Tail, Torn, genesis, line_number, read_events
from .ownership import owner_problem
from .replay_checks import (
    ack_problem,
    ahead_problem,
    missing_journal_problem,
    read_mark_and_snapshot,
    snapshot_problem,
)
from .labels import (
    Damage,
    Key,
    LabelState,
    SnapshotFile,
    journal_path,
    snapshot_mark_problem,
    snapshot_path,
)


def load_state(labels_dir: Path, user: str, verify: bool = True) -> LabelState:
    """Snapshot + journal up to the mark. A line the writer is appending right now lies
    past the mark and is left out, like a line torn by a crash."""
    return _Reader(Path(labels_dir), user, verify).load()


def refuse_damage(states: dict[str, LabelState], what: str) -> None:
    """Data that is frozen and handed on (a dataset version, an export) is not built on
    a journal whose checks failed: raise JournalCorrupt naming the first finding. A file
    planted under someone's name does not stop it: nothing of it is read (else any
    group member could stop every export by planting one)."""
    for state in states.values():
        damage = [d for d in state.damage if d.part != "owner"]
        if damage:
            raise JournalCorrupt(
                f"{damage[0]}; {what} is not built while a journal has "
                "audit findings (`qclabel audit verify` lists them)"
            )


@dataclass
class Found:
    """The line holding the wanted seq (e.g. the one a snapshot covers up to)."""

    tail: Tail  # where that line ends, its seq and hash
    entries: dict[Key, dict[str, Any]] | None  # the state right after it, when kept

    def line(self, jpath: Path) -> int:
        return line_number(jpath, self.tail.offset) - 1


@dataclass
class Replay:
    tail: Tail
    torn: Torn | None = None
    problem: str | None = None
    marked: bool = False  # saw a line written with acknowledgement marks
    found: dict[int, Found] = field(default_factory=dict)  # by seq, for the wanted seqs
    lines: int = 0


def replay(
    jpath: Path,
    start: Tail,
    user: str,
    entries: dict[Key, dict[str, Any]],
    verify: bool = True,
    end: int | None = None,
    want: tuple[int, ...] = (),
    keep: int | None = None,
    visit: Callable[[int, dict[str, Any]], None] | None = None,
) -> Replay:
    """Apply the journal's lines from `start` (up to `end`) to `entries`; stop at the
    first bad line and say why. Line numbers are exact when `start` is the genesis.
    Where the lines with the seqs in `want` are is noted; for seq `keep` the state
    right after it too (the audit holds it against the snapshot). `visit(line, event)`
    sees every replayed event (the audit checks its author's authority)."""
    rep = Replay(start)
    try:
        for item in read_events(jpath, start, user, verify=verify, end=end):
            if isinstance(item, Torn):
                rep.torn = item
                break
            tail, event = item
            entries[(event["kind"], event["image"])] = {
                "after": event.get("after"),
                "ts": event["ts"],
                "seq": event["seq"],
            }
            rep.tail, rep.lines = tail, rep.lines + 1
            if visit is not None:
                visit(rep.lines, event)
            rep.marked = rep.marked or event.get("v") == FORMAT
            if event["seq"] in want:
                rep.found[event["seq"]] = Found(
                    tail, dict(entries) if event["seq"] == keep else None
                )
    except JournalCorrupt as exc:
        rep.problem = str(exc)
    except (KeyError, TypeError) as exc:  # hashes right but lacks a field qclabel writes
        rep.problem = (
            f"{jpath}:{line_number(jpath, rep.tail.offset)}: not a journal event (no {exc})"
        )
    return rep


class _Reader:
    def __init__(self, labels_dir: Path, user: str, verify: bool):
        self.user, self.verify = user, verify
        self.jpath = journal_path(labels_dir, user)
        self.spath = snapshot_path(labels_dir, user)
        self.apath = ack_path(labels_dir, user)
        self.damage: list[Damage] = []
        self.mark_bad = False

    def note(self, part: str, message: str) -> None:
        self.damage.append(Damage(part, message))

    def load(self) -> LabelState:
        planted = [
            p
            for p in (owner_problem(f, (self.user,)) for f in (self.jpath, self.spath, self.apath))
            if p
        ]
        if planted:  # someone else's file under this user's name: none of it counts
            self.damage += [Damage("owner", p) for p in planted]
            empty = Tail(0, 0, genesis(self.user))
            return LabelState(self.user, {}, empty, None, damage=self.damage)
        # the mark before the journal, see the module docstring
        ack, bad, snap = read_mark_and_snapshot(self.apath, self.spath, self.user)
        if bad:
            self.note("mark", bad)
            self.mark_bad = True
        snap = self.check_snapshot(snap, ack)
        if not self.jpath.exists():
            return self.missing_journal(ack, snap)
        return self.replay_journal(ack, snap)

    def check_snapshot(self, snap: SnapshotFile, ack: AckRecord | None) -> SnapshotFile:
        problem = snapshot_problem(self.spath, self.apath, snap, ack)
        if problem is None and ack is not None and snap.mark.seq > ack.seq:
            problem = ahead_problem(self.spath, self.apath, snap.mark, ack)
        if problem:
            self.note("snapshot", problem)
            if snap.present and not snap.problem:  # readable, but not the one written
                return SnapshotFile({}, Tail(0, 0, genesis(self.user)), True)
        return snap

    def missing_journal(self, ack: AckRecord | None, snap: SnapshotFile) -> LabelState:
        problem = missing_journal_problem(self.jpath, self.spath, self.apath, snap, ack)
        if problem:
            self.note("journal", problem)
        return LabelState(
            self.user,
            snap.entries,
            snap.mark,
            None,
            snapshot=snap.mark,
            damage=self.damage,
            ack=ack,
        )

    def replay_journal(self, ack: AckRecord | None, snap: SnapshotFile) -> LabelState:
        start, entries, mark_problem = snap.mark, snap.entries, None
        if self.verify and start.seq:
            mark_problem = snapshot_mark_problem(self.spath, self.jpath, start)
            if mark_problem:  # replay the journal alone, which names the line
                start, entries = Tail(0, 0, genesis(self.user)), {}
        rep = replay(
            self.jpath,
            start,
            self.user,
            entries,
            self.verify,
            end=ack.offset if ack else None,
            want=(snap.mark.seq, ack.seq if ack else -1),
        )
        problem = rep.problem
        if problem is None and ack is not None and self.verify:
            problem = ack_problem(self.jpath, self.apath, ack, rep)
        if problem:
            self.note("journal", problem)
        elif mark_problem:
            self.note("journal", self.mark_message(snap.mark, rep, mark_problem))
        if ack is None and not self.mark_bad and (snap.acked or rep.marked):
            self.note(
                "mark",
                f"{self.apath}: missing, but {self.jpath.name} was written with "
                "acknowledgement marks: it was deleted",
            )
        return LabelState(
            self.user,
            entries,
            rep.tail,
            None if problem else rep.torn,
            snapshot=start,
            damage=self.damage,
            ack=ack,
        )

    def mark_message(self, mark: Tail, rep: Replay, fallback: str) -> str:
        """The journal replays cleanly on its own, yet not into the snapshot's mark."""
        if mark.seq in rep.found:
            line = rep.found[mark.seq].line(self.jpath)
            return (
                f"{self.jpath}:{line}: does not match {self.spath.name}: the line with "
                f"seq {mark.seq}, which the snapshot covers up to, was rewritten"
            )
        if rep.tail.seq < mark.seq:
            line = line_number(self.jpath, rep.tail.offset)
            return (
                f"{self.jpath}:{line}: lines missing from line {line} on: "
                f"{self.spath.name} covers {mark.seq} events, the journal ends after "
                f"seq {rep.tail.seq}"
            )
        return fallback
