"""When two annotators' labels on one image agree, and if not, how badly.

Every difference is an issue of one kind; kinds are ranked the way an adjudicator should
work through them: a pass/fail conflict ships or scraps a part, a class conflict changes
what the model learns, geometry moves a box, severity only grades the defect.
Boxes pair by optimal one-to-one matching (qa.matching); they agree when every box has a
partner of the same class and severity at IoU >= the box target. Keypoints agree when
every point both labeled is within the pixel target and no point is labeled by one only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..core.model import Annotation
from .keypoints import KeypointPair, match_sets
from .mask_agreement import MASK_IOU_TARGET, MaskComparison, compare_masks
from .matching import BoxMatch, match_boxes

BOX_IOU_TARGET = 0.75
KEYPOINT_PX_TARGET = 5.0
KINDS = ("verdict", "class", "geometry", "severity")
PRIORITY = {k: i for i, k in enumerate(KINDS)}


@dataclass
class Comparison:
    issues: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    boxes: BoxMatch | None = None
    keypoints: list[KeypointPair] = field(default_factory=list)
    kp_only_a: int = 0
    kp_only_b: int = 0
    masks: MaskComparison | None = None

    @property
    def agree(self) -> bool:
        return not self.issues

    @property
    def kind(self) -> str | None:
        """The most important kind of disagreement, or None."""
        return min((k for k, _ in self.issues), key=PRIORITY.__getitem__, default=None)

    @property
    def priority(self) -> int:
        return PRIORITY[self.kind] if self.kind else len(KINDS)

    def summary(self) -> str:
        return "; ".join(d for _, d in sorted(self.issues, key=lambda i: PRIORITY[i[0]]))


def effective_verdict(a: Annotation) -> str | None:
    """A defect class or box implies fail even if the annotator never pressed f."""
    if a.verdict:
        return a.verdict
    return "fail" if a.classes() else None


def compare(
    a: Annotation,
    b: Annotation,
    box_iou: float = BOX_IOU_TARGET,
    keypoint_px: float = KEYPOINT_PX_TARGET,
    qa_config: dict[str, Any] | None = None,
    template_points: Mapping[str, Sequence[str]] | None = None,
    semantic: bool = False,
) -> Comparison:
    """With masks, `qa_config["targets"]["mask_iou"]` is their target; `semantic`
    compares class layers instead of instances (qa.mask_agreement)."""
    c = Comparison()
    va, vb = effective_verdict(a), effective_verdict(b)
    if va != vb:
        c.issues.append(("verdict", f"verdict {va or '-'} vs {vb or '-'}"))
    if a.defect_class != b.defect_class:
        c.issues.append(("class", f"class {a.defect_class or '-'} vs {b.defect_class or '-'}"))
    elif a.severity != b.severity:
        c.issues.append(("severity", f"severity {a.severity or '-'} vs {b.severity or '-'}"))
    if dict(a.checks) != dict(b.checks):
        c.issues.append(("class", "component checks differ"))
    _compare_boxes(c, a, b, box_iou)
    _compare_keypoints(c, a, b, keypoint_px, qa_config or {}, template_points or {})
    mask_target = float((qa_config or {}).get("targets", {}).get("mask_iou", MASK_IOU_TARGET))
    c.masks = compare_masks(c.issues, a, b, mask_target, semantic)
    return c


def _compare_boxes(c: Comparison, a: Annotation, b: Annotation, target: float) -> None:
    if not a.boxes and not b.boxes:
        return
    m = c.boxes = match_boxes(a.boxes, b.boxes)
    crossed = [(i, j) for i, j, _ in m.pairs if a.boxes[i].cls != b.boxes[j].cls]
    if crossed:
        i, j = crossed[0]
        c.issues.append(
            (
                "class",
                f"{len(crossed)} box(es) of another class ({a.boxes[i].cls} vs {b.boxes[j].cls})",
            )
        )
    if m.unmatched_a or m.unmatched_b:
        c.issues.append(
            (
                "geometry",
                f"boxes only A drew {len(m.unmatched_a)}, only B drew {len(m.unmatched_b)}",
            )
        )
    low = [v for i, j, v in m.pairs if v < target]
    if low:
        c.issues.append(
            ("geometry", f"{len(low)} box pair(s) below IoU {target:g} (lowest {min(low):.2f})")
        )
    sev = sum(
        1
        for i, j, _ in m.pairs
        if a.boxes[i].cls == b.boxes[j].cls and a.boxes[i].severity != b.boxes[j].severity
    )
    if sev:
        c.issues.append(("severity", f"{sev} box(es) with another severity"))


def _compare_keypoints(
    c: Comparison,
    a: Annotation,
    b: Annotation,
    target: float,
    config: dict[str, Any],
    template_points: Mapping[str, Sequence[str]],
) -> None:
    if not a.keypoints and not b.keypoints:
        return
    c.keypoints, c.kp_only_a, c.kp_only_b = match_sets(
        a.keypoints, b.keypoints, config, template_points
    )
    if c.kp_only_a or c.kp_only_b:
        c.issues.append(
            ("geometry", f"keypoint sets only A drew {c.kp_only_a}, only B drew {c.kp_only_b}")
        )
    far = [(n, d) for p in c.keypoints for n, d in p.distances.items() if d > target]
    if far:
        name, worst = max(far, key=lambda t: t[1])
        c.issues.append(
            (
                "geometry",
                f"{len(far)} keypoint(s) beyond {target:g} px (worst {name} {worst:.1f} px)",
            )
        )
    one_sided = sum(len(p.one_sided) for p in c.keypoints)
    if one_sided:
        c.issues.append(("geometry", f"{one_sided} keypoint(s) labeled by one annotator only"))


def annotations_agree(
    a: Annotation,
    b: Annotation,
    box_iou: float = BOX_IOU_TARGET,
    keypoint_px: float = KEYPOINT_PX_TARGET,
    mask_iou: float = MASK_IOU_TARGET,
    semantic: bool = False,
) -> bool:
    return compare(
        a, b, box_iou, keypoint_px, {"targets": {"mask_iou": mask_iou}}, semantic=semantic
    ).agree
