"""Background jobs of the app (an export, an augmentation, a QA report): the state a
worker and its dialog share, the one job of each kind an app runs at a time, and the
child process that does the work.

CPU-bound work runs in a child process, not in a thread of the app: a thread holds the
GIL in its Python loops and the UI thread (keys, frames) waits for it. The app's worker
thread only starts the child and mirrors its progress; the child calls the same pure
function as the CLI with a progress callback and a cancel flag. Children come from a
forkserver: forking the app itself (threads of Textual, OpenCV and the prefetch) can
deadlock the child. Nothing in a child imports Textual.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from ..errors import QclabelError

Progress = Callable[[int, int], None]
CTX = multiprocessing.get_context("forkserver")
# Imported once by the forkserver, so each job's child starts with them loaded.
PRELOAD = ["qclabel.tui.job_tasks"]
POLL = 0.05  # seconds between progress reads: four updates per dialog refresh
GRACE = 10.0  # seconds a child has to stop on its own once the app goes away


class JobFailed(QclabelError):
    """The child reported an error (one line) or stopped without a result."""


class JobCancelled(QclabelError):
    """The child stopped on the cancel flag; its work left nothing behind."""


@dataclass(kw_only=True)
class BackgroundJob:
    done: int = 0
    total: int = 0
    state: str = "running"  # running | done | cancelled | failed
    message: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    pid: int | None = None  # the child process doing the work

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def started(self, pid: int) -> None:
        self.pid = pid


J = TypeVar("J", bound=BackgroundJob)


class JobSlot(Generic[J]):
    """The current job of one kind per app (weakly held: a closed app drops it)."""

    def __init__(self) -> None:
        self._jobs: weakref.WeakKeyDictionary[object, J] = weakref.WeakKeyDictionary()

    def current(self, app: object) -> J | None:
        return self._jobs.get(app)

    def start(self, app: object, job: J) -> None:
        self._jobs[app] = job

    def clear(self, app: object) -> None:
        self._jobs.pop(app, None)


_server_lock = threading.Lock()
_server_started = False


def _ensure_server() -> None:
    """Start the forkserver (and multiprocessing's resource tracker) once per app.

    Inside a running Textual app `sys.stderr` is Textual's capture, whose fileno() is -1,
    and the resource tracker hands that number to its child ("bad value(s) in
    fds_to_keep"): start both with the real stderr, for the milliseconds it takes."""
    global _server_started
    with _server_lock:
        if _server_started:
            return
        from multiprocessing import forkserver

        CTX.set_forkserver_preload(PRELOAD)
        saved = sys.stderr
        try:
            if sys.__stderr__ is not None:
                sys.stderr = sys.__stderr__
            forkserver.ensure_running()
        finally:
            sys.stderr = saved
        _server_started = True


def _quiet() -> None:
    """The child's stdout/stderr are the app's terminal: a stray warning there would
    draw over the app. Errors come back through the pipe instead."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)


def _child(
    conn: Connection, shared: Any, cancel: Any, target: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    """Body of the child: run `target`, send back ("ok", result) or one error line."""
    _quiet()

    def progress(done: int, total: int) -> None:
        shared[0], shared[1] = done, total

    try:
        conn.send(("ok", target(*args, progress=progress, cancel=cancel)))
    except QclabelError as exc:
        kind = "cancelled" if "Cancelled" in type(exc).__name__ else "failed"
        conn.send((kind, str(exc)))
    except Exception as exc:  # noqa: BLE001 - a bug or an OS error: still one line
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run_in_process(
    target: Callable[..., Any],
    *args: Any,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    stop_now: Callable[[], bool] = lambda: False,
    started: Callable[[int], None] | None = None,
) -> Any:
    """Run `target(*args, progress=, cancel=)` in a child process and return its result.

    Blocks (call it from a worker thread). `progress` gets the child's (done, total) as
    it changes. Once `cancelled()` is true the child's cancel flag is set and the child
    stops at its next check, removing what it wrote (JobCancelled). `stop_now()` true
    (a read-only job nobody waits for) ends the child at once. Errors come back as one
    line (JobFailed)."""
    _ensure_server()
    shared, flag = CTX.Array("q", 2), CTX.Event()
    recv, send = CTX.Pipe(duplex=False)
    child = CTX.Process(target=_child, args=(send, shared, flag, target, args), name="qclabel-job")
    child.start()
    send.close()
    if started is not None and child.pid is not None:
        started(child.pid)
    try:
        return _wait(child, recv, shared, flag, progress, cancelled, stop_now)
    finally:
        recv.close()
        if child.is_alive():  # the app is going away mid-job: a last chance, then end it
            flag.set()
            child.join(GRACE)
            child.terminate()
        child.join()


def _wait(
    child: Any,
    recv: Connection,
    shared: Any,
    flag: Any,
    progress: Progress | None,
    cancelled: Callable[[], bool],
    stop_now: Callable[[], bool],
) -> Any:
    seen = (-1, -1)
    while True:
        ready = recv.poll(POLL)
        now = (shared[0], shared[1])
        if progress is not None and now != seen and now[1] > 0:
            seen = now
            progress(*now)
        if ready:
            try:
                kind, value = recv.recv()
            except EOFError:  # died without a word: killed, out of memory, a segfault
                child.join()
                raise JobFailed(
                    f"the background job stopped unexpectedly (exit code {child.exitcode})"
                ) from None
            if kind == "ok":
                return value
            raise (JobCancelled if kind == "cancelled" else JobFailed)(value)
        if stop_now():
            child.terminate()
            raise JobCancelled("stopped")
        if cancelled() and not flag.is_set():
            flag.set()
