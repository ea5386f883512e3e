"""The user's cache (usercache) and the QA evidence kept in it: an entry is used only
from a private folder, as a private file of the user's own, under the key it was kept for."""

from __future__ import annotations

import os

import pytest

from qclabel import evidence_cache, usercache


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "qclabel"


def test_written_private_and_read_back(home):
    path = usercache.folder("part") / "entry"
    usercache.write(path, b"data")
    assert usercache.read(path) == b"data"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("how", ["folder 0777", "file 0666", "symlink", "missing"])
def test_an_entry_others_could_have_written_is_not_read(home, tmp_path, how):
    path = usercache.folder("part") / "entry"
    usercache.write(path, b"data")
    if how == "folder 0777":
        path.parent.chmod(0o777)
    elif how == "file 0666":
        path.chmod(0o666)
    elif how == "symlink":
        (tmp_path / "planted").write_bytes(b"planted")
        path.unlink()
        path.symlink_to(tmp_path / "planted")
    else:
        path.unlink()
    assert usercache.read(path) is None


def test_a_cache_that_cannot_be_written_is_silent(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = usercache.folder("part") / "entry"
    usercache.write(path, b"data")  # no exception
    assert usercache.read(path) is None


def test_qa_evidence_is_used_only_under_its_key_and_from_a_private_folder(home, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "catalog.sqlite").write_bytes(b"x")
    one = evidence_cache.digest(root, ("journals", 1))
    evidence_cache.store(root, one, {"agreement": 0.97})
    assert evidence_cache.load(root, one) == {"agreement": 0.97}
    assert evidence_cache.digest(root, ("journals", 2)) != one  # a label changed since
    assert evidence_cache.load(root, evidence_cache.digest(root, ("journals", 2))) is None
    (root / "catalog.sqlite").write_bytes(b"xy")  # the catalog changed since
    assert evidence_cache.digest(root, ("journals", 1)) != one
    evidence_cache.store(root, one, {"agreement": 0.97})
    (home / "qa-evidence").chmod(0o777)  # anyone could have planted it
    assert evidence_cache.load(root, one) is None
    os.chmod(home / "qa-evidence", 0o700)
    assert evidence_cache.load(root, one) == {"agreement": 0.97}
