"""Shared fixtures: real project folders on disk and a way to act as another OS user."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from qclabel import identity
from qclabel.project import Project

REPO = Path(__file__).resolve().parent.parent

# Module- and session-scoped fixtures run before `own_cache` below: they too get a cache
# folder of this run's own, never the developer's ~/.cache (nor CI's).
_SESSION_CACHE = tempfile.mkdtemp(prefix="qclabel-test-cache-")
os.environ["XDG_CACHE_HOME"] = _SESSION_CACHE
atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)
SAMPLES = REPO / "samples"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fresh metal-stamping project created by user 'admin'."""
    return Project.init(tmp_path / "proj", "metal-stamping", user="admin")


@pytest.fixture
def as_user(monkeypatch: pytest.MonkeyPatch):
    """Make identity.current_user() return the given name for the rest of the test."""

    def _as(name: str) -> str:
        monkeypatch.setattr(identity, "current_user", lambda: name)
        return name

    return _as


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test its own cache folder (usercache): results never depend on what another
    test, or the developer's own ~/.cache, kept."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


# The blind-attack modules' real OS users (per test process) and their two projects
# (tests/blind_attack_setup.py): one definition for every module that uses them.
@pytest.fixture(scope="module")
def blind_users():
    from blind_attack_setup import make_users

    yield from make_users()


@pytest.fixture
def blind_both(blind_users):
    """Both annotators' labels of the dual images."""
    from blind_attack_setup import project

    yield from project(with_b=True)


@pytest.fixture
def blind_only_a(blind_users):
    """The same project without annotator B's labels."""
    from blind_attack_setup import project

    yield from project(with_b=False)
