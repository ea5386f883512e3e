"""Import hooks for object kinds beyond boxes and keypoint sets (masks, and later
kinds): validation and clipping go through each kind's own `check` and `clip`
(core.kinds), so the importers need no code per kind."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from ..core.kinds import KINDS
from ..core.model import Annotation, ImageRecord

# Checked by importing.validate with their long-standing messages.
_CHECKED_THERE = ("box", "keypoints")


def check_other_kinds(
    ann: Annotation,
    rec: ImageRecord,
    where: str,
    check_class: Callable[[str | None, str | None, str], None],
) -> None:
    for kind in KINDS:
        if kind.name in _CHECKED_THERE:
            continue
        for n, obj in enumerate(getattr(ann, kind.field), start=1):
            check_class(kind.cls_of(obj), kind.severity_of(obj), kind.name)
            kind.check(obj, rec, f"{where}: image {Path(rec.source).name}, {kind.name} {n}")


def clip_other_kinds(ann: Annotation, rec: ImageRecord) -> Annotation:
    """Objects pulled onto the image (within the import tolerance)."""
    changes: dict[str, Any] = {}
    for kind in KINDS:
        if kind.name in _CHECKED_THERE:
            continue
        objs = tuple(
            c
            for o in getattr(ann, kind.field)
            if (c := kind.clip(o, rec.width, rec.height)) is not None
        )
        changes[kind.field] = objs
    return replace(ann, **changes)
