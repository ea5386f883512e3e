"""No orphans: when its terminal goes away the app leaves by itself, with every label it
acknowledged on disk and its position saved; SIGINT at any moment of startup leaves
without a traceback. Real processes on real ptys (`os.openpty`)."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from qclabel import identity
from qclabel.project import Project
from test_tui_support import make_project

REPO = Path(__file__).resolve().parent.parent
QCLABEL = [sys.executable, "-c", "from qclabel.entry import main; main()"]
HANG = 30.0  # far beyond "within seconds": only a hang takes this long


class Pty:
    def __init__(self, args: list[str], controlling: bool) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 800, 510))

        def child() -> None:
            os.setsid()
            if controlling:  # as sshd does: the pty is the session's terminal
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        env = {**os.environ, "TERM": "xterm-256color"}
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, preexec_fn=child
        )
        os.close(slave)
        self.out = b""

    def read_until(self, text: bytes, timeout: float = HANG) -> bool:
        deadline = time.monotonic() + timeout
        while text not in self.out and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    return text in self.out
            elif self.proc.poll() is not None:
                break
        return text in self.out

    def drain(self) -> None:
        self.read_until(b"\0never\0", timeout=0.5)

    def close(self) -> None:
        if self.master is not None:
            os.close(self.master)
            self.master = None

    def wait(self) -> int | None:
        try:
            return self.proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def proj(tmp_path):
    user = identity.current_user()
    project = make_project(tmp_path)
    project.add_role("admin", user, "annotator")
    return project, user


@pytest.mark.parametrize("controlling", [False, True], ids=["no-sighup", "sighup"])
def test_terminal_torn_down_while_idle_exits_with_every_label(proj, controlling):
    project, user = proj
    term = Pty(QCLABEL + ["label", str(project.root), "--graphics", "halfcell"], controlling)
    try:
        assert term.read_until(b"queue unlabeled"), term.out[-500:]
        os.write(term.master, b"p")
        assert term.read_until(b"saved: pass")
        os.write(term.master, b"42")
        assert term.read_until(b"saved: porosity (major)")
        term.drain()  # idle now
        term.close()  # the terminal goes away: no more input, output fails
        rc = term.wait()
    finally:
        term.close()
    assert rc == 129, "the app did not leave after its terminal went away"
    events = [
        json.loads(x) for x in (project.root / "labels" / f"{user}.jsonl").read_text().splitlines()
    ]
    q = Project.open(project.root).store.catalog.ids()
    assert [
        (e["image"], e["after"]["verdict"], e["after"]["defect_class"], e["after"]["severity"])
        for e in events
    ] == [
        (q[0], "pass", None, None),
        (q[1], "fail", "porosity", None),
        (q[1], "fail", "porosity", "major"),
    ]
    pos = Project.open(project.root).store.documents(f"labels/{user}.ui").get("position")
    assert pos["image"] == q[2]  # auto-advanced after the severity: resumes there
    with project.store.open_session(user):  # closed cleanly: the lock is free
        pass


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0, 3.5])
def test_sigint_during_startup_prints_no_traceback(proj, delay):
    project, user = proj
    term = Pty(QCLABEL + ["label", str(project.root), "--graphics", "halfcell"], False)
    try:
        term.read_until(b"\0never\0", timeout=delay)
        term.proc.send_signal(signal.SIGINT)
        term.read_until(b"\0never\0", timeout=2.0)
        if term.proc.poll() is None:  # it had not started yet when the signal came
            os.write(term.master, b"q")
        rc = term.wait()
        term.drain()
    finally:
        term.close()
    text = term.out.decode(errors="replace")
    assert "Traceback" not in text and "Error" not in text, text[-1500:]
    assert rc in (130, 1, 0, -signal.SIGINT), rc  # 1: click's "Aborted!" before the app
    with project.store.open_session(user):
        pass
