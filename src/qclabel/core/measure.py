"""Measurements on labels: minimum annotation size and keypoint distances in mm.

Both convert between canonical-image pixels and millimetres through the image's
calibration (`ImageRecord.mm_per_px`, set by the source profile at ingest). Without a
calibration a millimetre rule cannot be checked; callers get that answer explicitly
("unmeasured") instead of a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import QclabelError
from .geometry import distance
from .model import NOT_LABELED, Box, KeypointSet
from .taxonomy import DefectClass, KeypointTemplate, MinSize, Tolerance

PASS, FAIL, UNMEASURED = "pass", "fail", "unmeasured"


class AnnotationTooSmall(QclabelError):
    """A box below its defect class's minimum size (not rejectable, so not labeled)."""


def describe_min(min_size: MinSize, mm_per_px: float | None) -> str:
    """'0.5 mm (10 px at 0.05 mm/px)' or '6 px' — what the refusal message states."""
    value = f"{min_size.value:g} {min_size.unit}"
    px = min_size.in_pixels(mm_per_px)
    if min_size.unit.startswith("mm") and px is not None:
        unit = "px2" if min_size.is_area else "px"
        return f"{value} ({px:.4g} {unit} at {mm_per_px:g} mm/px)"
    return value


def box_extent_px(box: Box) -> float:
    """A defect's size is its extent: a 6 mm scratch 0.2 mm wide is a 6 mm scratch,
    so the longer side of the box is compared with the minimum."""
    return max(box.w, box.h)


def check_min_size(box: Box, defect_class: DefectClass, mm_per_px: float | None) -> str | None:
    """Raise AnnotationTooSmall when the box is below the class minimum.

    Returns a warning when the minimum is in mm and the image has no calibration
    (the rule cannot be checked there), else None.
    """
    min_size = defect_class.min_size
    if min_size is None:
        return None
    limit = min_size.in_pixels(mm_per_px)
    if limit is None:
        return (
            f"minimum size of {defect_class.name} is {describe_min(min_size, None)}, "
            f"but this image has no mm_per_px calibration: not checked"
        )
    extent = box.w * box.h if min_size.is_area else box_extent_px(box)
    if extent + 1e-9 < limit:
        raise AnnotationTooSmall(
            f"box {box.w:g}x{box.h:g} px is smaller than the minimum size of "
            f"{defect_class.name}: {describe_min(min_size, mm_per_px)}; "
            f"enlarge it or leave the defect unlabeled"
        )
    return None


@dataclass(frozen=True)
class DistanceCheck:
    """One taxonomy tolerance evaluated on one keypoint set."""

    a: str
    b: str
    nominal_mm: float
    tol_mm: float
    px: float | None
    mm: float | None
    verdict: str

    @property
    def deviation_mm(self) -> float | None:
        return None if self.mm is None else self.mm - self.nominal_mm

    def describe(self) -> str:
        head = f"{self.a}-{self.b}"
        if self.mm is None:
            why = "point not placed" if self.px is None else "no mm/px calibration"
            return f"{head}: {UNMEASURED} ({why}); nominal {self.nominal_mm:g}±{self.tol_mm:g} mm"
        return (
            f"{head}: {self.mm:.2f} mm (nominal {self.nominal_mm:g}±{self.tol_mm:g}, "
            f"{self.deviation_mm:+.2f}) {self.verdict.upper()}"
        )


def check_tolerance(kps: KeypointSet, tol: Tolerance, mm_per_px: float | None) -> DistanceCheck:
    """Distance between the two named points in mm against nominal ± tolerance.

    A point with v=0 has no position: the distance is unmeasured. Occluded points
    (v=1) were placed by the annotator, so they are measured like visible ones.
    """
    p, q = kps.point(tol.a), kps.point(tol.b)
    if p.v == NOT_LABELED or q.v == NOT_LABELED:
        return DistanceCheck(tol.a, tol.b, tol.nominal_mm, tol.tol_mm, None, None, UNMEASURED)
    px = distance((p.x, p.y), (q.x, q.y))
    if not mm_per_px:
        return DistanceCheck(tol.a, tol.b, tol.nominal_mm, tol.tol_mm, px, None, UNMEASURED)
    mm = px * mm_per_px
    # Round away float noise so a distance exactly at the limit passes.
    ok = round(abs(mm - tol.nominal_mm), 9) <= tol.tol_mm
    return DistanceCheck(tol.a, tol.b, tol.nominal_mm, tol.tol_mm, px, mm, PASS if ok else FAIL)


def check_template(
    kps: KeypointSet, template: KeypointTemplate, mm_per_px: float | None
) -> list[DistanceCheck]:
    """Every tolerance of the template, in taxonomy order."""
    return [check_tolerance(kps, t, mm_per_px) for t in template.tolerances]


def overall(checks: list[DistanceCheck]) -> str:
    """fail if any distance fails; unmeasured if any is unmeasured; else pass."""
    verdicts = {c.verdict for c in checks}
    if FAIL in verdicts:
        return FAIL
    if UNMEASURED in verdicts or not checks:
        return UNMEASURED
    return PASS
