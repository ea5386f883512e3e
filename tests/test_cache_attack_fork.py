"""The spot-check hash's forked child (qa.spot_digests, through qclabel.forked) when its
parent goes: Ctrl-C (SIGINT to the process group, or to the parent alone) and SIGTERM to the parent
alone (`kill PID`, a supervisor's timeout). No child is left hashing once the parent is
gone, and none holds the parent's output open: whoever reads the command's output sees
its end when the command ends, not when a forgotten child finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

# A slow machine: 50k ids a second in the child (the parent waits in its own half).
SCRIPT = """
import os, sys, time
from qclabel.qa import spot_digests as sd
ids = [f"{i:016x}" for i in range(sd.PARALLEL + 1001)]
parent, real = os.getpid(), sd._hash
def slow(part, seed):
    if os.getpid() != parent:  # one write each: the two lines never interleave
        os.write(1, b"child %d\\n" % os.getpid())
        time.sleep(len(part) / 50_000)
    else:
        os.write(1, b"parent\\n")
        time.sleep(60)
    return real(part, seed)
sd._hash = slow
sd.compute(ids, 7)
"""


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def start() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    child = 0
    for _ in range(2):
        line = proc.stdout.readline().split()
        if line and line[0] == "child":
            child = int(line[1])
    assert child, "no child was forked"
    return proc, child


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("how", ["ctrl-c", "sigint", "sigterm"])
def test_no_child_outlives_its_parent(how):
    proc, child = start()
    try:
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT if how == "sigint" else signal.SIGTERM)
        proc.wait(timeout=30)
        t0 = time.monotonic()
        assert proc.stdout is not None
        proc.stdout.read()  # the end of the output: no process holds it open any more
        waited = time.monotonic() - t0
        assert waited < 1.0, f"the output stayed open {waited:.1f} s after the command ended"
        deadline = time.monotonic() + 1.0
        while not gone(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gone(child), "the child is still hashing"
    finally:
        for pid in (child, proc.pid):  # the ones this test started, if still running
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
