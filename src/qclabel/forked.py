"""Work handed to a forked child on the second core, where that is safe.

A fork copies the process as it is, so the child needs nothing sent to it (a million
ids, 100k labels) and hands back only its bytes through a pipe. It is used only where
a fork is safe and pays: one thread in this process (a fork copies no lock another
thread holds), a second CPU, and memory for a copy of what the child may touch (every
object it reads gets its reference count written, so its pages are copied). Whoever
starts one also knows how to do the work itself: a child that failed, was killed or
could not be started changes nothing but the time.

The child closes every file it inherited but its pipe (an inherited descriptor would
keep a flock the parent drops, e.g. the pipeline's), and stops within one `alive()`
look of its parent being gone (killed alone: `kill PID`, a supervisor's timeout),
rather than compute on for nobody.
"""

from __future__ import annotations

import os
import signal
import threading
import weakref
from typing import Callable


def cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere the CPU count
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def _memory_for_a_copy() -> bool:
    """Whether the machine has the memory this process holds free (Linux; elsewhere
    nothing is known and the child is not started)."""
    try:
        with open("/proc/self/statm") as fh:
            rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/meminfo") as fh:
            info = dict(line.split(":", 1) for line in fh)
        return int(info["MemAvailable"].split()[0]) * 1024 > 2 * rss
    except (OSError, ValueError, KeyError, IndexError):
        return False


def safe(copy: bool = False) -> bool:
    """Whether a fork is safe here; `copy`: and the child may touch most of the heap."""
    if threading.active_count() > 1 or cpus() < 2 or not hasattr(os, "fork"):
        return False
    return not copy or _memory_for_a_copy()


class Child:
    """A forked child computing `work(alive)`; `result()` is its bytes, or None when it
    did not hand them over whole (the caller computes them itself then)."""

    def __init__(self, work: Callable[[Callable[[], bool]], bytes]):
        r, w = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            raise
        if pid == 0:  # the child: compute, hand over, leave without running anything else
            code = 1
            try:
                os.close(r)
                os.closerange(3, w)
                os.closerange(w + 1, 1 << 16)
                data = work(lambda: os.getppid() == parent)
                with os.fdopen(w, "wb") as fh:
                    fh.write(len(data).to_bytes(8, "little") + data)
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        self.pid, self._fd = pid, r
        self._done = False
        self._data: bytes | None = None
        # Dropped unread (an export failing before it needs the result): no child left.
        self._finalizer = weakref.finalize(self, _reap, pid, r, True)

    def result(self) -> bytes | None:
        if not self._done:
            self._done = True
            self._finalizer.detach()
            try:
                with os.fdopen(self._fd, "rb", closefd=False) as fh:
                    data = fh.read()
            except BaseException:  # e.g. Ctrl-C while waiting: no child left behind
                _reap(self.pid, self._fd, True)
                raise
            status = _reap(self.pid, self._fd, False)
            n = int.from_bytes(data[:8], "little")
            if status == 0 and len(data) == 8 + n:
                self._data = data[8:]
        return self._data

    def abandon(self) -> None:
        """Stop the child now (Ctrl-C, a cancelled export): its result is not wanted."""
        if not self._done:
            self._done = True
            self._finalizer.detach()
            _reap(self.pid, self._fd, True)


def _reap(pid: int, fd: int, kill: bool) -> int:
    try:
        if kill:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return status


def start(work: Callable[[Callable[[], bool]], bytes], *, copy: bool = False) -> Child | None:
    """`Child(work)` where a fork is safe (`safe(copy)`), else None."""
    if not safe(copy):
        return None
    try:
        return Child(work)
    except OSError:
        return None
