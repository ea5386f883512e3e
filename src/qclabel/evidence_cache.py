"""The last QA evidence computed for a project, kept in the exporting user's own cache
folder (`$XDG_CACHE_HOME/qclabel/qa-evidence`, else `~/.cache/...`), so the next
`qclabel export` of an unchanged project does not compute a whole agreement report again
(seconds at 100k images).

Why not in the project: everyone with write access to the project folder could plant
evidence there; the user's own cache folder (mode 0700) only they can write, and what
it holds is keyed by everything the evidence is computed from (each journal's last
event, config, roles, the catalog's size, last image and files). One file per project,
replaced atomically; anything unreadable, or in a folder or file someone else could
write (usercache), is ignored and computed afresh. The caller takes the `digest` before
computing, and keeps the evidence only when the digest is still the same afterwards:
evidence computed while the catalog changed is never kept as any state's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from . import usercache


def digest(root: Path, key: tuple[Any, ...]) -> str:
    """The key, plus the state of the catalog's files: the catalog file's as the plan's
    columns are kept by (store.catalog_columns: inode, size, times, SQLite's change
    counter), the others' inode, size and times (a catalog rewritten in place keeps its
    length and last image but not its files' stamps, and `touch -d` sets no change
    time), and this release."""
    from .store.catalog_columns import state

    stamps = []
    for p in sorted(Path(root).glob("catalog*")):
        if p.name.endswith(("-shm", ".lock")):  # readers touch these
            continue
        try:
            st = p.stat()
        except OSError:
            continue
        sqlite = state(p) if p.name == "catalog.sqlite" else None
        stamps.append(
            (p.name, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, sqlite and sqlite.hex())
        )
    from . import __version__  # another release may compute other evidence

    raw = json.dumps([__version__, list(key), stamps], default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _file(root: Path) -> Path:
    name = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:32]
    return usercache.folder("qa-evidence") / f"{name}.json"


def load(root: Path, key: str) -> Any | None:
    """The evidence stored under `key` (a `digest`) for this project, or None."""
    return usercache.load_json(_file(root), key)


def store(root: Path, key: str, value: Any) -> None:
    """Keep `value` as this project's evidence under `key` (a `digest`); a cache that
    cannot be written (read-only home) only means the next export computes it again."""
    usercache.store_json(_file(root), key, value)
