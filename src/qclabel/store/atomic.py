"""Crash-safe whole-file writes: temp file, fsync, rename, fsync of the folder.

A reader (or a process killed half-way) sees either the old file or the new one,
never a mix; TinyDB's default storage rewrites in place and can be left corrupt.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from tinydb.storages import Storage

from ..fsutil import fsync_dir
from ..errors import StoreWriteError


def atomic_write_bytes(
    path: Path, data: bytes, mode: int | None = None, group: int | None = None
) -> None:
    """Replace `path` with `data` atomically (with `mode`, else the old file's; in
    `group` if given); raise StoreWriteError and leave the old file untouched on any
    I/O failure."""
    path = Path(path)
    tmp = None
    try:
        mode = _mode_for(path) if mode is None else mode
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            # mkstemp makes the file private (0600); the other annotators of the
            # project must still be able to read the config and the catalog.
            if group is not None and os.fstat(fh.fileno()).st_gid != group:
                os.fchown(fh.fileno(), -1, group)  # a group the writer is in
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except OSError as exc:
        raise StoreWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


@contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Serialize read-modify-write of one shared file (the catalog, QA documents)
    between processes, so two ingests at once cannot drop each other's images. Readers
    never take it: they see the old file or the new one."""
    lock = Path(path).with_name(Path(path).name + ".lock")
    fd = open_lock(lock, 0o664, StoreWriteError, f"cannot write {path}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def open_lock(lock: Path, mode: int, error: type[Exception], what: str) -> int:
    """The lock file's descriptor, never through a symbolic link: the project folder
    is writable by every member, and a link followed with O_CREAT would make this
    user's process create the file it points at (another user's journal name)."""
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, mode)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno == errno.ELOOP:
            why = f"{lock} is a symbolic link, not qclabel's lock (the project owner removes it)"
        raise error(f"{what}: {why}") from exc


def _mode_for(path: Path) -> int:
    """Keep the permissions of the file being replaced; new files get rw-r--r--."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return 0o644


class AtomicJSONStorage(Storage):
    """TinyDB storage that never rewrites a file in place."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        read_only: bool = False,
        private: tuple[int, int] | None = None,
    ):
        self.path = Path(path)
        self.read_only = read_only
        self.private = private  # (mode, group) every write gives the file

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            result: dict[str, dict[str, Any]] | None = json.loads(raw)
            return result
        except json.JSONDecodeError as exc:
            raise StoreWriteError(
                f"{self.path} is not valid JSON ({exc.msg} at byte "
                f"{exc.pos}); restore it from a backup"
            ) from exc

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.read_only:
            raise StoreWriteError(f"{self.path} is opened read-only")
        mode, group = self.private or (None, None)
        data_bytes = json.dumps(data, separators=(",", ":")).encode()
        atomic_write_bytes(self.path, data_bytes, mode=mode, group=group)

    def close(self) -> None:
        pass
