"""The user's own cache folder: derived data kept between commands, trusted only when
nobody else could have written it.

`$XDG_CACHE_HOME/qclabel/PART` (else `~/.cache/qclabel/PART`), mode 0700. A file is read
only from a folder of the user's own that nobody else can write, only when the file is
the user's own, not group- or world-writable and not a symbolic link; it is written
atomically (a private temporary file, then a rename). Whoever reads an entry still checks
that it was derived from exactly the data at hand (each caller keys its entries by a hash
of their source): a cache can make a command faster, never change what it prints. A
cache that cannot be read or written only means computing again.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any


def folder(part: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qclabel" / part


def private(path: Path) -> bool:
    """Only a folder of the user's own that nobody else can write is trusted."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def read(path: Path) -> bytes | None:
    """The file's bytes, or None when it is missing or not trustworthy."""
    if not private(path.parent):
        return None
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None
            return fh.read()
    except OSError:
        return None


def write(path: Path, data: bytes) -> None:
    """Replace the file with `data`; failures are silent (see the module's doc)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not private(path.parent):
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:  # mkstemp: mode 0600
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def load_json(path: Path, key: str) -> Any | None:
    """The value kept in the JSON file `path` under `key` (the caller's hash of what
    the value was derived from), or None when the file holds another key or none."""
    data = read(path)
    try:
        doc = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    return doc.get("value")


def store_json(path: Path, key: str, value: Any) -> None:
    """Keep `value` (JSON) in `path` under `key`, replacing what the file held."""
    write(path, json.dumps({"key": key, "value": value}).encode())
