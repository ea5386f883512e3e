"""Find the image files under the given paths and group them into work units.

A unit is one catalog image in the making: a single file, or the segments of one
line-scan part, or the slices of one focus stack (grouped by the profile's regex on
the file stem, ordered by the `seq` group). Paths keep the spelling the user gave
(absolute, symlinks not resolved) so reports name the file the user knows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .profiles import Profile

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class Unit:
    kind: str  # "file" | "stitch" | "focus_stack"
    paths: tuple[str, ...]  # in order (segments by sequence number)
    name: str  # what reports call it: the file, or the group


def _walk(top: str, exclude: set[str], out: list[str], failed: list[tuple[str, str]]) -> None:
    """Recursive listing; follows directory symlinks once; skips hidden entries
    (editor/OS droppings such as ._name.jpg) and the project folder itself. A folder
    that cannot be listed is a failure, never silently an empty folder."""
    seen: set[str] = set()

    def unreadable(exc: OSError) -> None:
        failed.append((exc.filename or top, f"cannot read folder: {exc.strerror or exc}"))

    for root, dirs, files in os.walk(top, followlinks=True, onerror=unreadable):
        real = os.path.realpath(root)
        if real in seen or real in exclude:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(
            os.path.join(root, f)
            for f in sorted(files)
            if not f.startswith(".") and os.path.splitext(f)[1].lower() in EXTENSIONS
        )


def discover(
    paths: Iterable[os.PathLike[str] | str], exclude: Iterable[Path] = ()
) -> tuple[list[str], list[tuple[str, str]]]:
    """(image files, failures) for files and folders given on the command line.

    A file named explicitly is tried whatever its extension; inside folders only
    image extensions are taken."""
    skip = {os.path.realpath(p) for p in exclude}
    files: list[str] = []
    failed: list[tuple[str, str]] = []
    for given in (os.fspath(p) for p in paths):
        path = os.path.abspath(given)
        if os.path.isdir(path):
            _walk(path, skip, files, failed)
        elif os.path.islink(path) and not os.path.exists(path):
            failed.append((path, "broken symbolic link"))
        elif not os.path.lexists(path):
            failed.append((path, "no such file or directory"))
        else:
            files.append(path)
    return sorted(set(files)), failed


def _group_key(kind: str) -> str:
    return "part" if kind == "stitch" else "stack"


def make_units(files: list[str], profile: Profile) -> tuple[list[Unit], list[tuple[str, str]]]:
    """Group files per the profile; groups with gaps or repeated sequence numbers fail
    whole (a part with a missing segment must not enter as a shorter part)."""
    group = profile.group
    if group is None:
        return [Unit("file", (f,), f) for f in files], []
    kind, setting = group
    rx = re.compile(setting["group"])
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
    units: list[Unit] = []
    for f in files:
        m = rx.search(Path(f).stem)
        if m is None:
            units.append(Unit("file", (f,), f))
            continue
        key = (os.path.dirname(f), m.group(_group_key(kind)))
        groups.setdefault(key, []).append((int(m.group("seq")), f))
    failed: list[tuple[str, str]] = []
    for (folder, name), members in sorted(groups.items()):
        members.sort()
        label = os.path.join(folder, name)
        seqs = [s for s, _ in members]
        if len(set(seqs)) != len(seqs) or seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            failed.append(
                (
                    label,
                    f"{kind.replace('_', ' ')} group {name!r}: sequence numbers "
                    f"{seqs} have a gap or a repeat",
                )
            )
            continue
        units.append(Unit(kind, tuple(p for _, p in members), label))
    return sorted(units, key=lambda u: u.paths[0]), failed
