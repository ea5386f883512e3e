"""Moving a project's `catalog.json` (TinyDB layout, earlier releases) to `catalog.sqlite`.

The first command run by the owner of `catalog.json` (or root) builds the SQLite file
beside it under a temporary name, fsyncs it and renames it into place: a kill at any
moment leaves either no `catalog.sqlite` (the next command starts over) or a complete
one. `catalog.json` is then renamed to `catalog.json.migrated`, a backup nothing reads.
Anybody else reads `catalog.json` as before (into memory) until the owner has run one
command, so a group member never creates the project's catalog file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..core.model import ImageRecord
from ..fsutil import fsync_dir
from . import catalog_db
from .atomic import AtomicJSONStorage, writer_lock

LEGACY_NAME = "catalog.json"
BACKUP_SUFFIX = ".migrated"


def legacy_path(path: Path) -> Path:
    return Path(path).with_name(LEGACY_NAME)


def legacy_records(legacy: Path) -> list[ImageRecord]:
    data = AtomicJSONStorage(legacy, read_only=True).read() or {}
    docs = (data.get("images") or {}).values()
    return sorted((ImageRecord.from_dict(d) for d in docs), key=lambda r: r.seq)


def may_migrate(legacy: Path) -> bool:
    """Only the user whose file it is (or root) replaces it, so the catalog keeps its owner."""
    try:
        owner = os.stat(legacy).st_uid
    except FileNotFoundError:
        return False
    return os.geteuid() in (0, owner) and os.access(legacy.parent, os.W_OK)


def migrate(path: Path) -> bool:
    """Build `path` from the legacy file beside it; False if there was nothing to do."""
    path, legacy = Path(path), legacy_path(path)
    with writer_lock(legacy), writer_lock(path):  # an older qclabel's ingest, then ours
        if path.exists() or not legacy.exists():
            return False
        records = legacy_records(legacy)
        tmp = path.with_name(f".{path.name}.migrating")
        for stale in (tmp, Path(f"{tmp}-journal")):
            stale.unlink(missing_ok=True)  # a migration killed half-way
        try:
            con = catalog_db.open_writer(tmp)
            with con:
                con.execute("BEGIN IMMEDIATE")
                catalog_db.insert(
                    con,
                    (catalog_db.row_of(_numbered(r, n)) for n, r in enumerate(records, start=1)),
                )
            con.close()
            st = os.stat(legacy)
            os.chmod(tmp, st.st_mode & 0o7777)
            if os.geteuid() == 0:  # root migrating keeps the catalog its owner's
                os.chown(tmp, st.st_uid, st.st_gid)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            fsync_dir(path.parent)
        except (OSError, sqlite3.Error) as exc:
            tmp.unlink(missing_ok=True)
            raise catalog_db.write_error(path, exc) from exc
        os.replace(legacy, legacy.with_name(legacy.name + BACKUP_SUFFIX))
        fsync_dir(path.parent)
        return True


def _numbered(rec: ImageRecord, seq: int) -> ImageRecord:
    """Positions 1..n in the old order (the old file kept them so; this makes it sure)."""
    return rec if rec.seq == seq else ImageRecord.from_dict({**rec.to_dict(), "seq": seq})


def in_memory(legacy: Path) -> sqlite3.Connection:
    """The legacy file as an in-memory catalog, for readers who may not migrate it."""
    con = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    con.executescript(catalog_db.SCHEMA)
    with con:
        con.execute("BEGIN")
        catalog_db.insert(
            con,
            (
                catalog_db.row_of(_numbered(r, n))
                for n, r in enumerate(legacy_records(legacy), start=1)
            ),
        )
    return con
