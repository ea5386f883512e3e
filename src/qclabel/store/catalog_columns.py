"""The catalog's id, task and one grouping column in catalog order, kept per catalog state.

A QA plan needs these three columns of every image: at a million images, reading them
from SQLite builds a million row tuples (1.1-1.4 s of a 2 s `qa plan`). They change only
when the catalog does, so the reading user keeps them in their own cache
(`usercache`, folder `catalog-columns`), one file per catalog and column, under the
catalog file's state: its device, inode, size, modification and change times and
SQLite's file change counter, which the writer's every commit advances (the catalog
uses a rollback journal, catalog_db). The change time is what no one can set back
(`touch -d` sets the modification time, and stamps the change time now): a file
copied over the catalog in place, its time put back, is still another state. An entry
is stored only when the state was the same before and after the rows were read (no
commit in between), and used only when the catalog's state now is the one it was
stored under: any write, a restored backup, a file put in its place, reads the
catalog again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
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
    cols = _joined(catalog, group) or _rows(catalog, group)
    if token is not None and state(catalog.path) == token:
        _store(path, token, *cols)
    return cols


def _rows(catalog: Catalog, group: str) -> tuple[list[str], list[Any], list[Any]]:
    rows = catalog.select(f"SELECT id, task, {group} FROM images ORDER BY seq")
    return tuple(list(c) for c in zip(*rows)) if rows else ([], [], [])  # type: ignore[return-value]


_UNIT, _NULL = "\x1f", "\x1e"


def _joined(catalog: Catalog, group: str) -> tuple[list[str], list[Any], list[Any]] | None:
    """The columns as one string each, joined by SQLite from the covering index
    `images_order` and split here: a million row tuples cost 0.9 s, the ids' string
    0.3 s; a column with one value for every image (no task, one lot) is not joined at
    all (its index gives its minimum, maximum and NULLs at once). For text columns only
    (their TEXT affinity stores nothing else; a JSON field's numbers would join as
    text: None, read the rows), and only when each string splits back exactly: one part
    per image and as many NULL markers as NULLs (a value holding the separator or being
    the marker: None). Everything used comes from one statement, one read of the file;
    the first query only guesses which columns are constant, the second checks it."""
    from .catalog_db import INDEXED_FIELDS

    cols = ("task",) + ((group,) if group in INDEXED_FIELDS else ())
    if group != "NULL" and len(cols) == 1:
        return None
    try:
        [guess] = catalog.select(f"SELECT (SELECT count(*) FROM images), {_stats(cols)}")
        varying = [c for k, c in enumerate(cols) if _constant(guess[0], guess[1 + 3 * k :]) is None]
        joined = "".join(f", group_concat(ifnull({c}, char(30)), char(31))" for c in varying)
        [row] = catalog.select(
            f"SELECT count(*), {_stats(cols)}, group_concat(id, char(31)){joined} "
            f"FROM (SELECT {', '.join(('id', *varying))} FROM images ORDER BY seq)"
        )
    except (sqlite3.Error, ValueError):
        return None
    n, texts = row[0], iter(row[2 + 3 * len(cols) :])
    if not n:
        return [], [], []
    out = [_split(row[1 + 3 * len(cols)], n, 0)]
    for k, c in enumerate(cols):
        stats = row[1 + 3 * k : 4 + 3 * k]
        if c in varying:
            out.append(_split(next(texts), n, stats[0]))
        else:
            value = _constant(n, stats)
            out.append(None if value is None else value * n)
    if any(o is None for o in out):
        return None
    return out[0], out[1], out[2] if len(out) > 2 else [None] * n  # type: ignore[return-value]


def _stats(cols: tuple[str, ...]) -> str:
    return ", ".join(
        f"(SELECT count(*) FROM images WHERE {c} IS NULL), "
        f"(SELECT min({c}) FROM images), (SELECT max({c}) FROM images)"
        for c in cols
    )


def _constant(n: int, stats: tuple[Any, ...]) -> list[Any] | None:
    """[the value] when every image has the same one (NULL for all, or one text)."""
    nulls, low, high = stats[:3]
    if nulls == n:
        return [None]
    return [low] if nulls == 0 and low == high and isinstance(low, str) else None


def _split(text: Any, n: int, nulls: int) -> list[Any] | None:
    if not isinstance(text, str):
        return None
    parts: list[Any] = text.split(_UNIT)
    if len(parts) != n or parts.count(_NULL) != nulls:
        return None
    return [None if p == _NULL else p for p in parts] if nulls else parts


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
    ident = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:".encode()
    return hashlib.sha256(ident + head[24:28] + head[92:96]).digest()


def _file(catalog_file: Path, group: str) -> Path:
    name = hashlib.sha256(f"{Path(catalog_file).resolve()}\x00{group}".encode()).hexdigest()
    return usercache.folder("catalog-columns") / f"{name[:32]}.npz"


def _store(path: Path, token: bytes, ids: list[str], tasks: list[Any], groups: list[Any]) -> None:
    blob = _SEP.join(ids)
    if blob.count(_SEP) != max(len(ids) - 1, 0):
        return  # an id holding the separator: read from the catalog each time
    t_codes, t_values = _codes(tasks)
    g_codes, g_values = _codes(groups)
    buf = io.BytesIO()
    np.savez(
        buf,
        token=np.frombuffer(token, np.uint8),
        ids=np.frombuffer(blob.encode(), np.uint8),
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
    first = list(dict.fromkeys(values))
    if len(first) <= 1:  # one task, one group: the common case at a million images
        return np.zeros(len(values), np.int32), first
    index = {v: n for n, v in enumerate(first)}
    return np.fromiter(map(index.__getitem__, values), np.int32, count=len(values)), first
