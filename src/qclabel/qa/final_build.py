"""Final labels' Annotations built straight from their stored dicts.

`Annotation.from_dict` goes through the object-kind registry and each dataclass's
keyword `__init__`, one frozen `__setattr__` per field, for every box: at 100k labels
of three boxes that is most of building the final labels of an export. A label whose
only objects are boxes stored as qclabel stores them (all seven fields, finite float
coordinates: every label the app, import and QA write) is built here by setting the
same fields directly: the same Annotation, field for field. Any other label (no
boxes, keypoints, masks, an int or NaN coordinate, a box missing its id) gets None,
and the caller builds it the ordinary way, which also raises what it raises.
"""

from __future__ import annotations

from typing import Any

from ..core.assembled import assembled, plain
from ..core.model import Annotation, Box

_BOX = ("cls", "x", "y", "w", "h", "severity", "id")
_ANNOTATION = (
    "verdict", "defect_class", "severity", "boxes", "keypoints", "checks", "flag", "skipped",
    "masks", "also",
)  # fmt: skip
_fast: list[bool] = []


def fast_enabled() -> bool:
    """Whether the records are still what `boxes_label` was written for: a field added
    to Box or Annotation, a check in Annotation's `__post_init__`, or an object kind
    loaded another way turns it off until it is taught them."""
    if not _fast:
        from ..core.kind_base import ObjectKind
        from ..core.kinds import KINDS

        _fast.append(
            plain(Box, _BOX, checked_by_caller=True)  # its only check: finite x, y, w, h
            and plain(Annotation, _ANNOTATION)
            and [k.field for k in KINDS] == ["boxes", "keypoints", "masks"]
            and KINDS[0].type is Box
            and type(KINDS[0]).load is ObjectKind.load
        )
    return _fast[0]


def boxes_label(after: Any) -> Annotation | None:
    """`Annotation.from_dict(after)` for a label with boxes and no other objects,
    each box a dict of exactly Box's seven fields with float, finite x, y, w, h (what
    Box's own check lets through unchanged); None for any other label."""
    if type(after) is not dict or not fast_enabled():
        return None
    boxes = after.get("boxes")
    if type(boxes) is not list or not boxes:
        return None
    for field in ("keypoints", "masks"):
        other = after.get(field, ())
        if type(other) not in (list, tuple) or other:
            return None
    built = []
    for b in boxes:
        if type(b) is not dict or len(b) != 7:
            return None
        try:
            x, y, w, h = b["x"], b["y"], b["w"], b["h"]
            cls, severity, box_id = b["cls"], b["severity"], b["id"]
        except KeyError:
            return None
        if not (
            type(x) is float and type(y) is float and type(w) is float and type(h) is float
        ) or not (x - x == 0.0 and y - y == 0.0 and w - w == 0.0 and h - h == 0.0):
            return None  # ints, NaN, inf: Box builds (or refuses) those itself
        box = assembled(Box, zip(_BOX, (cls, x, y, w, h, severity, box_id)))
        built.append(box)
    try:
        checks = tuple(tuple(c) for c in after.get("checks", ()))
        also = tuple(after.get("also", ()))
    except TypeError:  # not lists (null, a number): from_dict raises, and is named
        return None
    ann = assembled(
        Annotation,
        zip(
            _ANNOTATION,
            (
                after.get("verdict"),
                after.get("defect_class"),
                after.get("severity"),
                tuple(built),
                (),
                checks,
                after.get("flag"),
                bool(after.get("skipped", False)),
                (),
                also,
            ),
        ),
    )
    return ann
