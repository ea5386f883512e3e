"""Load for the display benchmark: one busy process per core, and a background export
running in the app the way the export dialog runs it (a worker thread waiting for the
export's child process), restarted as soon as it finishes so it lasts the whole run.

`thread=True` runs the same export in the worker thread itself, inside the app's
process, as the app did before its jobs moved to child processes: the baseline that
shows what a CPU-bound thread costs the keys.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from qclabel.core import edits
from qclabel.core.model import Box
from qclabel.project import Project

OPTIONS = {"version": None, "settings": {}, "task": "detect", "link": "copy", "no_synthetic": False}


def label_for_export(project: Project) -> None:
    """Final labels for every image (by an annotator the benchmark never drives), so the
    export has images and boxes to write."""
    with project.store.open_session("bench-line") as s:
        for n, image in enumerate(project.store.catalog.ids()):
            s.commit(
                edits.apply(
                    image,
                    s.annotation(image),
                    edits.set_class("dent", "minor"),
                    edits.add_box(Box("dent", 40 + n, 40, 300, 200)),
                )
            )


@contextlib.contextmanager
def busy_cores() -> Iterator[int]:
    """One process spinning on each core (as other users' jobs on a shared server)."""
    cores = len(os.sched_getaffinity(0))
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        yield cores
    finally:
        for p in procs:
            p.kill()
            p.wait()


def export_loop(
    root: Path, out: Path, stop: threading.Event, done: list[int], thread: bool = False
) -> None:
    """Export the project again and again into `out` until `stop` is set."""
    from qclabel.tui.job_tasks import export_task
    from qclabel.tui.jobs import run_in_process

    while not stop.is_set():
        if thread:
            export_task(str(root), "coco", str(out), OPTIONS, progress=None, cancel=stop)
        else:
            run_in_process(export_task, str(root), "coco", str(out), OPTIONS, cancelled=stop.is_set)
        done[0] += 1


@contextlib.contextmanager
def exporting(root: Path, out: Path, thread: bool = False) -> Iterator[list[int]]:
    """The export loop in a plain thread of this process (for the decode floor)."""
    stop, done = threading.Event(), [0]
    t = threading.Thread(target=_quiet_loop, args=(root, out, stop, done, thread))
    t.start()
    try:
        yield done
    finally:
        stop.set()
        t.join()


def _quiet_loop(
    root: Path, out: Path, stop: threading.Event, done: list[int], thread: bool
) -> None:
    from qclabel.errors import QclabelError

    with contextlib.suppress(QclabelError):  # cancelled when the run ends
        export_loop(root, out, stop, done, thread)


def start_in_app(app, root: Path, out: Path, thread: bool = False):
    """The export loop as a worker of the running app; returns (stop, done)."""
    stop, done = threading.Event(), [0]
    app.run_worker(
        lambda: _quiet_loop(root, out, stop, done, thread),
        thread=True,
        group="bench-export",
        name="bench-export",
    )
    return stop, done
