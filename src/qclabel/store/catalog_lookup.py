"""The catalog's lookups by field, name, id prefix and position: indexed queries."""

from __future__ import annotations

from typing import Any, Iterator

from ..core import naming
from ..core.model import ImageRecord
from . import catalog_db


class Lookups:
    """Mixed into Catalog, which provides `_query`, `get` and membership."""

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def get(self, image_id: str) -> ImageRecord:
        raise NotImplementedError

    def __contains__(self, image_id: object) -> bool:
        raise NotImplementedError

    def dicts(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every record as `ImageRecord.to_dict()` gives it, in catalog order, `batch`
        rows at a time: what a listing writes, never the whole catalog in memory."""
        for doc in self._docs(batch):
            yield catalog_db.dict_of(doc)

    def _docs(self, batch: int) -> Iterator[str]:
        """Every record's stored document in catalog order, read `batch` rows at a time."""
        last = 0
        while True:
            rows = self._query(
                "SELECT seq, doc FROM images WHERE seq > ? ORDER BY seq LIMIT ?", (last, batch)
            )
            for _seq, doc in rows:
                yield doc
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def first_per(self, field: str, n: int) -> list[str]:
        """Ids of the first `n` images of each value of an indexed field (no value is a
        value too), in catalog order: index range scans, not a catalog scan."""
        assert field in catalog_db.INDEXED_FIELDS
        values = self._distinct(field)
        rows = []
        for v in values:
            rows += self._query(
                f"SELECT seq, id FROM images WHERE {field} IS ? ORDER BY seq LIMIT ?", (v, n)
            )
        return [i for _, i in sorted(rows)]

    def _distinct(self, field: str) -> list[str | None]:
        """The values of an indexed field, one index seek each: `SELECT DISTINCT` walks
        the whole index (a million entries, 50 ms, for the one task most projects have)."""
        values: list[str | None] = []
        if self._query(f"SELECT 1 FROM images WHERE {field} IS NULL LIMIT 1"):
            values.append(None)
        rows = self._query(f"SELECT MIN({field}) FROM images")
        while rows and rows[0][0] is not None:
            values.append(rows[0][0])
            rows = self._query(
                f"SELECT {field} FROM images WHERE {field} > ? ORDER BY {field} LIMIT 1",
                (rows[0][0],),
            )
        return values

    def at(self, position: int) -> ImageRecord | None:
        """The image at 1-based catalog `position`."""
        if position < 1:
            return None
        rows = self._query("SELECT doc FROM images ORDER BY seq LIMIT 1 OFFSET ?", (position - 1,))
        return catalog_db.record_of(rows[0][0]) if rows else None

    def position(self, image_id: str) -> int | None:
        rows = self._query(
            "SELECT COUNT(*) FROM images WHERE seq <= (SELECT seq FROM images WHERE id = ?)",
            (image_id,),
        )
        return rows[0][0] if rows and rows[0][0] else None

    def find(self, prefix: str) -> ImageRecord | None:
        """Look an image up by id, unique id prefix, or 1-based catalog position."""
        if prefix in self:
            return self.get(prefix)
        if prefix.isdigit() and len(prefix) < 8 and (rec := self.at(int(prefix))):
            return rec
        hits = self._by_prefix(prefix, 2)
        return hits[0] if len(hits) == 1 else None

    def _by_prefix(self, prefix: str, limit: int = -1) -> list[ImageRecord]:
        if not prefix:
            return []
        rows = self._query(
            "SELECT doc FROM images WHERE id >= ? AND id < ? ORDER BY seq LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [catalog_db.record_of(d) for (d,) in rows]

    def named(self, ref: str) -> list[ImageRecord]:
        """What core.naming.find(catalog.all(), ref) gives, through the name index."""
        ref = ref.strip()
        if not ref:
            return []
        base = ref.split(" (page ", 1)[0].rsplit("/", 1)[-1]
        rows = self._query(
            "SELECT doc FROM images WHERE name = ? ORDER BY seq", (catalog_db.key(base),)
        )
        named = [r for r in map(catalog_db.record_of, (d for (d,) in rows)) if naming.names(r, ref)]
        return named or self._by_prefix(ref)

    def where(self, field: str, value: str) -> list[str]:
        """Ids of the images whose `fields[field]` is `value`, in catalog order."""
        if field in catalog_db.INDEXED_FIELDS:
            sql = f"SELECT id FROM images WHERE {field} = ? ORDER BY seq"
        else:
            sql = "SELECT id FROM images WHERE json_extract(doc, ?) = ? ORDER BY seq"
            return [i for (i,) in self._query(sql, (f'$.fields."{field}"', value))]
        return [i for (i,) in self._query(sql, (catalog_db.key(value),))]

    def counts(self, field: str) -> dict[str, int]:
        """Images per value of `fields[field]` (no value: "")."""
        col = field if field in catalog_db.INDEXED_FIELDS else "json_extract(doc, ?)"
        args = () if field in catalog_db.INDEXED_FIELDS else (f'$.fields."{field}"',)
        return {
            v or "": n
            for v, n in self._query(
                f"SELECT {col} AS v, COUNT(*) FROM images GROUP BY v ORDER BY MIN(seq)", args
            )
        }
