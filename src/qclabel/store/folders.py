"""The project's folder modes, set by `qclabel init` and checked by `qclabel permissions`.

    DIR          owner: the admin who ran init   group: the project group   drwxrws--T
                 (only the project group enters: labels/ below is open to all)
    DIR/labels   owner: that admin   group: the privileged group (or the project's)
                 drwxrwsrwt with a privileged group (like /tmp: annotators, outside it,
                 create their journal and list the folder, but read no other journal;
                 they need r to fsync the folder after creating a file), else drwxrws--T
    DIR/roles    owner: that admin   group: the project group   drwxrwsr-t
    journals, marks, snapshots       owner: their user   mode -rw-r-----

The sticky bit (t) lets only a file's owner (and the folder's owner, and root) delete
or rename over it; setgid (s) gives new files the folder's group. Ownership itself is
checked on every read (ownership.py).
"""

from __future__ import annotations

import grp
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .ownership import owner_problem, project_file_problem, uid_name

DIR_MODE = 0o3770
LABELS_MODE = 0o3770
LABELS_MODE_PRIVILEGED = 0o3777  # others (annotators outside the group): rwx
ROLES_MODE = 0o3775
SUFFIXES = (".jsonl", ".snapshot.json", ".ack", ".lock")


def group_id(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ConfigError(
            "--privileged-group",
            "group",
            name,
            "no such operating-system group (create it with groupadd)",
        ) from None


def check_can_own(root: Path) -> None:
    """The project folder's owner is the root of trust (ownership.py): a project is
    only made in a folder its creator owns (or by root)."""
    if root.exists() and os.geteuid() not in (0, root.stat().st_uid):
        raise ConfigError(
            root,
            "(folder)",
            str(root),
            f"owned by {uid_name(root.stat().st_uid)}: a project's folder must "
            "be its creator's (its owner is who may change qclabel.toml)",
        )


def setup_folders(root: Path, privileged_gid: int | None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(DIR_MODE)
    labels, roles = root / "labels", root / "roles"
    labels.mkdir(exist_ok=True)
    roles.mkdir(exist_ok=True)
    if privileged_gid is not None:
        os.chown(labels, -1, privileged_gid)
    labels.chmod(LABELS_MODE_PRIVILEGED if privileged_gid is not None else LABELS_MODE)
    roles.chmod(ROLES_MODE)


@dataclass(frozen=True)
class Check:
    ok: bool
    line: str


def check_setup(root: Path, privileged_group: str | None) -> list[Check]:
    """Every folder mode and every file owner, one line each."""
    root = Path(root)
    out = [_folder(root, DIR_MODE, None)]
    labels_mode = LABELS_MODE_PRIVILEGED if privileged_group else LABELS_MODE
    out.append(_folder(root / "labels", labels_mode, privileged_group))
    out.append(_folder(root / "roles", ROLES_MODE, None))
    for name in ("qclabel.toml", "catalog.sqlite"):
        problem = project_file_problem(root / name)
        out.append(
            Check(
                problem is None,
                problem
                or f"{root / name}: owned by the project owner"
                + ("" if (root / name).exists() else " (not there yet)"),
            )
        )
    for folder in (root / "labels", root / "roles"):
        out += _files(folder)
    return out


def _folder(path: Path, mode: int, group: str | None) -> Check:
    try:
        st = os.stat(path)
    except OSError as exc:
        return Check(False, f"{path}: {exc.strerror}")
    have = stat.S_IMODE(st.st_mode)
    gname = _group_name(st.st_gid)
    if have != mode:
        return Check(
            False, f"{path}: mode {have:04o}, expected {mode:04o} (chmod {mode:04o} {path})"
        )
    if group and gname != group:
        return Check(
            False,
            f"{path}: group {gname}, expected the privileged group {group} (chgrp {group} {path})",
        )
    return Check(True, f"{path}: mode {have:04o}, owner {uid_name(st.st_uid)}, group {gname}")


def _files(folder: Path) -> list[Check]:
    from .labels import _USER

    out: list[Check] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return out
    for name in names:
        user = next((name[: -len(s)] for s in SUFFIXES if name.endswith(s)), None)
        if user is None or not _USER.match(user):
            continue
        problem = owner_problem(folder / name, (user,))
        if problem:
            out.append(Check(False, problem))
        elif stat.S_IMODE(os.lstat(folder / name).st_mode) & 0o007:
            out.append(
                Check(
                    False,
                    f"{folder / name}: readable or writable by everyone (chmod o= {folder / name})",
                )
            )
    return out


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
