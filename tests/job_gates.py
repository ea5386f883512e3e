"""Gates for the app's background jobs, which run in a child process: a test holds the
job half-way through files in a folder (a threading.Event cannot cross processes).

The child imports this module (tests/ is on sys.path there too: multiprocessing hands
the parent's path to every child it starts)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from qclabel.tui.job_tasks import export_task

HOLD_AT = 2


def _hold(gate: Path, done: int, cancel: Any = None) -> None:
    """Held at HOLD_AT until `release` exists or the child's cancel flag is set (which
    the app passes on a poll later than the key: a test that cancels waits for it)."""
    if done == HOLD_AT:
        (gate / "reached").touch()
        end = time.monotonic() + 60
        while not (gate / "release").exists() and time.monotonic() < end:
            if cancel is not None and cancel.is_set():
                return
            time.sleep(0.01)


def gated_export(gate: str, *args: Any, progress: Any, cancel: Any) -> str:
    """The real export task, held after its second image until `release` exists or
    it is cancelled."""
    folder = Path(gate)
    (folder / "pid").write_text(str(os.getpid()))

    def step(done: int, total: int) -> None:
        progress(done, total)
        _hold(folder, done, cancel)

    return export_task(*args, progress=step, cancel=cancel)


def held_report(gate: str, *args: Any, progress: Any, cancel: Any) -> dict[str, Any]:
    """A QA report task that never finishes on its own (it writes its pid first)."""
    (Path(gate) / f"pid-{os.getpid()}").touch()
    while True:
        time.sleep(0.05)


async def wait_for_file(path: Path, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"{path.name} never appeared"
        await asyncio.sleep(0.02)


async def wait_until(test, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < end, "condition never came true"
        await asyncio.sleep(0.02)


def alive(pid: int) -> bool:
    """A running (not zombie) process with that id."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status
