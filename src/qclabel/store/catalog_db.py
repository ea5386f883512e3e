"""The catalog's SQLite file: schema, the one locked writer, readers that create nothing.

Why a rollback journal and not WAL (README: the catalog file): a WAL reader, even one
opened read-only, creates `-wal` and `-shm` files under its own name and leaves them,
and every later reader applies the frames it finds in `-wal`. In a shared project
folder a group member could so write catalog rows everybody reads, and the project
owner could no longer write. With the rollback journal a reader opened `mode=ro` only
takes a shared lock on the file and creates nothing; the journal exists while the
writer commits and is rolled back only by a writer, after checking who made it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

from ..core.assembled import assembled, plain
from ..core.model import ImageRecord
from ..errors import StoreWriteError

SCHEMA_VERSION = 1
# Fields with an index of their own: what queues and reports filter on. `images_order`
# holds them with the id in catalog order: plans and queues read 1M rows of it in a
# fraction of a second, where a scan of the table reads every record's JSON.
INDEXED_FIELDS = ("lot", "station", "camera", "task")
BUSY_MS = 60_000  # a writer waits for a long read (and a reader for a commit) this long
WRITER_PRAGMAS = ("PRAGMA journal_mode=DELETE", "PRAGMA synchronous=FULL")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS images (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    {", ".join(f"{f} TEXT" for f in INDEXED_FIELDS)},
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_name ON images(name);
CREATE INDEX IF NOT EXISTS images_order ON images(seq, id, {", ".join(INDEXED_FIELDS)});
{"".join(f"CREATE INDEX IF NOT EXISTS images_{f} ON images({f});" for f in INDEXED_FIELDS)}
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def base_name(source: str, file: str, image_id: str) -> str:
    """The file name people know an image by (core.naming.image_name without the page)."""
    source = source.replace("\\", "/")
    return source.rsplit("/", 1)[-1] or file.rsplit("/", 1)[-1] or image_id


def key(text: str | None) -> str | None:
    """An index key SQLite can store: file names that are not UTF-8 (undecodable bytes
    arrive as lone surrogates) get their surrogates spelled out, the same way on
    insert and on lookup."""
    return None if text is None else text.encode("utf-8", "backslashreplace").decode()


def row_of(rec: ImageRecord) -> tuple[Any, ...]:
    d = rec.to_dict()
    fields = rec.fields or {}
    return (
        rec.seq,
        rec.id,
        key(base_name(rec.source, rec.file, rec.id)),
        *(key(fields.get(f) or None) for f in INDEXED_FIELDS),  # "" and absent alike
        json.dumps(d, separators=(",", ":")),
    )  # ASCII: surrogates survive as \udcxx


INSERT = (
    f"INSERT INTO images (seq, id, name, {', '.join(INDEXED_FIELDS)}, doc) "
    f"VALUES ({', '.join('?' * (4 + len(INDEXED_FIELDS)))})"
)
UPSERT = INSERT.replace("INSERT", "INSERT OR REPLACE", 1)


def record_of(doc: str) -> ImageRecord:
    return _record(json.loads(doc))


_FIELDS = tuple(ImageRecord.__dataclass_fields__)
_DIRECT = plain(ImageRecord, _FIELDS)


def _record(d: Any) -> ImageRecord:
    """`ImageRecord.from_dict(d)`. A document with every field in field order (what
    `row_of` writes) gets them set on the record directly (core.assembled: half of
    reading 100k records otherwise), the same attributes with the same values."""
    if _DIRECT and type(d) is dict and tuple(d) == _FIELDS:
        if d["window"]:
            d["window"] = tuple(d["window"])
        if d["dpi"]:
            d["dpi"] = tuple(d["dpi"])
        return assembled(ImageRecord, d.items())
    return ImageRecord.from_dict(d)


def records_of(rows: list[tuple[str, str]]) -> list[ImageRecord]:
    """`[record_of(doc) for _id, doc in rows]`, the documents parsed as one JSON array
    (one parse instead of one per row). Each document must give one object with its
    row's id, else (a damaged document) every row is parsed on its own, which raises
    what `record_of` raises."""
    try:
        docs = json.loads("[" + ",".join([d for _, d in rows]) + "]")
    except (ValueError, TypeError):
        docs = None
    if (
        type(docs) is not list
        or len(docs) != len(rows)
        or any(type(d) is not dict or d.get("id") != i for d, (i, _) in zip(docs, rows))
    ):
        return [record_of(doc) for _, doc in rows]
    return [_record(d) for d in docs]


def dict_of(doc: str) -> dict[str, Any]:
    """`record_of(doc).to_dict()` without the record: a document written by `row_of`
    already is that dict (same keys, same order); any other goes through the record."""
    d: dict[str, Any] = json.loads(doc)
    if tuple(d) == _FIELDS and _as_listed(d["window"]) and _as_listed(d["dpi"]):
        return d
    return ImageRecord.from_dict(d).to_dict()


def _as_listed(pair: Any) -> bool:
    """Whether to_dict writes `pair` (a window or dpi as stored) back as it is: None,
    or a list that is not empty (to_dict lists a tuple of it and writes None for
    anything empty; a string or table would come back as the list of its items)."""
    return pair is None or (type(pair) is list and len(pair) > 0)


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection: it never creates a file, never rolls a journal back."""
    con = sqlite3.connect(
        f"file:{quote(str(path))}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
    )
    con.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    return con


def open_writer(path: Path) -> sqlite3.Connection:
    """The writer's connection (call it with the catalog's writer lock held)."""
    check_journal(path)
    try:
        con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        con.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        for pragma in WRITER_PRAGMAS:
            con.execute(pragma)
        con.executescript(SCHEMA)
        con.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    except sqlite3.Error as exc:
        raise write_error(path, exc) from exc
    return con


def check_journal(path: Path) -> None:
    """A leftover journal is rolled back into the catalog by the next writer: it counts
    only if whoever owns the catalog file (or root) made it, never a planted one."""
    journal = Path(f"{path}-journal")
    try:
        jst, dst = os.lstat(journal), os.stat(path)
    except FileNotFoundError:
        return
    if jst.st_uid not in (0, dst.st_uid) or not os.path.isfile(journal) or os.path.islink(journal):
        raise StoreWriteError(
            f"{journal}: not made by the owner of {path.name} (uid {jst.st_uid}): planted "
            "by another user; not rolled back (the project owner or root can remove it)"
        )


def write_error(path: Path, exc: BaseException) -> StoreWriteError:
    return StoreWriteError(f"cannot write {path}: {exc}; the catalog is unchanged")


def insert(con: sqlite3.Connection, rows: Iterable[tuple[Any, ...]], replace: bool = False) -> None:
    con.executemany(UPSERT if replace else INSERT, rows)


def is_hot_journal(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorname", "") in (
        "SQLITE_READONLY_ROLLBACK",
        "SQLITE_READONLY_RECOVERY",
    )
