"""A large spot-check hash in two processes (qa.spot_digests, through qclabel.forked):
the same bytes as one process gives, when the child works, fails or is killed, no child
left behind, and no fork at all while another thread runs."""

from __future__ import annotations

import subprocess
import sys
import threading

from qclabel import forked

SCRIPT = """
import hashlib, os, signal, sys
from qclabel.qa import spot_digests as sd
mode = sys.argv[1]
ids = [f"{i:016x}" for i in range(sd.PARALLEL + 1001)]
parent, forks = os.getpid(), []
real_fork, real_hash = os.fork, sd._hash
def fork():
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid
def hash_(part, seed):
    if os.getpid() != parent:
        if mode == "fails":
            raise RuntimeError("child fails")
        if mode == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
    return real_hash(part, seed)
os.fork, sd._hash = fork, hash_
got = sd.compute(ids, 7)
want = b"".join(hashlib.sha256(f"7:{i}".encode()).digest()[:16] for i in ids)
assert got == want, "digests differ"
assert len(forks) == 1, forks
try:
    os.waitpid(forks[0], os.WNOHANG)
    print("child not reaped")
except ChildProcessError:
    print("ok")
"""


def run(mode: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_two_processes_give_the_bytes_of_one():
    assert run("works") == "ok"


def test_a_failing_or_killed_child_is_hashed_here():
    assert run("fails") == "ok"
    assert run("killed") == "ok"


def test_no_fork_while_another_thread_runs():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert forked.start(lambda alive: b"") is None
    finally:
        stop.set()
        t.join()
