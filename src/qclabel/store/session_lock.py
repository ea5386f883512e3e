"""Who may write a user's journal: the session lock (flock, dropped by the kernel when
the process dies) and the planted-file escape (a journal started under USER@TAG when
someone else's files sit under the user's name)."""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import socket
import time
from pathlib import Path

from ..errors import SessionLocked, StoreWriteError
from ..fsutil import fsync_dir
from . import labels as _labels
from .ackmark import FILE_MODE
from .ownership import ALT, file_stem, planted_under


def acquire_lock(labels_dir: Path, user: str, wait: bool = False) -> int:
    """flock on labels/<user>.lock; the kernel drops it when the process dies, so a
    killed session never leaves a stale lock behind. flock locks belong to the open
    file, so a second session in the same process is refused as well (or, with `wait`,
    waits for it). A lock file that another user planted under this name is not used
    (its planter could hold it forever): the session locks its journal instead, which
    only its owner and the privileged group can open."""
    try:
        labels_dir.mkdir(parents=True, exist_ok=True)
        lock = labels_dir / f"{file_stem(labels_dir, user)}.lock"
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o640)
    except OSError as exc:
        fd = -1
        if not (exc.errno in (errno.ELOOP, errno.EACCES, errno.EPERM) and lock.exists()):
            raise StoreWriteError(
                f"cannot open a labeling session in {labels_dir}: {exc.strerror or exc}"
            ) from exc
    planted = fd < 0 or not _mine(os.fstat(fd).st_uid, user)
    if planted:
        if fd >= 0:
            os.close(fd)
        fd = _journal_lock_fd(labels_dir, user)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        holder = (
            "another process"
            if planted
            else (os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process")
        )
        os.close(fd)
        raise SessionLocked(
            f"{user} already has a labeling session open on "
            f"{labels_dir.parent} ({holder}); close it first"
        ) from None
    if not planted:
        info = f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
    return fd


def move_aside(labels_dir: Path, user: str) -> None:
    """Files planted under the user's name, and none of the user's own yet: start the
    user's journal under USER@TAG (ownership.py), so the plant locks nobody out."""
    if file_stem(labels_dir, user) != user or not planted_under(labels_dir, user):
        return
    path = labels_dir / f"{user}{ALT}{secrets.token_hex(6)}.jsonl"
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE))
        fsync_dir(labels_dir)
    except OSError as exc:
        raise StoreWriteError(
            f"cannot open a labeling session in {labels_dir}: {path}: {exc.strerror or exc}"
        ) from exc
    chosen = file_stem(labels_dir, user)  # two sessions starting at once: one stem wins
    if chosen != path.name[:-6]:
        path.unlink(missing_ok=True)


def _mine(uid: int, user: str) -> bool:
    from .ownership import uid_name

    return uid == 0 or uid_name(uid) == user


def _journal_lock_fd(labels_dir: Path, user: str) -> int:
    path = _labels.journal_path(labels_dir, user)
    try:
        return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        raise StoreWriteError(
            f"cannot open a labeling session in {labels_dir}: {path}: {exc.strerror or exc}"
        ) from exc
