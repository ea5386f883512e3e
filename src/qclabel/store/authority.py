"""Authority in the data: who held which role when, and which events count.

Role changes are events too: `qclabel role add/remove` appends a `role` event to the
acting admin's own role journal, `roles/ADMIN.jsonl` (the same hash-chained, owner-checked
journal format as the label journals). The history starts from the `[roles]` table of
qclabel.toml, which only the project owner writes (ownership.py), held since the project
began; each later change counts only if its author held the admin role at its time.

So "did USER hold ROLE at time T" is answered from files nobody else can replace, and
every reader honours an event only if its author held the role its kind needs
(`EVENT_ROLES`) at the event's time. `audit verify` names every event that does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import JournalCorrupt
from .ackmark import ack_path, read_ack
from .journal import Tail, Torn, genesis, read_events
from .ownership import owner_problem

# One table: the event kind -> the role its author must hold (an admin holds every
# role). Production QA's kinds (qa/kinds.py) are the last three; `label` and
# `consensus` need none.
EVENT_ROLES: dict[str, str] = {
    "final": "adjudicator",
    "review": "reviewer",
    "golden": "admin",
    "gate_override": "admin",
    "pipeline": "admin",
    "role": "admin",
}
ROLE = "role"
ROLES_DIR = "roles"
NOW = "~"  # sorts after every ISO timestamp: "held now"


@dataclass(frozen=True)
class Change:
    user: str
    role: str
    held: bool
    ts: str
    by: str
    where: str  # FILE:LINE of the event


@dataclass
class RoleHistory:
    baseline: dict[str, list[str]]
    changes: dict[tuple[str, str], list[Change]] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)  # refused changes, planted files

    def held(self, user: str, role: str, ts: str = NOW) -> bool:
        """Did `user` hold `role` (or admin, which holds every role) at `ts`?"""
        return self._has(user, "admin", ts) or (role != "admin" and self._has(user, role, ts))

    def _has(self, user: str, role: str, ts: str) -> bool:
        state = user in self.baseline.get(role, ())
        for change in self.changes.get((user, role), ()):
            if change.ts > ts:
                break
            state = change.held
        return state

    def users(self) -> set[str]:
        names = {u for names in self.baseline.values() for u in names}
        return names | {u for u, _ in self.changes}

    def current(self, roles: Iterable[str]) -> dict[str, list[str]]:
        """The table as it stands now (admins listed under admin only)."""
        everyone = sorted(self.users())
        return {r: [u for u in everyone if self._has(u, r, NOW)] for r in roles}

    def allows(self, user: str, kind: str, ts: str) -> bool:
        role = EVENT_ROLES.get(kind)
        return role is None or self.held(user, role, ts)


def load_history(root: Path, baseline: dict[str, Any]) -> RoleHistory:
    history = RoleHistory({r: list(v) for r, v in baseline.items() if isinstance(v, list)})
    events: list[tuple[str, str, int, str, dict[Any, Any]]] = []
    for user, path in role_journals(Path(root) / ROLES_DIR):
        events += _read(path, user, history.findings)
    for ts, by, _, where, event in sorted(events, key=lambda e: e[:3]):
        after = event.get("after") or {}
        target, role = after.get("user"), after.get("role")
        if not isinstance(target, str) or not isinstance(role, str):
            history.findings.append(f"{where}: not a role change event; ignored")
        elif not history.held(by, "admin", ts):
            history.findings.append(
                f"{where}: {by} changed the {role} role of {target} at "
                f"{ts} without holding the admin role then; ignored"
            )
        else:
            history.changes.setdefault((target, role), []).append(
                Change(target, role, bool(after.get("held")), ts, by, where)
            )
    return history


def role_journals(roles_dir: Path) -> list[tuple[str, Path]]:
    """Each admin's role journal: USER.jsonl, or USER@TAG.jsonl once USER's session
    moved aside from a file planted under USER's name (ownership.py), as in labels/."""
    from .labels import journal_path, users

    out = [(u, journal_path(roles_dir, u)) for u in users(roles_dir)]
    return [(u, p) for u, p in out if p.exists()]


def _read(
    path: Path, user: str, findings: list[str]
) -> list[tuple[str, str, int, str, dict[Any, Any]]]:
    """Every acknowledged event of one admin's role journal that the chain vouches for."""
    for p in (path, ack_path(path.parent, user)):
        problem = owner_problem(p, (user,))
        if problem:
            findings.append(problem)
            return []
    try:
        ack = read_ack(ack_path(path.parent, user), user)
    except JournalCorrupt as exc:
        findings.append(str(exc))
        ack = None
    out = []
    try:
        for n, item in enumerate(
            read_events(path, Tail(0, 0, genesis(user)), user, end=ack.offset if ack else None),
            start=1,
        ):
            if isinstance(item, Torn):
                break
            _, event = item
            if event.get("kind") == ROLE:
                out.append((event["ts"], user, event["seq"], f"{path}:{n}", event))
    except (JournalCorrupt, OSError) as exc:
        findings.append(str(exc))
    return out


def authorize(states: dict[Any, Any], history: RoleHistory) -> None:
    """Drop from each state every entry whose author lacked the role for it at its
    time, keeping what was dropped in `state.unauthorized` for status and audit."""
    for user, state in states.items():
        # most entries are labels, which need no role: only the others are looked up
        bad = [
            key
            for key, e in state.entries.items()
            if key[0] in EVENT_ROLES and not history.allows(user, key[0], e["ts"])
        ]
        for key in bad:
            entry = state.entries.pop(key)
            state.unauthorized.append((key[0], key[1], entry["seq"], entry["ts"]))
