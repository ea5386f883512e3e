"""The catalog's id, task and one grouping column in catalog order, kept per catalog state.

A QA plan needs these three columns of every image: at a million images, reading them
from SQLite builds a million row tuples (1.1-1.4 s of a 2 s `qa plan`). They change only
when the catalog does, so the reading user keeps them in their own cache
(`usercache`, folder `catalog-columns`), one file per catalog and column, under the
catalog file's state: its device, inode, size, modification time and SQLite's file
change counter, which the writer's every commit advances (the catalog uses a rollback
journal, catalog_db). An entry is stored only when the state was the same before and
after the rows were read (no commit in between), and used only when the catalog's
state now is the one it was stored under: any write, a restored backup, a file put in
its place, reads the catalog again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import usercache

if TYPE_CHECKING:
    from .catalog import Catalog

_SEP = "\x00"


def order_columns(catalog: Catalog, group: str) -> tuple[list[str], list[Any], list[Any]]:
    """Ids, tasks and `group` (an SQL expression over `images`) in catalog order."""
    token = state(catalog.path)
    path = _file(catalog.path, group)
    if token is not None:
        cached = _load(path, token)
        if cached is not None:
            return cached
    rows = catalog.select(f"SELECT id, task, {group} FROM images ORDER BY seq")
    cols: tuple[list[str], list[Any], list[Any]] = (
        tuple(list(c) for c in zip(*rows)) if rows else ([], [], [])  # type: ignore[assignment]
    )
    if token is not None and state(catalog.path) == token:
        _store(path, token, *cols)
    return cols


def state(path: Path) -> bytes | None:
    """The catalog file's state (see the module's doc), or None when it is not a file."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            head = fh.read(100)
    except OSError:
        return None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return None
    ident = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:".encode()
    return hashlib.sha256(ident + head[24:28] + head[92:96]).digest()


def _file(catalog_file: Path, group: str) -> Path:
    name = hashlib.sha256(f"{Path(catalog_file).resolve()}\x00{group}".encode()).hexdigest()
    return usercache.folder("catalog-columns") / f"{name[:32]}.npz"


def _store(path: Path, token: bytes, ids: list[str], tasks: list[Any], groups: list[Any]) -> None:
    if any(_SEP in i for i in ids):
        return  # not representable in the id blob: read from the catalog each time
    t_codes, t_values = _codes(tasks)
    g_codes, g_values = _codes(groups)
    buf = io.BytesIO()
    np.savez(
        buf,
        token=np.frombuffer(token, np.uint8),
        ids=np.frombuffer(_SEP.join(ids).encode(), np.uint8),
        n=np.array([len(ids)], np.int64),
        t_codes=t_codes,
        g_codes=g_codes,
        values=np.frombuffer(json.dumps([t_values, g_values]).encode(), np.uint8),
    )
    usercache.write(path, buf.getvalue())


def _load(path: Path, token: bytes) -> tuple[list[str], list[Any], list[Any]] | None:
    data = usercache.read(path)
    if data is None:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if z["token"].tobytes() != token:
                return None
            n = int(z["n"][0])
            blob = z["ids"].tobytes().decode()
            ids = blob.split(_SEP) if n else []
            t_codes, g_codes = z["t_codes"], z["g_codes"]
            t_values, g_values = json.loads(z["values"].tobytes())
    except (ValueError, KeyError, OSError, EOFError, TypeError, IndexError, zipfile.BadZipFile):
        return None
    if not (len(ids) == len(t_codes) == len(g_codes) == n):
        return None
    try:
        tasks = np.asarray(t_values, dtype=object)[t_codes].tolist() if n else []
        groups = np.asarray(g_values, dtype=object)[g_codes].tolist() if n else []
    except IndexError:
        return None
    return ids, tasks, groups


def _codes(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each value's index among the distinct values (None kept apart from "")."""
    index: dict[Any, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values), np.int32, count=len(values)
    )
    return codes, list(index)
