"""Real processes against a real project folder: kill -9 at random moments, four
annotators at once, and the one-session-per-user lock across processes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qclabel.core import edits
from qclabel.core.model import Annotation
from qclabel.errors import SessionLocked
from qclabel.store import Store
from qclabel.store.audit import verify_all, verify_journal
from qclabel.store.labels import snapshot_tail

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from label_writer import image_name, label_for  # noqa: E402

WRITER = Path(__file__).parent / "helpers" / "label_writer.py"


def spawn(root: Path, user: str, first: int, count: int, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WRITER), str(root), user, str(first),
                             str(count), *flags], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_after(proc: subprocess.Popen, acks: int) -> list[str]:
    """Read `acks` ACK lines (or until READY when acks < 0), SIGKILL at once, and
    return every image the writer acknowledged, including lines still in the pipe."""
    seen: list[str] = []
    if acks >= 0:
        assert proc.stdout.readline() == b"READY\n"
        while len(seen) < acks:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line.split()[1].decode())
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    seen += [ln.split()[1].decode() for ln in out.splitlines() if ln.startswith(b"ACK ")]
    return seen


def assert_all_saved(root: Path, user: str, acked: dict[str, int]) -> None:
    state = Store(root).state(user)  # verifies the chain from the snapshot on
    for image, n in acked.items():
        assert state.get(image) == label_for(user, n).to_dict(), image
    finding = verify_journal(root / "labels", user)
    assert finding.ok, finding.message


def prebuild(root: Path, user: str, count: int) -> None:
    """A journal and snapshot of `count` labels, written in one batch."""
    with Store(root).open_session(user) as session:
        session.commit_many([edits.Change(f"old{n:06d}", Annotation(), label_for(user, n))
                             for n in range(count)])


@pytest.mark.slow
def test_kill9_at_random_moments_never_loses_an_acknowledged_label(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    root, acked = tmp_path / "p", {}
    started = time.monotonic()
    for round_no in range(40):
        if round_no >= 25 and time.monotonic() - started > 30:
            break  # a loaded machine: 25 rounds are enough, keep the suite bounded
        first = round_no * 1000
        flags = ["--snapshot-every", str(rng.choice([1, 4, 50]))] if round_no % 2 else []
        proc = spawn(root, "alice", first, 500, *flags)
        when = -1 if round_no % 8 == 7 else rng.randint(0, 40)  # -1: kill during startup
        for image in kill_after(proc, when):
            acked[image] = int(image[3:])
        assert_all_saved(root, "alice", acked)
    assert len(acked) > 200


@pytest.mark.slow
def test_kill9_while_writing_the_snapshot(tmp_path: Path) -> None:
    """A large state makes each snapshot take far longer than a commit, so random kills
    land inside snapshot writes; two more rounds die exactly inside the atomic write
    (temp file written but not synced; synced but not renamed). The old snapshot must
    survive intact and every acknowledged label must be there."""
    root = tmp_path / "p"
    prebuild(root, "bob", 5000)
    acked: dict[str, int] = {}
    plans = [[], [], [], ["--die-in", "fsync"], ["--die-in", "rename"]]
    for round_no, extra in enumerate(plans):
        proc = spawn(root, "bob", 100000 + round_no * 100, 100, "--snapshot-every", "1", *extra)
        for image in kill_after(proc, 1000 if extra else round_no):
            acked[image] = int(image[3:])
        if extra:
            assert proc.returncode == -signal.SIGKILL
            assert list((root / "labels").glob(".bob.snapshot.json.*.tmp")), "no temp file"
        assert_all_saved(root, "bob", acked)
    with Store(root).open_session("bob") as session:  # a new session sweeps temp files
        # each killed writer may have saved one label it had no time to acknowledge
        assert 5000 + len(acked) <= len(session.state) <= 5000 + len(acked) + len(plans)
    assert not list((root / "labels").glob(".bob.snapshot.json.*.tmp"))


@pytest.mark.slow
def test_startup_after_a_crash_replays_the_tail(tmp_path: Path) -> None:
    root = tmp_path / "p"
    prebuild(root, "carol", 50)  # closing writes a snapshot covering these 50
    proc = spawn(root, "carol", 500, 30)
    acked = kill_after(proc, 30)
    assert len(acked) >= 30
    assert snapshot_tail(root / "labels", "carol").seq == 50  # the killed one never wrote one
    with Store(root).open_session("carol") as session:
        assert session.state.tail.seq >= 80
        for image in acked:
            assert session.get(image) == label_for("carol", int(image[3:])).to_dict()


@pytest.mark.slow
def test_four_annotators_at_once_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    users = ["ann", "ben", "cas", "dia"]
    procs = [spawn(root, u, i * 10000, 60, "--read-others", "--snapshot-every", "20")
             for i, u in enumerate(users)]
    store = Store(root)
    while any(p.poll() is None for p in procs):
        for user in store.users():  # read while they write: a growing journal is fine
            store.state(user)
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err.decode()
        assert out.count(b"ACK ") == 60
    for i, user in enumerate(users):
        state = store.state(user)
        mine = {image_name(n): label_for(user, n).to_dict()
                for n in range(i * 10000, i * 10000 + 60)}
        assert {img: e["after"] for img, e in state.items("label")} == mine
    assert all(f.ok for f in verify_all(root / "labels"))


def test_second_session_of_a_user_is_refused_in_process(tmp_path: Path) -> None:
    store = Store(tmp_path / "p")
    first = store.open_session("eve")
    with pytest.raises(SessionLocked, match="eve already has a labeling session open"):
        store.open_session("eve")
    other = store.open_session("fay")  # another annotator is not affected
    other.close()
    first.close()
    store.open_session("eve").close()  # released on close


@pytest.mark.slow
def test_second_session_of_a_user_is_refused_across_processes(tmp_path: Path) -> None:
    root = tmp_path / "p"
    holder = spawn(root, "gus", 0, 1, "--hold")
    assert holder.stdout.readline() == b"READY\n"
    second = spawn(root, "gus", 10, 1)
    out, err = second.communicate(timeout=60)
    assert second.returncode == SessionLocked.exit_code
    assert b"gus already has a labeling session open" in err
    assert f"pid {holder.pid}".encode() in err
    assert out == b""
    with pytest.raises(SessionLocked):
        Store(root).open_session("gus")
    holder.communicate(b"")  # closing stdin ends the session cleanly
    assert holder.returncode == 0
    Store(root).open_session("gus").close()


@pytest.mark.slow
def test_a_killed_session_leaves_no_stale_lock(tmp_path: Path) -> None:
    root = tmp_path / "p"
    holder = spawn(root, "hal", 0, 3, "--hold")
    acked = kill_after(holder, 3)
    with Store(root).open_session("hal") as session:
        assert [session.get(i) is not None for i in acked] == [True] * 3
