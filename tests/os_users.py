"""Throwaway OS users for tests of real permissions (root only; skipped otherwise).

The tests switch only the *effective* uid and gid, in this process, for a block: the
kernel then checks every open, mkdir and rename against that user, exactly as for a
login of theirs. The interpreter lives under /root here, and the checkout may sit in a
private folder, which other users may not read, so every module the commands may
import, and the package's data files, are loaded first, as root."""

from __future__ import annotations

import importlib
import os
import pkgutil
import pwd
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

import qclabel

_STDLIB_LAZY = (
    "importlib.readers",
    "importlib.resources",
    "grp",
    "csv",
    "uuid",
    "zlib",
    "xml.etree.ElementTree",
    "pyexpat",
    "sqlite3",
    "tomllib",
    "shlex",
    "encodings.utf_8_sig",
    "encodings.latin_1",
    "encodings.ascii",
    "encodings.idna",
    "encodings.utf_16",
    "encodings.utf_32",
)


def preload() -> None:
    for name in _STDLIB_LAZY:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    for mod in pkgutil.walk_packages(qclabel.__path__, "qclabel."):
        if ".tui" not in mod.name:
            importlib.import_module(mod.name)
    # The package's data files too: a checkout under a private folder (mktemp -d) is
    # readable by root only, where an installed package is readable by everyone.
    from qclabel.project import BUNDLED_TAXONOMIES, bundled_taxonomy_text
    from qclabel.qa.iso2859 import tables

    for name in BUNDLED_TAXONOMIES:
        bundled_taxonomy_text(name)
    tables()


@contextmanager
def throwaway_users(prefix: str, n: int = 1) -> Iterator[tuple[list[pwd.struct_passwd], Path]]:
    """`n` new OS users and a world-writable work folder under /tmp; removed after."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd to create throwaway OS users")
    names = [f"{prefix}{uuid.uuid4().hex[:8]}" for _ in range(n)]
    shared = Path("/tmp") / f"{names[0]}-work"
    try:
        for name in names:
            subprocess.run(["useradd", "-M", "-N", name], check=True, capture_output=True)
        shared.mkdir(mode=0o777)
        shared.chmod(0o777)
        yield [pwd.getpwnam(name) for name in names], shared
    finally:
        shutil.rmtree(shared, ignore_errors=True)
        for name in names:
            subprocess.run(["userdel", "-r", name], check=False, capture_output=True)


@contextmanager
def effective(user: pwd.struct_passwd) -> Iterator[None]:
    """Act as `user` (effective ids) inside the block; root again afterwards."""
    preload()
    os.setegid(user.pw_gid)
    os.seteuid(user.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def users_and_groups(
    users: dict[str, str], groups: tuple[str, ...], warm_up: Callable[[], None]
) -> Iterator[None]:
    """A module fixture's body: `groups`, then each user with the groups named for it
    (comma-separated), `warm_up()` as root, and all of them removed afterwards (and
    before, when an interrupted run left them)."""

    def remove() -> None:
        for name in users:
            subprocess.run(["userdel", "-r", name], check=False, capture_output=True)
        for g in groups:
            subprocess.run(["groupdel", g], check=False, capture_output=True)

    remove()
    try:
        for g in groups:
            subprocess.run(["groupadd", g], check=True, capture_output=True)
        for name, member_of in users.items():
            subprocess.run(
                ["useradd", "-m", "-G", member_of, name], check=True, capture_output=True
            )
        warm_up()
        yield
    finally:
        remove()
