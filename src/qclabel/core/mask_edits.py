"""Undoable mask edits, in the style of core.edits: each is Annotation -> Annotation.

A mask editor commits one edit per stroke (`paint`), so undo takes back a stroke, not a
pixel. Every edit runs the taxonomy's rules (`MaskRules`): a mask below its class
minimum is refused with the minimum named (AnnotationTooSmall), and the severity
follows the measured area/length unless the annotator chose one (`set_mask_severity`
records the override). In a semantic task a class has one layer: a mask put on an
image that already has a layer of its class is merged into that layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .edits import Edit
from .mask import Mask, MaskError
from .mask_measure import MaskMeasure, with_rules
from .model import Annotation
from .taxonomy import Taxonomy


@dataclass(frozen=True)
class MaskRules:
    """The taxonomy and the image calibration an edit is checked against."""

    taxonomy: Taxonomy
    mm_per_px: float | None = None

    def apply(self, mask: Mask, override: str | None = None) -> Mask:
        return self.check(mask, override)[0]

    def check(
        self, mask: Mask, override: str | None = None
    ) -> tuple[Mask, MaskMeasure, str | None]:
        """(mask with its severity, measurement, warning); raises below the minimum."""
        try:
            defect_class = self.taxonomy.get(mask.cls)
        except KeyError:
            raise MaskError(
                f"mask class {mask.cls!r} is not in the taxonomy {self.taxonomy.class_names()}"
            ) from None
        return with_rules(mask, defect_class, self.mm_per_px, override)


def _get(a: Annotation, mask_id: str) -> Mask:
    for m in a.masks:
        if m.id == mask_id:
            return m
    raise KeyError(mask_id)


def _put(a: Annotation, mask: Mask) -> Annotation:
    masks = tuple(mask if m.id == mask.id else m for m in a.masks)
    if not any(m.id == mask.id for m in a.masks):
        masks += (mask,)
    return replace(a, masks=masks, skipped=False)


def semantic_layer(a: Annotation, cls: str) -> Mask | None:
    return next((m for m in a.masks if m.cls == cls), None)


def merge(layer: Mask, mask: Mask) -> Mask:
    """`mask`'s pixels added to `layer` (same id and class as the layer)."""
    merged = layer.painted(mask.region(), mask.left, mask.top, True)
    return replace(merged, severity=layer.severity, severity_override=layer.severity_override)


def put_mask(mask: Mask, rules: MaskRules) -> Edit:
    """Add the mask, or replace the one with its id; semantic: merge into the layer."""

    def edit(a: Annotation) -> Annotation:
        target = mask
        layer = semantic_layer(a, mask.cls) if rules.taxonomy.semantic else None
        if layer is not None and layer.id != mask.id:
            target = merge(layer, mask)
        return _put(a, rules.apply(target))

    return edit


def delete_mask(mask_id: str) -> Edit:
    return lambda a: replace(a, masks=tuple(m for m in a.masks if m.id != mask_id))


def paint(mask_id: str, patch: np.ndarray, x: int, y: int, value: bool, rules: MaskRules) -> Edit:
    """One stroke on an existing mask; erasing its last pixel deletes the mask."""

    def edit(a: Annotation) -> Annotation:
        old = _get(a, mask_id)
        try:
            new = old.painted(patch, x, y, value)
        except MaskError:
            return delete_mask(mask_id)(a)
        return _put(a, rules.apply(new))

    return edit


def new_mask(
    cls: str, patch: np.ndarray, x: int, y: int, rules: MaskRules, severity: str | None = None
) -> Edit:
    """A first stroke: a new mask of `cls` (semantic: added to the class layer)."""
    mask = Mask.from_array(cls, patch, x, y, severity=severity)
    return put_mask(mask, rules)


def set_mask_severity(mask_id: str, severity: str | None, rules: MaskRules) -> Edit:
    """The annotator's severity; recorded as an override where it differs from the
    one the thresholds give. None returns the mask to the thresholds."""

    def edit(a: Annotation) -> Annotation:
        old = _get(a, mask_id)
        if severity is None:
            return _put(a, rules.apply(replace(old, severity_override=False)))
        return _put(a, rules.apply(old, override=severity))

    return edit


def set_mask_class(mask_id: str, cls: str, rules: MaskRules) -> Edit:
    def edit(a: Annotation) -> Annotation:
        old = _get(a, mask_id)
        moved = replace(old, cls=cls, severity=None, severity_override=False)
        return put_mask(moved, rules)(
            replace(a, masks=tuple(m for m in a.masks if m.id != mask_id))
        )

    return edit
