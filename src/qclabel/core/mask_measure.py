"""Measurements of a mask in pixels and millimetres, minimum sizes and severity rules.

- area: set pixels (px2), times mm_per_px^2 (mm2);
- bbox: the tight box of the set pixels;
- longest extent: the largest distance between two set pixels' centres, plus one pixel
  (a single pixel is 1 px long), from the convex hull (OpenCV);
- length along the skeleton and mean width, for thin defects (scratches, cracks): the
  skeleton is scikit-image's `skeletonize` (OpenCV's thinning is in the contrib build
  only); its length counts orthogonal steps as 1 px and diagonal ones as sqrt(2), plus
  one pixel; mean width = area / length.
Millimetres come from the image's calibration (`ImageRecord.mm_per_px`); without one
they are None and a millimetre rule is "unmeasured", never a silent pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from .mask import Mask
from .measure import AnnotationTooSmall, describe_min
from .taxonomy import DefectClass, Severity


@dataclass(frozen=True)
class MaskMeasure:
    area_px: int
    bbox_px: tuple[int, int, int, int]
    extent_px: float
    length_px: float
    mm_per_px: float | None = None

    @property
    def width_px(self) -> float:
        return self.area_px / self.length_px if self.length_px else 0.0

    def _mm(self, px: float, power: int = 1) -> float | None:
        return px * self.mm_per_px**power if self.mm_per_px else None

    @property
    def area_mm2(self) -> float | None:
        return self._mm(self.area_px, 2)

    @property
    def extent_mm(self) -> float | None:
        return self._mm(self.extent_px)

    @property
    def length_mm(self) -> float | None:
        return self._mm(self.length_px)

    @property
    def width_mm(self) -> float | None:
        return self._mm(self.width_px)

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 4)

        return {
            "area_px": self.area_px,
            "area_mm2": r(self.area_mm2),
            "bbox_px": list(self.bbox_px),
            "extent_px": r(self.extent_px),
            "extent_mm": r(self.extent_mm),
            "length_px": r(self.length_px),
            "length_mm": r(self.length_mm),
            "width_px": r(self.width_px),
            "width_mm": r(self.width_mm),
        }

    def describe(self) -> str:
        if self.mm_per_px:
            return (
                f"{self.area_mm2:.3g} mm2, length {self.length_mm:.3g} mm, "
                f"width {self.width_mm:.3g} mm"
            )
        return f"{self.area_px} px2, length {self.length_px:.1f} px (no mm/px calibration)"


def measure(mask: Mask, mm_per_px: float | None = None) -> MaskMeasure:
    """Every measurement of one mask; cheap enough to run after each editor stroke
    (it works on the mask's region only)."""
    region = mask.region()
    return MaskMeasure(
        int(np.count_nonzero(region)),
        mask.bbox,
        longest_extent(region),
        skeleton_length(region),
        mm_per_px or None,
    )


def longest_extent(region: np.ndarray) -> float:
    contours, _ = cv2.findContours(
        np.ascontiguousarray(region, np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    if not contours:
        return 0.0
    hull = cv2.convexHull(np.vstack(contours)).reshape(-1, 2).astype(float)
    d = np.hypot(*(hull[:, None, :] - hull[None, :, :]).transpose(2, 0, 1))
    return float(d.max()) + 1.0


def skeleton_length(region: np.ndarray) -> float:
    from skimage.morphology import skeletonize

    sk = np.pad(skeletonize(region.astype(bool)), 1)
    if not sk.any():
        return 0.0
    right = sk[:, :-1] & sk[:, 1:]
    down = sk[:-1, :] & sk[1:, :]
    ortho = int(right.sum() + down.sum())
    # A diagonal step counts only where no orthogonal pixel already joins the two.
    d1 = sk[:-1, :-1] & sk[1:, 1:] & ~sk[:-1, 1:] & ~sk[1:, :-1]
    d2 = sk[:-1, 1:] & sk[1:, :-1] & ~sk[:-1, :-1] & ~sk[1:, 1:]
    return ortho + math.sqrt(2) * int(d1.sum() + d2.sum()) + 1.0


# -- taxonomy rules ---------------------------------------------------------------------
def check_min_size(m: MaskMeasure, defect_class: DefectClass) -> str | None:
    """Raise AnnotationTooSmall below the class minimum (an area compares the mask's
    area, a length its longest extent); a warning when mm cannot be checked."""
    min_size = defect_class.min_size
    if min_size is None:
        return None
    limit = min_size.in_pixels(m.mm_per_px)
    if limit is None:
        return (
            f"minimum size of {defect_class.name} is {describe_min(min_size, None)}, "
            f"but this image has no mm_per_px calibration: not checked"
        )
    value = m.area_px if min_size.is_area else m.extent_px
    if value + 1e-9 < limit:
        what = f"area {m.area_px} px2" if min_size.is_area else f"extent {m.extent_px:.1f} px"
        raise AnnotationTooSmall(
            f"mask {what} is smaller than the minimum size of {defect_class.name}: "
            f"{describe_min(min_size, m.mm_per_px)}; paint more or leave it unlabeled"
        )
    return None


_MEASURED = {
    "max_area_mm2": "area_mm2",
    "max_length_mm": "length_mm",
    "max_area_px2": "area_px",
    "max_length_px": "length_px",
}


def follow_severity(defect_class: DefectClass, m: MaskMeasure) -> str | None:
    """The first severity (taxonomy order) whose limits the measurement is within; a
    severity without limits takes whatever is left. None when the class has no
    limits, or a limit is in mm and the image has no calibration."""
    if not any(s.limits for s in defect_class.severities):
        return None
    for sev in defect_class.severities:
        if _within(sev, m) is None:
            return None
        if _within(sev, m):
            return sev.name
    return None


def _within(sev: Severity, m: MaskMeasure) -> bool | None:
    for key, limit in sev.limits.items():
        value = getattr(m, _MEASURED[key])
        if value is None:
            return None
        if value > limit + 1e-9:
            return False
    return True


def with_rules(
    mask: Mask, defect_class: DefectClass, mm_per_px: float | None, override: str | None = None
) -> tuple[Mask, MaskMeasure, str | None]:
    """The mask as the taxonomy wants it: refused below the minimum, its severity
    following the measurement unless the annotator overrides it (`override`, recorded
    as `severity_override`). Returns the mask, its measurement and any warning."""
    m = measure(mask, mm_per_px)
    warning = check_min_size(m, defect_class)
    auto = follow_severity(defect_class, m)
    if override is not None:
        names = defect_class.severity_names()
        if override not in names:
            raise ValueError(f"severity {override!r}: class {defect_class.name} has {names}")
        return (
            replace(
                mask, severity=override, severity_override=auto is not None and override != auto
            ),
            m,
            warning,
        )
    if mask.severity_override:
        return mask, m, warning
    severity = auto or mask.severity or defect_class.default_severity
    return replace(mask, severity=severity), m, warning
