"""Persistence behind one interface; the only package that imports TinyDB.

store = Store(project_root)
store.catalog                 the image catalog
store.open_session(user)      the one writer of that user's journal
store.state(user)             any user's replayed labels (no lock)
store.all_states()            everyone's, each event honoured only if its author
                              held the role it needs at its time (authority.py)
store.documents("versions")   read-mostly document collections
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from ..identity import current_user
from .authority import ROLES_DIR, RoleHistory, authorize, load_history
from .catalog import Catalog
from .documents import Documents
from .ackmark import ack_path
from .labels import LabelState, journal_path, load_state, users
from .session import AnnotatorSession


# Documents only the readers of labels/ may read: the versions' final labels. (Others,
# such as imported predictions, every annotator reads.)
PRIVATE_DOCUMENTS = ("versions",)


class Store:
    def __init__(self, root: Path, baseline: dict[str, Any] | None = None):
        self.root = Path(root)
        self.labels_dir = self.root / "labels"
        self.roles_dir = self.root / ROLES_DIR
        self.catalog = Catalog(self.root / "catalog.sqlite")
        self._baseline = baseline
        self._history: tuple[tuple[Any, ...], RoleHistory] | None = None

    def open_session(self, user: str) -> AnnotatorSession:
        return AnnotatorSession(self.labels_dir, user)

    def role_session(self, admin: str) -> AnnotatorSession:
        """The admin's role journal, waiting for the admin's other role changes (one
        lock, then the caller re-reads the history and appends)."""
        return AnnotatorSession(self.roles_dir, admin, wait=True)

    def users(self) -> list[str]:
        """Everyone whose labels this OS user may read. With the privileged group
        (README: guarantees) an annotator can neither list labels/ nor read another
        journal, so an annotator's readers see the annotator's own labels only."""
        names = set(users(self.labels_dir))
        me = current_user()
        if me not in names and journal_path(self.labels_dir, me).exists():
            names.add(me)
        return sorted(n for n in names if _readable(self.labels_dir, n))

    def state(self, user: str, verify: bool = True) -> LabelState:
        state = load_state(self.labels_dir, user, verify=verify)
        authorize({user: state}, self.authority())
        return state

    def all_states(self) -> dict[str, LabelState]:
        states = {u: load_state(self.labels_dir, u) for u in self.users()}
        authorize(states, self.authority())
        return states

    def authority(self) -> RoleHistory:
        """The role history, read again whenever a role journal changed."""
        key = _stamp(self.roles_dir)
        if self._history is None or self._history[0] != key:
            self._history = (key, load_history(self.root, self._roles_baseline()))
        return self._history[1]

    def _roles_baseline(self) -> dict[str, Any]:
        if self._baseline is not None:
            return self._baseline
        try:  # a Store opened without its Project: the config's table, if it is trusted
            from .ownership import project_file_problem

            path = self.root / "qclabel.toml"
            if project_file_problem(path):
                return {}
            with open(path, "rb") as fh:
                result: dict[str, Any] = tomllib.load(fh).get("roles", {})
                return result
        except (OSError, tomllib.TOMLDecodeError):
            return {}

    def documents(self, name: str) -> Documents:
        private = name in PRIVATE_DOCUMENTS or name.startswith("labels/")
        return Documents(self.root / f"{name}.json", self.labels_dir if private else None)


def _readable(labels_dir: Path, user: str) -> bool:
    return all(
        os.access(p, os.R_OK) or not p.exists()
        for p in (journal_path(labels_dir, user), ack_path(labels_dir, user))
    )


def _stamp(folder: Path) -> tuple[Any, ...]:
    """The role journals' and marks' names, inodes, sizes and times: the change time
    is what `touch -d` cannot put back, so a journal rewritten in place at its old size
    and time is read again."""
    try:
        with os.scandir(folder) as it:
            return tuple(
                sorted(
                    (
                        e.name,
                        e.inode(),
                        e.stat().st_size,
                        e.stat().st_mtime_ns,
                        e.stat().st_ctime_ns,
                    )
                    for e in it
                    if e.name.endswith((".jsonl", ".ack"))
                )
            )
    except OSError:
        return ()


__all__ = ["Store", "AnnotatorSession", "LabelState", "Catalog", "Documents"]
