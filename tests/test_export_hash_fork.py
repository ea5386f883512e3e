"""A live export's content hash, computed in a forked child while the files are written
(formats.live.LiveHash, through qclabel.forked): the same hash as a version of the same
labels when the child works, fails or is killed, or cannot be started (another thread
runs); no child left behind when the export fails or its process is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qclabel.versions import build_manifest

from test_cache_attack_fork import gone
from test_formats_common import make_box_project

SCRIPT = """
import json, os, signal, sys, threading, time
from pathlib import Path
from qclabel.formats import export_project, live
from qclabel.project import Project
root, out, mode = sys.argv[1:4]
parent, forks = os.getpid(), []
real_fork, real_text = os.fork, live.label_text
def fork():
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid
def text(annotation):
    if os.getpid() != parent:
        if mode == "fails":
            raise RuntimeError("child fails")
        if mode == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "slow":
            os.write(1, b"child %d\\n" % os.getpid())
            time.sleep(2)
    return real_text(annotation)
os.fork, live.label_text = fork, text
live.LOOK = 1  # a look at the parent before each label (3 of them)
if mode == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
if mode in ("writer-fails", "slow"):
    from qclabel import formats
    def broken(*a, **k):
        if mode == "slow":
            time.sleep(60)
        raise OSError("disk full")
    formats.EXPORTERS["coco"] = broken
try:
    result = export_project(Project.open(Path(root)), "coco", Path(out), link="none")
    done = result.hash
except Exception as exc:  # the export's one line for the failed write
    done = "failed: " + str(exc)
reaped = []
for pid in forks:
    try:
        os.waitpid(pid, os.WNOHANG)
        reaped.append(False)
    except ChildProcessError:
        reaped.append(True)
print(json.dumps({"result": done, "forks": len(forks), "reaped": reaped}))
"""


def run(tmp: Path, mode: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp / "proj"), str(tmp / f"out-{mode}"), mode],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("hashfork")
    p = make_box_project(tmp)
    return tmp, build_manifest(p)["hash"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="forks only with a second CPU")
@pytest.mark.parametrize("mode", ["works", "fails", "killed"])
def test_the_hash_is_the_versions_whatever_the_child_does(project, mode):
    tmp, want = project
    got = run(tmp, mode)
    assert got == {"result": want, "forks": 1, "reaped": [True]}
    version = json.loads((tmp / f"out-{mode}" / "qclabel_version.json").read_text())
    assert version["content_hash"] == want


def test_no_child_while_another_thread_runs(project):
    tmp, want = project
    assert run(tmp, "thread") == {"result": want, "forks": 0, "reaped": []}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="forks only with a second CPU")
def test_a_failed_export_leaves_no_child(project):
    tmp, _ = project
    got = run(tmp, "writer-fails")
    assert "disk full" in str(got.pop("result"))
    assert got == {"forks": 1, "reaped": [True]}
    assert not (tmp / "out-writer-fails").exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="forks only with a second CPU")
def test_no_child_outlives_a_killed_export(project):
    """`kill PID` of the exporting process alone: its child stops hashing at its next
    look (a killed parent cannot reap it; it is nobody's work any more)."""
    tmp, _ = project
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp / "proj"), str(tmp / "out-slow"), "slow"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert line and line[0] == "child", line
    child = int(line[1])
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert _waitgone(child, 3.5), "the child is still hashing"  # 6 s without a look
    finally:
        if not gone(child):
            os.kill(child, signal.SIGKILL)
        proc.stdout.close()


def _waitgone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return False
