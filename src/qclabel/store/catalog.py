"""The image catalog: one SQLite file (`catalog.sqlite`), indexed, appended in batches.

Reads are indexed queries (by id, name, position, lot/station/camera; counts; ordered
iteration in batches), so a command pays for what it shows, not for the catalog.
Writes go only through `add`/`update`: one fsynced transaction each, under the writer
lock (`catalog.sqlite.lock`); the file is never replaced whole (but by catalog_migrate.py),
so its owner stays who created it. Readers take no lock of ours.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, NamedTuple

from ..core.model import ImageRecord
from ..errors import StoreWriteError
from . import catalog_db, catalog_migrate
from .catalog_columns import order_columns
from .atomic import writer_lock
from .catalog_lookup import Lookups

if TYPE_CHECKING:
    from .catalog_write import CatalogWrite

BATCH = 2000
PAGE = 5000  # rows per query of `in_order`


class Light(NamedTuple):
    """An image's id, position and manufacturing fields: what plans and queues group
    by, a fraction of the cost of a whole ImageRecord (no EXIF, no dataclass)."""

    id: str
    seq: int
    fields: dict[str, str]


ROOT = os.geteuid() == 0


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class Catalog(Lookups):
    """Images in ingest order (seq 1..n). Whole-catalog lists are cached per change."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._con: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._version: tuple[int, int] | None = None
        self._ids: list[str] | None = None
        self._idset: set[str] | None = None
        self._records: dict[str, ImageRecord] | None = None
        self._light: list[Light] | None = None
        self._opened: tuple[int, int] | None = None  # the file read (None: none there)

    @property
    def file(self) -> Path:
        """The file the catalog is read from: `catalog.sqlite`, or an earlier release's
        `catalog.json` until it is migrated (what ownership checks look at)."""
        legacy = catalog_migrate.legacy_path(self.path)
        return legacy if not self.path.exists() and legacy.exists() else self.path

    # -- connections ------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection | None:
        if self._con is not None and _identity(self.path) != self._opened:
            self.reload()  # another file in its place (a restored backup, a migration)
        if self._con is None:
            legacy = catalog_migrate.legacy_path(self.path)
            if not self.path.exists() and legacy.exists():
                if catalog_migrate.may_migrate(legacy):
                    catalog_migrate.migrate(self.path)
                else:
                    self._con, self._opened = catalog_migrate.in_memory(legacy), None
                    return self._con
            if not self.path.exists():
                return None  # an empty catalog: reading creates no file
            before = _identity(self.path)
            self._con = catalog_db.open_reader(self.path)
            # replaced while it was opened: which file is open is not known, reopen next
            self._opened = before if _identity(self.path) == before else (-1, -1)
        return self._con

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            con = self._reader()
            if con is None:
                return []
            if ROOT:  # SQLite run by root hands any journal it opens to the file's owner
                self._check_journal()
            try:
                return con.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if not catalog_db.is_hot_journal(exc):
                    raise
            self._recover()
            return self._reader().execute(sql, args).fetchall()  # type: ignore[union-attr]

    def _check_journal(self) -> None:
        if self.path.exists():
            try:
                catalog_db.check_journal(self.path)
            except StoreWriteError as exc:
                raise StoreWriteError(f"{exc}; the catalog is not read") from exc

    def _recover(self) -> None:
        """An interrupted write left its journal: a writer rolls it back (never a reader)."""
        try:
            with writer_lock(self.path):
                catalog_db.open_writer(self.path).close()
        except (StoreWriteError, OSError) as exc:
            raise StoreWriteError(
                f"{self.path}: an interrupted write is not rolled back yet "
                f"and this user cannot do it ({exc}); any qclabel command "
                "run by the catalog's owner repairs it"
            ) from exc

    def _fresh(self) -> None:
        """Drop the cached lists when any process committed since they were built."""
        rows = self._query("PRAGMA data_version")
        key = (id(self._con), rows[0][0]) if rows else (0, 0)
        if key != self._version:
            self._version, self._ids, self._idset, self._records = key, None, None, None
            self._light = None

    def reload(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con, self._version, self._opened = None, None, None
            self._ids = self._idset = self._records = self._light = None

    # -- reads ------------------------------------------------------------------------
    def ids(self) -> list[str]:
        with self._lock:
            self._fresh()
            if self._ids is None:  # from the reader's own cache of them: 1M, 0.1 s not 1 s
                self._ids = order_columns(self, "NULL")[0]
            return list(self._ids)

    def ids_after(self, position: int) -> list[str]:
        """Ids of the images after the first `position` (ingested since a count was kept)."""
        return [
            i
            for (i,) in self._query(
                "SELECT id FROM images ORDER BY seq LIMIT -1 OFFSET ?", (max(0, position),)
            )
        ]

    def all(self) -> list[ImageRecord]:
        with self._lock:
            self._fresh()
            if self._records is None:
                self._records = {r.id: r for r in self.iter()}
            return list(self._records.values())

    def light(self) -> list[Light]:
        """Every image as a Light record, in catalog order (cached per change)."""
        with self._lock:
            self._fresh()
            if self._light is None:
                loads = json.loads
                self._light = [
                    Light(i, q, loads(f) if f != "{}" else {})
                    for i, q, f in self._query(
                        "SELECT id, seq, json_extract(doc, '$.fields') FROM images ORDER BY seq"
                    )
                ]
            return self._light

    def select(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query on the `images` table (compact columns for plans)."""
        return self._query(sql, args)

    def iter(self, batch: int = BATCH) -> Iterator[ImageRecord]:
        """Every record in catalog order, `batch` rows at a time (never all in memory)."""
        for doc in self._docs(batch):
            yield catalog_db.record_of(doc)

    def get(self, image_id: str) -> ImageRecord:
        with self._lock:
            self._fresh()
            if self._records is not None:
                return self._records[image_id]
        rows = self._query("SELECT doc FROM images WHERE id = ?", (image_id,))
        if not rows:
            raise KeyError(image_id)
        return catalog_db.record_of(rows[0][0])

    def get_many(self, image_ids: Iterable[str]) -> dict[str, ImageRecord]:
        ids = list(dict.fromkeys(image_ids))
        out: dict[str, ImageRecord] = {}
        for n in range(0, len(ids), 500):
            chunk = ids[n : n + 500]
            rows = self._query(
                f"SELECT id, doc FROM images WHERE id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            out.update((i, catalog_db.record_of(d)) for i, d in rows)
        return {i: out[i] for i in ids if i in out}

    def in_order(self, image_ids: Iterable[str]) -> list[ImageRecord]:
        """The records `get_many(image_ids)` gives, in catalog order. For most of the
        catalog (an export) the table is read in order a page at a time, each page's
        documents parsed as one: not an indexed lookup per id, nor a parse per row."""
        wanted = set(image_ids)
        if len(wanted) * 4 < len(self):
            return sorted(self.get_many(image_ids).values(), key=lambda r: r.seq)
        out: list[ImageRecord] = []
        last = 0
        while True:
            rows = self._query(
                "SELECT seq, id, doc FROM images WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, PAGE),
            )
            out += catalog_db.records_of([(i, d) for _, i, d in rows if i in wanted])
            if len(rows) < PAGE:
                out.sort(key=lambda r: r.seq)  # the documents' own seq, as get_many's
                return out
            last = rows[-1][0]

    def known(self, image_ids: Iterable[str]) -> set[str]:
        """Those of `image_ids` in the catalog (for over an eighth of it: every id at once)."""
        ids, out = list(set(image_ids)), set[str]()
        if len(ids) * 8 > len(self):
            return set(self.ids()).intersection(ids)
        for n in range(0, len(ids), 500):
            chunk = ids[n : n + 500]
            out.update(
                i
                for (i,) in self._query(
                    f"SELECT id FROM images WHERE id IN ({','.join('?' * len(chunk))})",
                    tuple(chunk),
                )
            )
        return out

    def __contains__(self, image_id: object) -> bool:
        if not isinstance(image_id, str):
            return False
        with self._lock:
            self._fresh()
            if self._idset is None and self._ids is not None:
                self._idset = set(self._ids)
            if self._idset is not None:
                return image_id in self._idset
        return bool(self._query("SELECT 1 FROM images WHERE id = ?", (image_id,)))

    def __len__(self) -> int:
        with self._lock:
            self._fresh()
            if self._ids is not None:
                return len(self._ids)
        return self._query("SELECT COUNT(*) FROM images")[0][0] if self._reader() else 0

    # -- the writer -------------------------------------------------------------------
    def add(self, records: Iterable[ImageRecord]) -> list[ImageRecord]:
        """Add new images in one transaction; ids already present are skipped.
        Returns the records actually added (with their catalog sequence numbers)."""
        with self._writer() as con:
            seq = con.execute("SELECT COALESCE(MAX(seq), 0) FROM images").fetchone()[0]
            added, seen = [], set()
            for rec in records:
                if (
                    rec.id in seen
                    or con.execute("SELECT 1 FROM images WHERE id = ?", (rec.id,)).fetchone()
                ):
                    continue
                seq += 1
                rec = ImageRecord.from_dict({**rec.to_dict(), "seq": seq})
                con.execute(catalog_db.INSERT, catalog_db.row_of(rec))
                seen.add(rec.id)
                added.append(rec)
        return added

    def update(self, records: Iterable[ImageRecord]) -> None:
        """Replace known images' records (their position stays); unknown ids are added."""
        with self._writer() as con:
            seq = con.execute("SELECT COALESCE(MAX(seq), 0) FROM images").fetchone()[0]
            for rec in records:
                row = con.execute("SELECT seq FROM images WHERE id = ?", (rec.id,)).fetchone()
                if row is None:
                    seq += 1
                rec = ImageRecord.from_dict({**rec.to_dict(), "seq": row[0] if row else seq})
                con.execute(catalog_db.UPSERT, catalog_db.row_of(rec))

    def _writer(self) -> "CatalogWrite":
        from .catalog_write import CatalogWrite

        return CatalogWrite(self)
