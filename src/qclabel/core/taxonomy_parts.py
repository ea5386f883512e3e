"""The parts a defect taxonomy is made of: severities, minimum sizes, defect classes,
keypoint templates and their tolerances, and the vocabularies they are checked against.
The taxonomy itself and its validated loading are in core.taxonomy."""

from __future__ import annotations

import re
from dataclasses import dataclass

TASKS = ("passfail", "classification", "box", "keypoint", "segmentation")
CRITICALITY = ("safety-critical", "cosmetic")
SIZE_UNITS = ("px", "mm", "px2", "mm2")  # lengths, or areas (masks)
SEGMENTATION = ("instance", "semantic")
# Keys the labeling screens keep for navigation and tools; a class hotkey may not
# take them. Digits, p/f and the remaining letters are free for the taxonomy.
# The punctuation is zoom (-, =), the queue filter (/) and window/level ([ ] { }).
RESERVED_KEYS = frozenset("abcghijklnqrsuvwxyz?") | frozenset("-=/[]{}")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Severity:
    """A severity; with limits, a measured mask gets the first severity whose limits it
    is within (core.mask_measure.follow_severity)."""

    name: str
    description: str = ""
    max_area_mm2: float | None = None
    max_length_mm: float | None = None
    max_area_px2: float | None = None
    max_length_px: float | None = None

    @property
    def limits(self) -> dict[str, float]:
        return {k: v for k in LIMIT_KEYS if (v := getattr(self, k)) is not None}


LIMIT_KEYS = ("max_area_mm2", "max_length_mm", "max_area_px2", "max_length_px")


@dataclass(frozen=True)
class MinSize:
    """Smallest size a class may be annotated with: a length (px or mm: a box's longer
    side, a mask's longest extent) or an area (px2 or mm2: a mask's pixel area)."""

    value: float
    unit: str = "px"

    @property
    def is_area(self) -> bool:
        return self.unit.endswith("2")

    def in_pixels(self, mm_per_px: float | None) -> float | None:
        """The minimum in pixels (px2 for an area), or None when mm cannot be
        converted (no calibration)."""
        if self.unit in ("px", "px2"):
            return self.value
        if not mm_per_px:
            return None
        return self.value / (mm_per_px**2 if self.is_area else mm_per_px)


@dataclass(frozen=True)
class DefectClass:
    name: str
    hotkey: str
    description: str = ""
    colour: str = "#ff5555"
    severities: tuple[Severity, ...] = ()
    min_size: MinSize | None = None
    criticality: str = "cosmetic"
    default_severity: str | None = None  # preselected when the class is chosen

    def severity_names(self) -> list[str]:
        return [s.name for s in self.severities]

    @property
    def fixed_severity(self) -> str | None:
        """The severity of a class that has exactly one: set without asking."""
        return self.severities[0].name if len(self.severities) == 1 else None

    @property
    def asks_severity(self) -> bool:
        """Whether labeling this class asks the operator for a severity."""
        return len(self.severities) > 1


@dataclass(frozen=True)
class Tolerance:
    """Nominal distance between two named points, with a +/- tolerance, in mm."""

    a: str
    b: str
    nominal_mm: float
    tol_mm: float


@dataclass(frozen=True)
class KeypointTemplate:
    name: str
    points: tuple[str, ...]
    skeleton: tuple[tuple[str, str], ...] = ()
    tolerances: tuple[Tolerance, ...] = ()
    positions: tuple[tuple[str, float, float], ...] = ()
    # Symmetric points that trade places when the image is mirrored (augmentation).
    flip_pairs: tuple[tuple[str, str], ...] = ()
