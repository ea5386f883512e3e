"""Injected I/O errors (full disk, read-only, EIO): a save fails visibly, acknowledges
nothing, leaves the in-memory state as it was and every file valid. Tests run as root,
where chmod does not make anything read-only, so the errors are injected."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from qclabel.core import edits
from qclabel.core.model import Annotation, ImageRecord
from qclabel.errors import JournalCorrupt, StoreWriteError
from qclabel.project import Project
from qclabel.store import Store, ackmark, atomic, journal
from qclabel.store.audit import verify_journal


def change(image: str, verdict: str = "fail") -> edits.Change:
    return edits.apply(image, Annotation(), edits.set_verdict(verdict))


def fail_with(code: int):
    def boom(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return boom


@pytest.fixture
def session(tmp_path: Path):
    store = Store(tmp_path / "p")
    s = store.open_session("alice")
    s.commit(change("img1", "pass"))
    yield s
    s.close()


def snapshot_of(session) -> tuple[dict, object, int]:
    path = journal.Path(session._writer.path)
    return dict(session.state.entries), session.state.tail, path.stat().st_size


def assert_unchanged(session, before: tuple[dict, object, int]) -> None:
    entries, tail, size = before
    assert session.state.entries == entries
    assert session.state.tail == tail
    assert session._writer.path.stat().st_size == size
    assert verify_journal(session.labels_dir, "alice").ok


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EIO])
def test_write_error_acknowledges_nothing(session, monkeypatch, code: int) -> None:
    before = snapshot_of(session)
    monkeypatch.setattr(journal.os, "write", fail_with(code))
    with pytest.raises(
        StoreWriteError, match=f"label not saved: cannot write .*alice.jsonl: {os.strerror(code)}"
    ):
        session.commit(change("img2"))
    monkeypatch.undo()
    assert_unchanged(session, before)
    assert session.get("img2") is None
    session.commit(change("img2"))  # once the disk has room again, saving works
    assert Store(session.labels_dir.parent).state("alice").get("img2")["verdict"] == "fail"


def test_short_write_then_full_disk_is_cut_back(session, monkeypatch) -> None:
    """Half the line reaches the file, then the disk is full: the half line is removed."""
    before = snapshot_of(session)
    real_write = os.write
    calls = []

    def half_then_full(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal.os, "write", half_then_full)
    with pytest.raises(StoreWriteError):
        session.commit(change("img2"))
    monkeypatch.undo()
    assert len(calls) == 2
    assert_unchanged(session, before)


def test_fdatasync_error_acknowledges_nothing(session, monkeypatch) -> None:
    """The line was written but could not be made durable: it must not stay behind."""
    before = snapshot_of(session)
    monkeypatch.setattr(journal.os, "fdatasync", fail_with(errno.EIO))
    with pytest.raises(StoreWriteError, match="Input/output error"):
        session.commit(change("img2"))
    monkeypatch.undo()
    assert_unchanged(session, before)


def test_failed_cleanup_is_retried_before_the_next_append(session, monkeypatch) -> None:
    """Write lands, fsync fails, and cutting the line off fails too: the next commit must
    first cut it off, or the journal would hold a line that was never acknowledged."""
    entries, tail, size = snapshot_of(session)
    monkeypatch.setattr(journal.os, "fdatasync", fail_with(errno.EIO))
    monkeypatch.setattr(journal.os, "ftruncate", fail_with(errno.EIO))
    with pytest.raises(StoreWriteError):
        session.commit(change("img2", "fail"))
    assert session._writer.path.stat().st_size > size  # the stray line is still there
    monkeypatch.undo()
    session.commit(change("img3", "pass"))
    state = Store(session.labels_dir.parent).state("alice")
    assert state.get("img2") is None and state.get("img3")["verdict"] == "pass"
    assert state.tail.seq == tail.seq + 1
    assert verify_journal(session.labels_dir, "alice").ok


def test_batch_commit_is_all_or_nothing(session, monkeypatch) -> None:
    before = snapshot_of(session)
    monkeypatch.setattr(journal.os, "fdatasync", fail_with(errno.ENOSPC))
    with pytest.raises(StoreWriteError):
        session.commit_many([change(f"b{i}") for i in range(50)])
    monkeypatch.undo()
    assert_unchanged(session, before)
    events = session.commit_many([change(f"b{i}") for i in range(50)])
    assert [e["seq"] for e in events] == list(range(2, 52))


def test_journal_cannot_be_opened(tmp_path: Path, monkeypatch) -> None:
    """A read-only project: opening a session fails clearly and holds no lock."""
    store = Store(tmp_path / "p")
    real_open = os.open

    def no_journal(path, *args, **kwargs):
        if str(path).endswith(".jsonl"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(journal.os, "open", no_journal)
    with pytest.raises(
        StoreWriteError, match="cannot open .*alice.jsonl for writing: Read-only file system"
    ):
        store.open_session("alice")
    monkeypatch.setattr(journal.os, "open", fail_with(errno.EROFS))
    with pytest.raises(
        StoreWriteError, match="cannot open a labeling session in .*labels: Read-only file system"
    ):
        store.open_session("alice")
    monkeypatch.undo()
    store.open_session("alice").close()  # the failed attempts released the lock


@pytest.mark.parametrize("target", ["fsync", "replace", "write"])
def test_snapshot_write_error_keeps_the_old_snapshot(session, monkeypatch, target) -> None:
    session.snapshot()
    snap = session.labels_dir / "alice.snapshot.json"
    old = snap.read_bytes()
    session.commit(change("img2"))
    if target == "write":  # the temp file's buffered write fails: disk full
        monkeypatch.setattr(atomic.os, "fdopen", _fdopen_full_disk)
    else:
        monkeypatch.setattr(atomic.os, target, fail_with(errno.ENOSPC))
    with pytest.raises(StoreWriteError, match="alice.snapshot.json"):
        session.snapshot()
    monkeypatch.undo()
    assert snap.read_bytes() == old
    assert not list(session.labels_dir.glob(".*.tmp")), "temp file left behind"
    json.loads(old)
    assert Store(session.labels_dir.parent).state("alice").get("img2")["verdict"] == "fail"


def _fdopen_full_disk(fd, mode="r", *a, **kw):
    fh = open(fd, mode, *a, **kw)

    class Full:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self):
            return fh.fileno()

        def flush(self):
            pass

    return Full()


def test_close_with_a_full_disk_still_keeps_every_label(session, monkeypatch) -> None:
    session.commit(change("img2"))
    monkeypatch.setattr(atomic.os, "replace", fail_with(errno.ENOSPC))
    session.close()  # the snapshot is best effort: the journal alone is complete
    monkeypatch.undo()
    assert Store(session.labels_dir.parent).state("alice").get("img2")["verdict"] == "fail"


def test_catalog_full_disk_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    """SQLite's own SQLITE_FULL (the file may not grow) mid-batch: the whole batch is
    rolled back, the error names the catalog, and the file is byte for byte the same."""
    from qclabel.store import catalog_db

    project = Project.init(tmp_path / "p", "metal-stamping", user="admin")
    catalog = project.store.catalog
    catalog.add([ImageRecord("a" * 16, "a" * 64, "src/a.png", "a.png", 10, 10)])
    path = tmp_path / "p" / "catalog.sqlite"
    before = path.read_bytes()
    pages = len(before) // 4096
    monkeypatch.setattr(
        catalog_db, "WRITER_PRAGMAS", (*catalog_db.WRITER_PRAGMAS, f"PRAGMA max_page_count={pages}")
    )
    big = [
        ImageRecord(c * 16, c * 64, f"src/{c}.png", f"{c}.png", 10, 10, exif={"blob": c * 20000})
        for c in "bcd"
    ]
    with pytest.raises(StoreWriteError, match="catalog.sqlite.*full"):
        catalog.add(big)
    monkeypatch.undo()
    assert catalog.ids() == ["a" * 16] and Project.open(tmp_path / "p").store.catalog.ids() == [
        "a" * 16
    ]
    assert path.read_bytes() == before and not Path(f"{path}-journal").exists()


def test_config_write_error_keeps_roles(tmp_path: Path, monkeypatch) -> None:
    project = Project.init(tmp_path / "p", "metal-stamping", user="admin")
    before = project.config_path.read_bytes()
    monkeypatch.setattr(atomic.os, "replace", fail_with(errno.EROFS))
    # a role change is a signed event in the admin's role journal (its mark is renamed
    # into place on the first change)
    with pytest.raises(StoreWriteError, match="roles/admin.ack.*Read-only file system"):
        project.add_role("admin", "zoe", "annotator")
    monkeypatch.undo()
    assert "zoe" not in project.role_table()["annotator"]
    assert project.config_path.read_bytes() == before
    assert Project.open(tmp_path / "p").role_table()["annotator"] == []


def test_atomic_write_keeps_file_permissions(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    atomic.atomic_write_bytes(path, b"{}")
    assert path.stat().st_mode & 0o777 == 0o644  # readable by the other annotators
    path.chmod(0o640)
    atomic.atomic_write_bytes(path, b"[]")
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.read_bytes() == b"[]"


# -- a failed save is never on disk later ----------------------------------------------
# The acknowledgement mark is the commit point: bytes past it are never replayed. These
# tests fail the journal's fdatasync, the mark's fdatasync and the writes that undo them
# in every order, then let the process die (no cleanup code runs) and restart.


def target(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def inject(monkeypatch, plan: str) -> None:
    """EIO as a failing disk gives it. `sync`: the journal's fdatasync fails before it
    syncs; `cut`: every ftruncate fails (the failed line stays in the file); `ack`: the
    mark's fdatasync fails after its bytes went out (the worst case: they reach the disk);
    `undo`: every later write of the mark fails, so it cannot be put back."""
    steps = set(plan.split("+"))
    real_sync, real_cut, real_pwrite = os.fdatasync, os.ftruncate, os.pwrite

    def fdatasync(fd):
        name = target(fd)
        if name.endswith(".jsonl") and "sync" in steps:
            steps.discard("sync")
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_sync(fd)
        if name.endswith(".ack") and ("ack" in steps or "undo" in steps):
            steps.discard("ack")
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    def ftruncate(fd, length):
        if "cut" in steps:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_cut(fd, length)

    def pwrite(fd, data, offset):
        if "undo" in steps and "ack" not in steps and target(fd).endswith(".ack"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(journal.os, "fdatasync", fdatasync)
    monkeypatch.setattr(journal.os, "ftruncate", ftruncate)
    monkeypatch.setattr(journal.os, "pwrite", pwrite)


def die(session) -> None:
    """What a kill -9 leaves: the kernel closes the files, no cleanup code runs."""
    for holder, attr in (
        (session._writer, "_fd"),
        (session._writer.ack, "_fd"),
        (session, "_lock_fd"),
    ):
        os.close(getattr(holder, attr))
        setattr(holder, attr, -1)


def restart(session) -> Store:
    die(session)
    return Store(session.labels_dir.parent)


FAILED_SAVES = ["sync", "sync+cut", "ack", "ack+cut"]


@pytest.mark.parametrize("plan", FAILED_SAVES)
@pytest.mark.parametrize("batch", [False, True], ids=["commit", "commit_many"])
def test_failed_save_never_reappears_after_a_restart(
    session, monkeypatch, plan: str, batch: bool
) -> None:
    jpath = session._writer.path
    acked = jpath.stat().st_size
    inject(monkeypatch, plan)
    with pytest.raises(StoreWriteError, match="label not saved"):
        if batch:
            session.commit_many([change(f"b{i}") for i in range(20)])
        else:
            session.commit(change("img2"))
    monkeypatch.undo()  # the disk recovers ...
    if "cut" in plan:
        assert jpath.stat().st_size > acked  # the failed line is still in the file
    store = restart(session)  # ... and the process dies before it could clean up
    state = store.state("alice")  # a reader: never sees the failed save
    assert state.get("img2") is None and state.get("b0") is None and not state.damage
    with store.open_session("alice") as again:  # the next session moves the bytes aside
        assert again.get("img2") is None and again.get("b0") is None
        assert jpath.stat().st_size == acked
        again.commit(change("img3", "pass"))
    assert Store(session.labels_dir.parent).state("alice").get("img2") is None
    assert verify_journal(session.labels_dir, "alice").ok
    aside = list(session.labels_dir.glob("alice.jsonl.torn-*"))
    assert len(aside) == ("cut" in plan)
    if aside:
        assert aside[0].read_bytes().count(b"\n") == (20 if batch else 1)


def test_mark_sync_error_acknowledges_nothing(session, monkeypatch) -> None:
    """The journal line is durable, the mark's fdatasync fails: the save failed, the
    mark is put back and the line cut off, in the running session already."""
    before = snapshot_of(session)
    ack = ackmark.read_ack(session.labels_dir / "alice.ack", "alice")
    inject(monkeypatch, "ack")
    with pytest.raises(StoreWriteError, match="label not saved.*Input/output error"):
        session.commit(change("img2"))
    monkeypatch.undo()
    assert_unchanged(session, before)
    now = ackmark.read_ack(session.labels_dir / "alice.ack", "alice")
    assert (now.seq, now.offset, now.hash) == (ack.seq, ack.offset, ack.hash)


def test_mark_that_cannot_be_put_back_is_repaired_before_the_next_commit(
    session, monkeypatch
) -> None:
    inject(monkeypatch, "ack+undo")
    with pytest.raises(StoreWriteError):
        session.commit(change("img2"))
    assert session._writer.ack.dirty
    monkeypatch.undo()
    session.commit(change("img3", "pass"))  # puts the mark back first, then appends
    state = Store(session.labels_dir.parent).state("alice")
    assert state.get("img2") is None and state.get("img3")["verdict"] == "pass"
    assert not state.damage and verify_journal(session.labels_dir, "alice").ok


def test_mark_that_cannot_be_put_back_is_repaired_at_close(session, monkeypatch) -> None:
    inject(monkeypatch, "ack+undo")
    with pytest.raises(StoreWriteError):
        session.commit(change("img2"))
    monkeypatch.undo()
    session.close()
    with Store(session.labels_dir.parent).open_session("alice") as again:
        assert again.get("img2") is None and again.get("img1")["verdict"] == "pass"


def test_mark_not_put_back_then_killed_is_refused_never_a_phantom(session, monkeypatch) -> None:
    """The one case a failing disk leaves ambiguous: the mark of the failed save may be
    on disk and could not be undone, and the process died before retrying. The journal
    line was cut, so the label does not come back; the next session refuses and says so
    instead of guessing."""
    inject(monkeypatch, "ack+undo")
    with pytest.raises(StoreWriteError):
        session.commit(change("img2"))
    monkeypatch.undo()
    store = restart(session)
    state = store.state("alice")
    assert state.get("img2") is None
    assert "acknowledged lines missing from line 2 on" in str(state.damage[0])
    with pytest.raises(JournalCorrupt, match="alice.jsonl:2: acknowledged lines missing"):
        store.open_session("alice")


def test_large_batch_is_all_or_nothing(session, monkeypatch) -> None:
    """An import commits its labels as one batch: a disk that fills half-way through
    the write saves none of them, in the session and after a restart. (100k labels in
    one batch against kill -9: tests/test_store_durability.py.)"""
    before = snapshot_of(session)
    changes = [change(f"big{i}") for i in range(20_000)]
    real_write = os.write
    calls = []

    def half_then_full(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(journal.os, "write", half_then_full)
    monkeypatch.setattr(journal.os, "ftruncate", fail_with(errno.EIO))  # and stays there
    with pytest.raises(StoreWriteError, match="No space left on device"):
        session.commit_many(changes)
    monkeypatch.undo()
    assert session._writer.path.stat().st_size > before[2] + 1_000_000
    store = restart(session)
    assert len(store.state("alice")) == 1
    with store.open_session("alice") as again:
        assert len(again.state) == 1 and again._writer.path.stat().st_size == before[2]
        events = again.commit_many(changes)  # the disk has room again: all of them
    assert [events[0]["seq"], events[-1]["seq"]] == [2, 20_001]
    state = Store(session.labels_dir.parent).state("alice")
    assert len(state) == 20_001 and not state.damage
