"""Read-mostly documents (QA results, dataset-version manifests) in atomic TinyDB files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from .atomic import AtomicJSONStorage, writer_lock


class Documents:
    """A named collection of JSON documents keyed by `name`."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _db(self) -> TinyDB:
        return TinyDB(self.path, storage=AtomicJSONStorage)

    def put(self, name: str, doc: dict[str, Any]) -> None:
        with writer_lock(self.path):  # TinyDB reads, changes and rewrites the whole file
            self._db().table("docs").upsert({**doc, "name": name}, Query().name == name)

    def get(self, name: str) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        return self._db().table("docs").get(Query().name == name)

    def all(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return list(self._db().table("docs").all())

    def names(self) -> list[str]:
        return [d["name"] for d in self.all()]
