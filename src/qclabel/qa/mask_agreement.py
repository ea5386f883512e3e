"""Mask agreement of two annotators on one image.

Instance task: masks pair one-to-one by mask IoU (core.mask_kind, the optimal
assignment boxes use); they agree when every mask has a partner of the same class and
severity at IoU >= the `mask_iou` target. Semantic task: each class layer is compared
pixel by pixel (IoU and Dice of the union of each side's masks of that class); a class
only one annotator painted is a class disagreement, a layer below the target geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.mask_kind import MASK, pixel_agreement
from ..core.model import Annotation

MASK_IOU_TARGET = 0.70


@dataclass
class LayerAgreement:
    cls: str
    intersection: int
    a: int
    b: int

    @property
    def iou(self) -> float:
        union = self.a + self.b - self.intersection
        return self.intersection / union if union else 1.0

    @property
    def dice(self) -> float:
        return 2 * self.intersection / (self.a + self.b) if self.a + self.b else 1.0


@dataclass
class MaskComparison:
    match: Any = None  # instance: core.assign.BoxMatch
    layers: list[LayerAgreement] = field(default_factory=list)  # semantic


def compare_masks(
    issues: list[tuple[str, str]],
    a: Annotation,
    b: Annotation,
    target: float = MASK_IOU_TARGET,
    semantic: bool = False,
) -> MaskComparison | None:
    """Append the mask issues of (a, b) to `issues`; None when neither has masks."""
    if not a.masks and not b.masks:
        return None
    if semantic:
        return _semantic(issues, a, b, target)
    m = MASK.match(a.masks, b.masks)
    crossed = [(i, j) for i, j, _ in m.pairs if a.masks[i].cls != b.masks[j].cls]
    if crossed:
        i, j = crossed[0]
        issues.append(
            (
                "class",
                f"{len(crossed)} mask(s) of another class ({a.masks[i].cls} vs {b.masks[j].cls})",
            )
        )
    if m.unmatched_a or m.unmatched_b:
        issues.append(
            (
                "geometry",
                f"masks only A painted {len(m.unmatched_a)}, only B painted {len(m.unmatched_b)}",
            )
        )
    low = [v for _, _, v in m.pairs if v < target]
    if low:
        issues.append(
            ("geometry", f"{len(low)} mask pair(s) below IoU {target:g} (lowest {min(low):.2f})")
        )
    sev = sum(
        1
        for i, j, _ in m.pairs
        if a.masks[i].cls == b.masks[j].cls and a.masks[i].severity != b.masks[j].severity
    )
    if sev:
        issues.append(("severity", f"{sev} mask(s) with another severity"))
    return MaskComparison(match=m)


def _semantic(
    issues: list[tuple[str, str]], a: Annotation, b: Annotation, target: float
) -> MaskComparison:
    out = MaskComparison()
    for cls in sorted({m.cls for m in (*a.masks, *b.masks)}):
        la = [m for m in a.masks if m.cls == cls]
        lb = [m for m in b.masks if m.cls == cls]
        layer = LayerAgreement(cls, *pixel_agreement(la, lb))
        out.layers.append(layer)
        if not la or not lb:
            issues.append(("class", f"{cls} painted by {'A' if la else 'B'} only"))
        elif layer.iou < target:
            issues.append(
                (
                    "geometry",
                    f"{cls} layer IoU {layer.iou:.2f} below {target:g} (Dice {layer.dice:.2f})",
                )
            )
        elif la[0].severity != lb[0].severity:
            issues.append(("severity", f"{cls} layer with another severity"))
    return out
