"""Build an export in a hidden folder next to OUT and swap it in at the end.

A failed, cancelled or killed export never leaves a half-written dataset at OUT: the
previous OUT stays as it was until the finished folder replaces it. On Linux the
replacement is one `renameat2(RENAME_EXCHANGE)`, so OUT is never even briefly missing.
A `kill -9` cannot clean up after itself, so the next export removes the hidden
folders of exports whose process is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import FormatError, OutputWriteError
from ..fsutil import fsync_dir as _fsync_dir

PARTIAL = ".partial-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def partial_dir(out: Path, pid: int | None = None) -> Path:
    return out.parent / f".{out.name}{PARTIAL}{pid or os.getpid()}"


@contextmanager
def atomic_output(out: Path, marker: str | None = None) -> Iterator[Path]:
    """Yield an empty temp folder; on success it becomes `out`, otherwise it is removed.

    With `marker`, an existing non-empty `out` is replaced only if it holds that file
    (an earlier export), so a mistyped --out never deletes someone's folder. A symlink
    as `out` is followed: the export replaces the folder it points to, and the link
    stays. Any I/O error (disk full, read-only folder) is one OutputWriteError; the
    previous `out` is unchanged."""
    out = resolve_out(out)
    tmp = partial_dir(out)
    leftover = None
    try:
        if out.exists() and not out.is_dir():
            raise FormatError(f"{out}: exists and is not a folder")
        if marker and out.is_dir() and any(out.iterdir()) and not (out / marker).is_file():
            raise FormatError(
                f"{out}: folder exists and is not an earlier export (no "
                f"{marker}); refusing to replace it, choose another --out"
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(out)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        yield tmp
        _sync_filesystem(tmp)
        leftover = _swap_in(tmp, out)
    except OSError as exc:
        raise write_error(out, exc) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if leftover is not None:
            shutil.rmtree(leftover, ignore_errors=True)


def resolve_out(out: Path) -> Path:
    """The folder an export writes: symlinks followed, so the swap replaces the
    target rather than the link (which would leave the link behind as a stray)."""
    out = Path(out).absolute()
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    return out


def write_error(out: Path, exc: OSError) -> OutputWriteError:
    what = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
    return OutputWriteError(
        f"cannot write the export {out}: {exc.strerror or exc}{what}; nothing was changed there"
    )


def remove_stale_partials(out: Path) -> list[Path]:
    """Hidden build folders of earlier exports to `out` whose process no longer runs."""
    removed = []
    for p in out.parent.glob(f".{out.name}{PARTIAL}*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_in(tmp: Path, out: Path) -> Path | None:
    """Publish `tmp` as `out`; return the folder now holding the previous export."""
    old: Path | None = None
    if not out.exists():
        os.rename(tmp, out)
    elif _exchange(tmp, out):
        old = tmp  # the exchange left the previous export at the temp name
    else:
        # No renameat2: two renames, OUT is missing only between them.
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
        os.rename(tmp, out)
    _fsync_dir(out.parent)
    return old


def _exchange(a: Path, b: Path) -> bool:
    libc = _libc()
    fn = getattr(libc, "renameat2", None) if libc else None
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    result: bool = rc == 0
    return result


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _sync_filesystem(root: Path) -> None:
    """Data must be on disk before the rename publishes it. One syncfs of the
    filesystem instead of an fsync per file (100k fsyncs take minutes)."""
    libc = _libc()
    fn = getattr(libc, "syncfs", None) if libc else None
    if fn is None:
        os.sync()
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fn(fd)
    finally:
        os.close(fd)


_NEW = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def write_new(path: str, data: bytes) -> None:
    """`open(path, "wb").write(data)` without a buffered file object (an export writes
    100k small label files): the same bytes and mode; a short write goes on."""
    fd = os.open(path, _NEW, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
