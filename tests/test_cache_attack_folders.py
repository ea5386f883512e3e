"""The user's cache folder (usercache) where someone else can write, or where the folder
is not a folder: a symbolic link planted in place of a cache folder, by another OS user
where the cache lives in a shared folder (XDG_CACHE_HOME=/tmp/...), or by the user. A
cache that is not private is neither read nor written, and nothing is removed through
it: the files a link points to stay as they are."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from qclabel import usercache
from qclabel.store import snapshot_cache

from os_users import effective, throwaway_users

META = {"offset": 1, "seq": 1, "hash": "h", "user": "ann", "layout": 2, "acked": 1}


def own_files(folder: Path, n: int = snapshot_cache.KEEP + 4) -> dict[str, bytes]:
    """`n` files named like cache entries (firmware images, say), oldest first."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = {}
    for k in range(n):
        f = folder / f"{k:02d}.bin"
        f.write_bytes(b"firmware %d" % k)
        os.utime(f, ns=(10**18 + k, 10**18 + k))
        kept[f.name] = f.read_bytes()
    return kept


def left(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in folder.iterdir()}


def keep_a_snapshot() -> None:
    """What a session does after writing a snapshot, and `status` after parsing one."""
    entries = {("label", "img"): {"after": {"verdict": "pass"}, "ts": "t", "seq": 1}}
    snapshot_cache.store(hashlib.sha256(b"snapshot").hexdigest(), entries, META)


def test_a_link_planted_by_another_user_in_a_shared_cache_removes_nothing(monkeypatch):
    with throwaway_users("qcfold", 2) as ((victim, other), shared):
        with effective(other):  # got to the shared folder first
            (shared / "qclabel").mkdir()
        with effective(victim):
            files = shared / "victim-files"
            want = own_files(files)
        with effective(other):
            (shared / "qclabel" / "snapshots").symlink_to(files)
        monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
        with effective(victim):
            keep_a_snapshot()
            assert left(files) == want
            assert usercache.read(snapshot_cache.folder() / "00.bin") is None


def test_a_cache_folder_that_is_a_link_removes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = tmp_path / "firmware"
    want = own_files(files)
    (tmp_path / "cache" / "qclabel").mkdir(parents=True)
    snapshot_cache.folder().symlink_to(files)
    keep_a_snapshot()
    assert left(files) == want


def test_a_cache_folder_others_can_write_is_not_pruned(tmp_path, monkeypatch):
    """A folder of the user's own that others can write (0777): nothing in it is
    trusted, written or removed."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = snapshot_cache.folder()
    want = own_files(folder)
    folder.chmod(0o777)
    keep_a_snapshot()
    assert left(folder) == want


@pytest.mark.parametrize("what", ["file", "link to a file"])
def test_a_cache_folder_that_is_a_file_is_left_alone(tmp_path, monkeypatch, what):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = snapshot_cache.folder()
    folder.parent.mkdir(parents=True)
    target = tmp_path / "notes.txt"
    target.write_bytes(b"notes")
    if what == "file":
        folder.write_bytes(b"notes")
    else:
        folder.symlink_to(target)
    keep_a_snapshot()
    assert target.read_bytes() == b"notes" and folder.read_bytes() == b"notes"
    assert snapshot_cache.load(hashlib.sha256(b"snapshot").hexdigest()) is None


def test_columns_forged_by_another_user_in_a_shared_cache_are_not_used(tmp_path, monkeypatch):
    """The other user owns the shared cache's `qclabel` folder: they move the victim's
    `catalog-columns` folder aside and put their own in its place, holding columns of
    other lots under the very state of the victim's catalog (its stat is readable)."""
    import encodings.cp437  # noqa: F401  (zipfile's, loaded while root may read it)
    import shutil

    from qclabel.store import catalog_columns
    from qclabel.store.catalog import Catalog

    from test_cache_attack_catalog import fresh, lotted

    source = lotted(tmp_path / "p").store.catalog.path
    with throwaway_users("qcfold", 2) as ((victim, other), shared):
        path = shared / "catalog.sqlite"
        shutil.copy(source, path)
        os.chmod(path, 0o644)
        want = fresh(path)
        monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
        with effective(other):  # got there first, and let everyone make their folder
            (shared / "qclabel").mkdir()
            os.chmod(shared / "qclabel", 0o777)
        with effective(victim):
            assert catalog_columns.order_columns(Catalog(path), "lot") == want
        entry = catalog_columns._file(path, "lot")
        with effective(other):
            entry.parent.rename(entry.parent.with_name("aside"))
            forged = [want[0], want[1], ["L9"] * len(want[0])]
            catalog_columns._store(entry, catalog_columns.state(path) or b"", *forged)
            # a valid entry for this very state: the other user's own plan would use it
            assert catalog_columns.order_columns(Catalog(path), "lot") == tuple(forged) != want
            os.chmod(entry.parent, 0o755)  # and readable by the victim
            os.chmod(entry, 0o644)
        with effective(victim):
            assert catalog_columns.order_columns(Catalog(path), "lot") == want
