"""Object kinds: everything the rest of qclabel needs to know about one kind of object
on an image (box, keypoint set, mask), behind one interface.

An `Annotation` holds a tuple of objects per kind (`Annotation.boxes`, `.keypoints`,
`.masks`, named by `ObjectKind.field`). Serialization, classes, import validation,
clipping, the version diff, matching for QA and consistency rules reach the objects
through `KINDS`, so a new kind is one module here plus its own format writers:

    class PolylineKind(ObjectKind): name, field, type, load/dump, cls_of, bbox, check...
    register(PolylineKind())      # and a `polylines` field on Annotation

`ObjectKind.check` raises a FormatError naming the object (import); `match` pairs two
annotators' objects one-to-one (QA); `changed` describes a change between versions.
"""

from __future__ import annotations

from typing import Any, Iterator

from .kind_base import TOLERANCE_PX, BoxKind, KeypointKind, ObjectKind  # noqa: F401
from .mask_kind import MASK

KINDS: list[ObjectKind] = []


def register(kind: ObjectKind) -> ObjectKind:
    if any(k.name == kind.name for k in KINDS):
        raise ValueError(f"object kind {kind.name!r} is registered twice")
    KINDS.append(kind)
    return kind


def kind(name: str) -> ObjectKind:
    for k in KINDS:
        if k.name == name or k.field == name:
            return k
    raise KeyError(name)


def objects(ann: Any) -> Iterator[tuple[ObjectKind, Any]]:
    """Every object of an annotation, kind by kind in registry order."""
    for k in KINDS:
        for obj in getattr(ann, k.field):
            yield k, obj


BOX = register(BoxKind())
KEYPOINTS = register(KeypointKind())
register(MASK)

__all__ = ["ObjectKind", "KINDS", "BOX", "KEYPOINTS", "MASK", "register", "kind", "objects"]
