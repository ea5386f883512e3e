"""Read-mostly documents (QA results, dataset-version manifests) in atomic TinyDB files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from ..errors import PermissionDenied, StoreWriteError
from .atomic import AtomicJSONStorage, writer_lock


class Documents:
    """A named collection of JSON documents keyed by `name`.

    `group_of`: a folder whose readers are the only ones who may read these documents
    (`labels/`: the dataset versions hold final labels, `labels/USER.ui.json` where its
    user is). The file is written mode 0640 in that folder's group (the privileged
    group, README: guarantees); reading it from outside is one PermissionDenied line."""

    def __init__(self, path: Path, group_of: Path | None = None):
        self.path = Path(path)
        self.group_of = group_of

    def _private(self) -> tuple[int, int] | None:
        if self.group_of is None:
            return None
        try:
            return 0o640, os.stat(self.group_of).st_gid
        except OSError:
            return None

    def _db(self) -> TinyDB:
        return TinyDB(self.path, storage=AtomicJSONStorage, private=self._private())

    def _refused(self) -> PermissionDenied:
        return PermissionDenied(
            f"{self.path} is readable by the privileged group only (it holds final "
            "labels, blind dual annotation): an adjudicator or admin reads it"
        )

    def put(self, name: str, doc: dict[str, Any]) -> None:
        with writer_lock(self.path):  # TinyDB reads, changes and rewrites the whole file
            self._db().table("docs").upsert({**doc, "name": name}, Query().name == name)

    def get(self, name: str) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            return self._db().table("docs").get(Query().name == name)
        except PermissionError:
            raise self._refused() from None

    def all(self) -> list[dict[str, Any]]:
        return self.parse(self.raw())

    def raw(self) -> bytes:
        """The file's bytes (b"" when there is none): what `parse` reads the documents
        from, and what a reader keying something derived from them hashes."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except PermissionError:
            raise self._refused() from None

    def parse(self, raw: bytes) -> list[dict[str, Any]]:
        """The documents in `raw`, in the order TinyDB's `all()` gives them (its table's
        order in the file), without wrapping each in a TinyDB Document."""
        if not raw.strip():
            return []
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise StoreWriteError(
                f"{self.path} is not valid JSON ({exc.msg} at byte {exc.pos}); "
                "restore it from a backup"
            ) from exc
        table = data.get("docs", {}) if isinstance(data, dict) else None
        if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
            raise StoreWriteError(
                f"{self.path} is not a table of documents; restore it from a backup"
            )
        return list(table.values())

    def names(self) -> list[str]:
        return [d["name"] for d in self.all()]
