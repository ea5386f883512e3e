"""The user's own cache folder: derived data kept between commands, trusted only when
nobody else could have written it.

`$XDG_CACHE_HOME/qclabel/PART` (else `~/.cache/qclabel/PART`), mode 0700. A file is read
only from a folder of the user's own that nobody else can write, only when the file is
the user's own, not group- or world-writable and not a symbolic link; it is written
atomically (a private temporary file, then a rename), and old files are removed only
from such a folder (never through a link: a folder planted as a link to someone's files
removes none of them). The folder is checked and then used through one descriptor, so
a folder put in its place after the check is never read or written. Whoever reads an
entry still checks that it was derived from exactly the data at hand (each caller keys
its entries by a hash of their source): a cache can make a command faster, never change
what it prints. A cache that cannot be read or written only means computing again.
"""

from __future__ import annotations

import json
import os
import secrets
from hashlib import sha256
from pathlib import Path
from typing import Any


def folder(part: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qclabel" / part


def _opened(folder: Path) -> int | None:
    """The folder opened (never through a link) when it is the user's own and nobody
    else can write it, the only folder trusted: what is read, written and removed then
    goes through this descriptor, so a folder put in its place after the check is never
    used."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        os.close(fd)
        return None
    return fd


def read(path: Path) -> bytes | None:
    """The file's bytes, or None when it is missing or not trustworthy."""
    fd = _opened(path.parent)
    if fd is None:
        return None
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW
        with open(os.open(path.name, flags, dir_fd=fd), "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None
            return fh.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def write(path: Path, data: bytes) -> None:
    """Replace the file with `data`; failures are silent (see the module's doc)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return
    fd = _opened(path.parent)
    if fd is None:
        return
    tmp = f".tmp-{secrets.token_hex(8)}"
    made = False
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with open(os.open(tmp, flags, 0o600, dir_fd=fd), "wb") as fh:
            made = True
            fh.write(data)
        os.replace(tmp, path.name, src_dir_fd=fd, dst_dir_fd=fd)
    except OSError:
        if made:
            try:
                os.unlink(tmp, dir_fd=fd)
            except OSError:
                pass
    finally:
        os.close(fd)


def prune(folder: Path, suffix: str, keep: int, budget: int) -> None:
    """Remove the folder's `suffix` files but the newest `keep`, and but the newest
    `budget` bytes of them (the newest always kept): only in a private folder, never
    through a link, never a file that is not a regular one."""
    fd = _opened(folder)
    if fd is None:
        return
    try:
        files = []
        with os.scandir(fd) as it:
            for e in it:
                if e.name.endswith(suffix) and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    files.append((st.st_mtime_ns, st.st_size, e.name))
        files.sort(reverse=True)
        total = 0
        for n, (_, size, name) in enumerate(files):
            total += size
            if n and (n >= keep or total > budget):
                os.unlink(name, dir_fd=fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_json(path: Path, key: str) -> Any | None:
    """The value kept in the JSON file `path` under `key` (the caller's hash of what
    the value was derived from), or None when the file holds another key or none, or
    when its text no longer hashes to the SHA-256 on its first line (a changed value
    under an intact key: a flipped bit, a hand edit)."""
    data = read(path)
    if data is None or data[64:65] != b"\n" or sha256(data[65:]).hexdigest().encode() != data[:64]:
        return None
    try:
        doc = json.loads(data[65:])
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    return doc.get("value")


def store_json(path: Path, key: str, value: Any) -> None:
    """Keep `value` (JSON) in `path` under `key`, replacing what the file held: the
    SHA-256 of the text on the first line, the text on the second."""
    text = json.dumps({"key": key, "value": value}).encode()
    write(path, sha256(text).hexdigest().encode() + b"\n" + text)
