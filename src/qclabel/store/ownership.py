"""Who wrote a file: the one rule that keeps a group member from replacing another
person's files.

A project's shared folders are writable by its group, so the folder modes alone cannot
stop a member from creating a file under someone else's name (a journal, a lock) or,
without the sticky bit, from renaming a file of their own over someone else's. The
kernel, though, records who created each file and nobody but root can change that. So:

    a journal, snapshot, mark or lock named for USER counts only if the OS user USER
    (or root) owns it; qclabel.toml and catalog.sqlite only if the project folder's
    owner (or root) owns them.

Readers ignore a file that breaks the rule (and say so), a session refuses to open
over it, and `audit verify` names it. A symbolic link is never followed: it would let
a planter point someone's session at a file of their choosing.
"""

from __future__ import annotations

import os
import pwd
import stat
import time
from pathlib import Path
from typing import Iterable

ROOT_UID = 0


def uid_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no passwd entry
        return f"uid{uid}"


def owner_problem(
    path: Path, users: Iterable[str] = (), uids: Iterable[int] = (), what: str | None = None
) -> str | None:
    """None when `path` is missing, or a regular file owned by root, by one of the OS
    users `users` or by one of `uids`; otherwise one line saying who owns it and why it
    is not honoured. `what` names whose file it should be ("ann", "the project owner")."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    users = tuple(users)
    whose = what or " or ".join(users) or "root"
    if stat.S_ISLNK(st.st_mode):
        return (
            f"{path}: a symbolic link, not a file {whose} wrote: planted by another "
            "user; ignored (remove it)"
        )
    if not stat.S_ISREG(st.st_mode):
        return f"{path}: not a regular file; ignored (remove it)"
    if st.st_uid == ROOT_UID or st.st_uid in set(uids):
        return None
    if uid_name(st.st_uid) in users:  # one lookup, of the owner (names may not exist)
        return None
    return (
        f"{path}: owned by {uid_name(st.st_uid)}, not by {whose}: planted or replaced "
        f"by another user; ignored (the owner of {path.parent} or root can remove it)"
    )


def folder_owner(path: Path) -> int:
    return os.stat(path).st_uid


def project_file_problem(path: Path) -> str | None:
    """qclabel.toml and catalog.sqlite: owned by the project folder's owner or root. The
    folder's owner is who ran `qclabel init` (or whom root gave the folder), and a group
    member cannot change it."""
    path = Path(path)
    try:
        owner = folder_owner(path.parent)
    except OSError:
        return None
    return owner_problem(path, uids=(owner,), what=f"the project owner {uid_name(owner)}")


# -- moving aside from planted files -----------------------------------------------------
# A file planted under USER's name in a sticky folder can be removed only by its planter,
# the folder's owner or root. So that it locks nobody out, USER's session then keeps
# USER's files under USER@TAG (TAG random, so it cannot be planted ahead); readers take
# the USER@TAG journal that USER owns over the planted USER.jsonl.
ALT = "@"
_alt_cache: dict[str, tuple[tuple[int, int, int], dict[str, list[str]]]] = {}


def file_stem(folder: Path, user: str) -> str:
    """The name USER's journal, mark, snapshot and lock are kept under in `folder`:
    USER, or USER@TAG once USER moved aside from planted files."""
    for stem in _alts(Path(folder)).get(user, ()):
        if owner_problem(Path(folder) / f"{stem}.jsonl", (user,)) is None:
            return stem
    return user


def _alts(folder: Path) -> dict[str, list[str]]:
    """USER -> the USER@TAG journal stems in `folder`, re-read when the folder changed."""
    try:
        st = os.stat(folder)
        mtime = st.st_mtime_ns
        # the change time too: `touch -d` puts a modification time back, never it
        stamp = (st.st_ino, mtime, st.st_ctime_ns)
        cached = _alt_cache.get(str(folder))
        if cached and cached[0] == stamp:
            return cached[1]
        found: dict[str, list[str]] = {}
        for name in sorted(os.listdir(folder)):
            if ALT in name and name.endswith(".jsonl") and not name.startswith("."):
                stem = name[:-6]
                found.setdefault(stem.split(ALT, 1)[0], []).append(stem)
    except OSError:
        return {}
    # A folder's mtime ticks coarsely (a few ms): cache only a listing older than that.
    if time.time_ns() - mtime > 100_000_000:
        _alt_cache[str(folder)] = (stamp, found)
    return found


def planted_under(folder: Path, user: str) -> list[str]:
    """Owner problems of USER's files under the plain name USER."""
    out = []
    for suffix in (".jsonl", ".snapshot.json", ".ack"):
        problem = owner_problem(Path(folder) / f"{user}{suffix}", (user,))
        if problem:
            out.append(problem)
    return out
