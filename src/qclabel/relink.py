"""Re-point the catalog at images that moved: `qclabel images relink DIR OLD NEW`.

Every catalog path (the image file, its source, the sources of a stitched image) under
the folder OLD is rewritten to the same place under NEW. Nothing is written unless every
rewritten image file exists (and, with `verify`, has the sha256 the catalog recorded for
a file that is not derived), so a typo in NEW cannot break the catalog. Files inside the
project are stored relative to it, as ingest stores them. Dataset versions need no
rewrite: they find an image through the catalog by id and content hash
(versions.resolve_images).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

from .core.model import ImageRecord
from .errors import QclabelError
from .project import Project


class RelinkError(QclabelError):
    """Nothing under OLD, or the images are not where NEW says."""


@dataclass
class RelinkReport:
    images: int
    verified: int


def _moved(path: str, old: str, new: str, root: str) -> str | None:
    absolute = path if os.path.isabs(path) else os.path.join(root, path)
    absolute = os.path.normpath(absolute)
    if absolute != old and not absolute.startswith(old + os.sep):
        return None
    target = new + absolute[len(old) :]
    return os.path.relpath(target, root) if target.startswith(root + os.sep) else target


def relinked(rec: ImageRecord, old: str, new: str, root: str) -> ImageRecord | None:
    file = _moved(rec.file, old, new, root)
    source = _moved(rec.source, old, new, root)
    sources = [_moved(s, old, new, root) or s for s in rec.sources]
    if file is None and source is None and sources == rec.sources:
        return None
    return replace(rec, file=file or rec.file, source=source or rec.source, sources=sources)


def _check(rec: ImageRecord, root: Path, verify: bool) -> bool:
    """Raise unless the record's file is there; True when its hash was checked."""
    from .formats.dataset import is_derived

    path = Path(rec.file) if os.path.isabs(rec.file) else root / rec.file
    if not path.is_file():
        raise RelinkError(f"{path}: no such file (image {rec.id}); nothing was changed")
    if not verify or is_derived(rec):
        return False
    if hashlib.sha256(path.read_bytes()).hexdigest() != rec.sha256:
        raise RelinkError(
            f"{path}: sha256 differs from the catalog's for image {rec.id} "
            "(another file); nothing was changed"
        )
    return True


def relink(
    project: Project,
    old: Path,
    new: Path,
    user: str,
    *,
    verify: bool = False,
    dry_run: bool = False,
) -> RelinkReport:
    project.require(user, "admin", "relink images")
    root = os.path.abspath(project.root)
    old_s, new_s = os.path.abspath(old), os.path.abspath(new)
    catalog = project.store.catalog
    changed = [r for rec in catalog.all() if (r := relinked(rec, old_s, new_s, root))]
    if not changed:
        raise RelinkError(f"no image of {project.root} is under {old_s}")
    verified = sum(_check(r, Path(root), verify) for r in changed)
    if not dry_run:
        catalog.update(changed)
    return RelinkReport(len(changed), verified)
