"""The one writer of qclabel.toml: lock, read again, check, write atomically.

Every change to the config goes through `update_config`, so two processes changing it
at once cannot drop each other's change (each re-reads the file under the lock), and a
config that another user put in place is never read back and rewritten as if it were
the project's. The config belongs to the project folder's owner (ownership.py): in the
documented setup (sticky project folder) the OS lets nobody else replace it, and qclabel
refuses to open one owned by anybody else. Role changes do not rewrite it: they are
signed events in roles/ (authority.py).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Callable

import tomli_w

from ..errors import ConfigError, PermissionDenied
from .atomic import atomic_write_bytes, writer_lock
from .ownership import folder_owner, project_file_problem, uid_name

CONFIG_NAME = "qclabel.toml"
HEADER = (
    b"# qclabel project config: edit with care; `qclabel status` validates it.\n"
    b"# The roles table is where the project started; `qclabel role list` shows the\n"
    b"# roles now (role changes are admins' signed events in roles/).\n"
)


def update_config(
    root: Path, change: Callable[[dict[str, Any] | None], dict[str, Any]]
) -> dict[str, Any]:
    """Apply `change` to the config as it is on disk now (None: there is none yet) and
    write the result; returns it. Only the project folder's owner (or root) writes."""
    root = Path(root)
    path = root / CONFIG_NAME
    euid, owner = os.geteuid(), folder_owner(root)
    if euid not in (0, owner):
        raise PermissionDenied(
            f"{path}: only the project owner {uid_name(owner)} (or root) "
            f"may change the config, not {uid_name(euid)}"
        )
    with writer_lock(path):
        problem = project_file_problem(path)
        if problem:
            raise PermissionDenied(f"{problem}; not rewritten")
        current = _read(path)
        new = change(current)
        atomic_write_bytes(path, HEADER + tomli_w.dumps(new).encode(), mode=0o644)
        return new


def _read(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", None, f"not valid TOML: {exc}") from None
