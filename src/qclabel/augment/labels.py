"""Labels through a transform: one matrix for every object, boxes following their masks,
objects cut below their class minimum dropped (and counted)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from ..core.kinds import BOX, KINDS, MASK
from ..core.model import Annotation, Box
from ..core.taxonomy import Taxonomy


def flip_pairs(taxonomy: Taxonomy, obj: Any) -> tuple[tuple[str, str], ...]:
    template = getattr(obj, "template", None)
    if template is None:
        return ()
    try:
        return taxonomy.template(template).flip_pairs
    except KeyError:
        return ()


def mask_of(box: Box, masks: tuple[Any, ...]) -> Any | None:
    """The mask a box was drawn for: same class and the same extent within a pixel
    (boxes made from masks, or a mask painted inside its box)."""
    for m in masks:
        if (
            m.cls == box.cls
            and max(abs(box.x - m.left), abs(box.y - m.top), abs(box.x2 - m.x2), abs(box.y2 - m.y2))
            <= 1.0
        ):
            return m
    return None


def transform_annotation(
    ann: Annotation,
    matrix: np.ndarray,
    size: tuple[int, int],
    taxonomy: Taxonomy,
    mm_per_px: float | None,
) -> tuple[Annotation, Counter[str]]:
    """The annotation on the transformed image, and per class the objects dropped
    (left the frame, or cut below the class minimum)."""
    dropped: Counter[str] = Counter()
    moved_masks: dict[str, Any] = {}
    fields: dict[str, tuple[Any, ...]] = {}
    for kind in KINDS:
        out = []
        for obj in getattr(ann, kind.field):
            new = _move(kind, obj, ann, matrix, size, taxonomy, moved_masks)
            cls = kind.cls_of(obj) or kind.name
            if new is None or _too_small(kind, new, taxonomy, mm_per_px):
                dropped[cls] += 1
                continue
            if kind is MASK:
                moved_masks[obj.id] = new
            out.append(new)
        fields[kind.field] = tuple(out)
    return replace(ann, **fields), dropped


def _move(
    kind: Any,
    obj: Any,
    ann: Annotation,
    matrix: np.ndarray,
    size: tuple[int, int],
    taxonomy: Taxonomy,
    moved_masks: dict[str, Any],
) -> Any | None:
    if kind is BOX:
        # A box drawn for a mask is the mask's new extent, not the (looser) box
        # around its rotated corners.
        m = mask_of(obj, ann.masks)
        if m is not None:
            new_mask = MASK.transformed(m, matrix, size)
            if new_mask is None:
                return None
            return replace(
                obj,
                x=float(new_mask.left),
                y=float(new_mask.top),
                w=float(new_mask.width),
                h=float(new_mask.height),
            )
    return kind.transformed(obj, matrix, size, flip_pairs(taxonomy, obj))


def _too_small(kind: Any, obj: Any, taxonomy: Taxonomy, mm_per_px: float | None) -> bool:
    cls = kind.cls_of(obj)
    try:
        defect_class = taxonomy.get(cls) if cls else None
    except KeyError:
        return False
    return defect_class is not None and kind.below_minimum(obj, defect_class, mm_per_px)


def occlude(
    ann: Annotation,
    pasted: Any,
    width: int,
    height: int,
    taxonomy: Taxonomy,
    mm_per_px: float | None,
) -> tuple[Annotation, Counter[str]]:
    """Existing masks lose the pixels a pasted object now covers; boxes drawn for them
    follow; what falls below its class minimum (or vanishes) is dropped and counted."""
    dropped: Counter[str] = Counter()
    cover = pasted.full(width, height).astype(bool)
    masks, boxes = [], list(ann.boxes)
    for m in ann.masks:
        arr = m.full(width, height).astype(bool) & ~cover
        box = mask_of_box(m, boxes)
        if not arr.any():
            dropped[m.cls] += 1
            boxes = [b for b in boxes if b is not box]
            continue
        new = type(m).from_array(
            m.cls, arr, severity=m.severity, id=m.id, severity_override=m.severity_override
        )
        if _too_small(MASK, new, taxonomy, mm_per_px):
            dropped[m.cls] += 1
            boxes = [b for b in boxes if b is not box]
            continue
        if box is not None:
            boxes = [
                replace(
                    b, x=float(new.left), y=float(new.top), w=float(new.width), h=float(new.height)
                )
                if b is box
                else b
                for b in boxes
            ]
        masks.append(new)
    return replace(ann, masks=tuple(masks), boxes=tuple(boxes)), dropped


def mask_of_box(m: Any, boxes: list[Box]) -> Box | None:
    return next((b for b in boxes if mask_of(b, (m,)) is m), None)
