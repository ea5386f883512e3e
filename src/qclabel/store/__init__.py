"""Persistence behind one interface; the only package that imports TinyDB.

    store = Store(project_root)
    store.catalog                 the image catalog
    store.open_session(user)      the one writer of that user's journal
    store.state(user)             any user's replayed labels (no lock)
    store.documents("versions")   read-mostly document collections
"""

from __future__ import annotations

from pathlib import Path

from .catalog import Catalog
from .documents import Documents
from .labels import LabelState, load_state, users
from .session import AnnotatorSession


class Store:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.labels_dir = self.root / "labels"
        self.catalog = Catalog(self.root / "catalog.sqlite")

    def open_session(self, user: str) -> AnnotatorSession:
        return AnnotatorSession(self.labels_dir, user)

    def users(self) -> list[str]:
        return users(self.labels_dir)

    def state(self, user: str, verify: bool = True) -> LabelState:
        return load_state(self.labels_dir, user, verify=verify)

    def all_states(self) -> dict[str, LabelState]:
        return {u: self.state(u) for u in self.users()}

    def documents(self, name: str) -> Documents:
        return Documents(self.root / f"{name}.json")


__all__ = ["Store", "AnnotatorSession", "LabelState", "Catalog", "Documents"]
