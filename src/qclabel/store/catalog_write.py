"""The catalog's one writer: `with CatalogWrite(catalog) as con` takes the writer
lock (`catalog.sqlite.lock`), migrates an earlier release's `catalog.json` first if
needed, opens the write connection and begins an IMMEDIATE transaction; it commits on
success and rolls back on any error, so a batch is all in the catalog or none of it."""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from . import catalog_db, catalog_migrate
from .atomic import writer_lock


class CatalogWrite:
    """`with catalog._writer() as con`: lock, BEGIN IMMEDIATE, COMMIT (or ROLLBACK)."""

    def __init__(self, catalog: Any):
        self.catalog = catalog

    def __enter__(self) -> sqlite3.Connection:
        path = self.catalog.path
        legacy = catalog_migrate.legacy_path(path)
        if not path.exists() and legacy.exists():
            catalog_migrate.migrate(path)
        self._lock = writer_lock(path)
        self._lock.__enter__()
        try:
            self.con = catalog_db.open_writer(path)
            self.con.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            self._lock.__exit__(None, None, None)
            if isinstance(exc, sqlite3.Error):
                raise catalog_db.write_error(path, exc) from exc
            raise
        return self.con

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> Literal[False]:
        try:
            if kind is None:
                try:
                    self.con.execute("COMMIT")
                except sqlite3.Error as err:
                    self.con.execute("ROLLBACK") if self.con.in_transaction else None
                    raise catalog_db.write_error(self.catalog.path, err) from err
            elif self.con.in_transaction:
                self.con.execute("ROLLBACK")
        finally:
            self.con.close()
            self._lock.__exit__(None, None, None)
            self.catalog.reload()
        if isinstance(exc, sqlite3.Error):
            raise catalog_db.write_error(self.catalog.path, exc) from exc
        return False
