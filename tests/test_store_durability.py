"""Real processes against a real project folder: kill -9 at random moments (with and
without failing saves), kill -9 between the journal write and the acknowledgement mark,
one 100k-label batch, four annotators at once, and the one-session-per-user lock across
processes."""

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
from qclabel.store.ackmark import read_ack
from qclabel.store.audit import verify_all, verify_journal
from qclabel.store.labels import snapshot_tail

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from label_writer import image_name, label_for  # noqa: E402

WRITER = Path(__file__).parent / "helpers" / "label_writer.py"


def spawn(root: Path, user: str, first: int, count: int, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(root), user, str(first), str(count), *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_after(proc: subprocess.Popen, acks: int) -> list[str]:
    """Read `acks` ACK lines (or until READY when acks < 0), SIGKILL at once, and
    return every image the writer acknowledged, including lines still in the pipe."""
    return kill_reading(proc, acks)[0]


def kill_reading(proc: subprocess.Popen, reports: int) -> tuple[list[str], list[str]]:
    """Read `reports` ACK or FAIL lines (or until READY when < 0), SIGKILL at once, and
    return the images acknowledged and those whose save failed, including what is
    still in the pipe."""
    lines: list[bytes] = []
    if reports >= 0:
        assert proc.stdout.readline() == b"READY\n"
        while len(lines) < reports:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    proc.send_signal(signal.SIGKILL)
    # Read on through the same buffered file: communicate() would read the pipe itself
    # and lose what readline() had already buffered.
    lines += proc.stdout.read().splitlines()
    proc.communicate()
    return (
        [ln.split()[1].decode() for ln in lines if ln.startswith(b"ACK ")],
        [ln.split()[1].decode() for ln in lines if ln.startswith(b"FAIL ")],
    )


def assert_all_saved(root: Path, user: str, acked: dict[str, int]) -> None:
    state = Store(root).state(user)  # verifies the chain from the snapshot on
    for image, n in acked.items():
        assert state.get(image) == label_for(user, n).to_dict(), image
    finding = verify_journal(root / "labels", user)
    assert finding.ok, finding.message


def prebuild(root: Path, user: str, count: int) -> None:
    """A journal and snapshot of `count` labels, written in one batch."""
    with Store(root).open_session(user) as session:
        session.commit_many(
            [edits.Change(f"old{n:06d}", Annotation(), label_for(user, n)) for n in range(count)]
        )


def new_labels(root: Path, user: str, first: int, count: int) -> set[str]:
    images = {image_name(n) for n in range(first, first + count)}
    return {img for img, _ in Store(root).state(user).items("label") if img in images}


@pytest.mark.slow
def test_kill9_at_random_moments_never_loses_an_acknowledged_label(tmp_path: Path) -> None:
    """Every other round the writer's disk fails at random (the journal's fdatasync,
    the mark's, the cut that undoes them): an acknowledged label always survives, and
    a label whose save failed, or that the kill caught before it was acknowledged,
    never appears, neither for readers nor after the next session opened."""
    rng = random.Random(20261127)
    root, acked, gone = tmp_path / "p", {}, set()
    started = time.monotonic()
    failures = 0
    for round_no in range(40):
        if round_no >= 25 and time.monotonic() - started > 30:
            break  # a loaded machine: 25 rounds are enough, keep the suite bounded
        first = round_no * 1000
        flags = ["--snapshot-every", str(rng.choice([1, 4, 50]))] if round_no % 2 else []
        flags += ["--flaky", str(round_no)] if round_no % 4 < 2 else []
        proc = spawn(root, "alice", first, 500, *flags)
        when = -1 if round_no % 8 == 7 else rng.randint(0, 40)  # -1: kill during startup
        ok, failed = kill_reading(proc, when)
        failures += len(failed)
        for image in ok:
            acked[image] = int(image[3:])
        reported = [int(i[3:]) for i in ok + failed]
        in_flight = image_name(max(reported) + 1 if reported else first)
        present = new_labels(root, "alice", first, 500)
        assert present - set(ok) <= {in_flight}  # at most the one the kill caught
        gone |= set(failed) | ({in_flight} - present)
        assert_all_saved(root, "alice", acked)
        assert not gone & {img for img, _ in Store(root).state("alice").items("label")}
    with Store(root).open_session("alice") as session:  # moves every stray byte aside
        assert not gone & {img for img, _ in session.state.items("label")}
    assert_all_saved(root, "alice", acked)
    assert len(acked) > 200 and failures > 5


@pytest.mark.slow
@pytest.mark.parametrize("plan", ["sync+cut", "ack+cut"])
@pytest.mark.parametrize("batch", [False, True], ids=["commit", "commit_many"])
def test_failed_save_then_kill9_never_reappears(tmp_path: Path, plan: str, batch: bool) -> None:
    """The save fails and so does cutting it off again (the failed lines stay in the
    journal); the process dies; the disk recovers and the writer restarts: the label is
    absent, for readers at once and for every session after."""
    root, user = tmp_path / "p", "ivy"
    prebuild(root, user, 10)
    if batch:
        proc = spawn(root, user, 0, 50, "--batch", "--fail-at", f"0:{plan}", "--hold")
        expected, failed = [b"FAIL BATCH\n"], [image_name(n) for n in range(50)]
    else:
        proc = spawn(root, user, 0, 4, "--fail-at", f"3:{plan}", "--hold")
        expected = [f"ACK {image_name(n)}\n".encode() for n in range(3)]
        expected.append(f"FAIL {image_name(3)}\n".encode())
        failed = [image_name(3)]
    assert proc.stdout.readline() == b"READY\n"
    assert [proc.stdout.readline() for _ in expected] == expected
    jpath = root / "labels" / f"{user}.jsonl"
    assert jpath.stat().st_size > read_ack(root / "labels" / f"{user}.ack", user).offset
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    state = Store(root).state(user)
    assert not [i for i in failed if state.get(i) is not None] and not state.damage
    again = spawn(root, user, 100, 2)  # the restarted writer: no faults now
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    state = Store(root).state(user)
    assert not [i for i in failed if state.get(i) is not None]
    assert len(state) == 10 + (0 if batch else 3) + 2
    assert verify_journal(root / "labels", user).ok
    [aside] = (root / "labels").glob(f"{user}.jsonl.torn-*")
    assert aside.read_bytes().count(b"\n") == len(failed)


@pytest.mark.slow
@pytest.mark.parametrize("step", ["ack", "write"])
def test_kill9_between_write_and_ack_never_reappears(tmp_path: Path, step: str) -> None:
    """Killed inside the commit after the journal line is durable but before the mark
    (or half-way through the write): never acknowledged, so never replayed."""
    root, user = tmp_path / "p", "jay"
    prebuild(root, user, 10)
    jpath = root / "labels" / f"{user}.jsonl"
    size = jpath.stat().st_size
    proc = spawn(root, user, 0, 5, "--die-in", step)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL and out == b"READY\n"
    grown = jpath.read_bytes()[size:]
    assert grown.endswith(b"\n") == (step == "ack") and grown  # the line is in the file
    assert read_ack(root / "labels" / f"{user}.ack", user).offset == size
    assert Store(root).state(user).get(image_name(0)) is None
    with Store(root).open_session(user) as session:
        assert session.get(image_name(0)) is None and len(session.state) == 10
        assert jpath.stat().st_size == size
    assert verify_journal(root / "labels", user).ok


@pytest.mark.slow
def test_a_100k_label_batch_is_all_or_nothing(tmp_path: Path) -> None:
    """One commit_many of 100,000 labels (an import): killed after every line is
    durable but before the mark, none of them counts; the next run saves all."""
    root, user, n = tmp_path / "p", "kim", 100_000
    prebuild(root, user, 10)
    proc = spawn(root, user, 0, n, "--batch", "--die-in", "ack")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL and out == b"READY\n"
    jpath = root / "labels" / f"{user}.jsonl"
    assert jpath.read_bytes().count(b"\n") == 10 + n  # all written, none acknowledged
    state = Store(root).state(user)
    assert len(state) == 10 and state.torn.data.count(b"\n") == n and not state.damage
    proc = spawn(root, user, 0, n, "--batch")
    out, err = proc.communicate(timeout=600)
    assert out == b"READY\nACK BATCH\n", err.decode()
    state = Store(root).state(user)
    assert len(state) == 10 + n and not state.damage
    assert state.get(image_name(n - 1)) == label_for(user, n - 1).to_dict()


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
    # --hold: the kill lands with the session still open (without it, the writer could
    # close, writing its snapshot, between its 30th ACK and the kill)
    proc = spawn(root, "carol", 500, 30, "--hold")
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
    procs = [
        spawn(root, u, i * 10000, 60, "--read-others", "--snapshot-every", "20")
        for i, u in enumerate(users)
    ]
    store = Store(root)
    while any(p.poll() is None for p in procs):
        for user in store.users():  # read while they write: a growing journal is fine
            assert not store.state(user).damage
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err.decode()
        assert out.count(b"ACK ") == 60
    for i, user in enumerate(users):
        state = store.state(user)
        mine = {
            image_name(n): label_for(user, n).to_dict() for n in range(i * 10000, i * 10000 + 60)
        }
        assert {img: e["after"] for img, e in state.items("label")} == mine
    assert all(f.ok for f in verify_all(root / "labels"))


@pytest.mark.slow
def test_readers_see_no_damage_while_a_writer_snapshots_after_every_commit(tmp_path: Path) -> None:
    """The mark records each new snapshot's hash before the rename, so a reader caught
    between a new snapshot and its mark reads again instead of reporting damage."""
    root = tmp_path / "p"
    prebuild(root, "lee", 300)
    proc = spawn(root, "lee", 0, 150, "--snapshot-every", "1")
    store, reads = Store(root), 0
    while proc.poll() is None:
        state = store.state("lee")
        assert not state.damage, state.damage
        reads += 1
    out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert reads > 10 and len(store.state("lee")) == 450


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
