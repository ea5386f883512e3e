"""The defect taxonomy: classes, severities, minimum sizes, hotkeys, keypoint templates.

It drives every labeling mode, so validation is strict and every error names the
file, the field path and the bad value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .validator import Validator as _Validator

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
        return self.value / (mm_per_px ** 2 if self.is_area else mm_per_px)


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


@dataclass(frozen=True)
class Taxonomy:
    name: str
    classes: tuple[DefectClass, ...]
    tasks: tuple[str, ...] = ("classification",)
    pass_key: str = "p"
    fail_key: str = "f"
    keypoint_templates: tuple[KeypointTemplate, ...] = ()
    description: str = ""
    # A pass image may carry objects (boxes, masks): for taxonomies whose classes mark
    # parts or features rather than defects. Off: a pass image with a box is refused.
    pass_allows_objects: bool = False
    source: str = field(default="", compare=False)
    # Masks of the segmentation task: one object per defect (instance) or one layer
    # per class (semantic).
    segmentation: str = "instance"

    @property
    def semantic(self) -> bool:
        return self.segmentation == "semantic"

    def class_names(self) -> list[str]:
        """The one ordered class registry every export derives its ids from."""
        return [c.name for c in self.classes]

    def get(self, name: str) -> DefectClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(name)

    def by_hotkey(self, key: str) -> DefectClass | None:
        return next((c for c in self.classes if c.hotkey == key), None)

    def template(self, name: str) -> KeypointTemplate:
        for t in self.keypoint_templates:
            if t.name == name:
                return t
        raise KeyError(name)

    def has_task(self, task: str) -> bool:
        return task in self.tasks


def load_taxonomy(data: dict[str, Any], file: object = "<taxonomy>") -> Taxonomy:
    """Build and validate a Taxonomy from the parsed `[taxonomy]` table."""
    v = _Validator(file)
    name = v.text(data, "taxonomy.name", required=True)
    tasks = tuple(v.seq(data.get("tasks", ["classification"]), "taxonomy.tasks"))
    for i, t in enumerate(tasks):
        v.check(t in TASKS, f"taxonomy.tasks[{i}]", t, f"unknown task; expected one of {TASKS}")
    raw_classes = v.seq(data.get("classes", []), "taxonomy.classes")
    if not raw_classes and any(t != "passfail" for t in tasks):
        raise ConfigError(file, "taxonomy.classes", [], "at least one defect class is needed")
    classes = tuple(_load_class(v, c, i) for i, c in enumerate(raw_classes))
    pass_key = v.text(data, "taxonomy.pass_key") or "p"
    fail_key = v.text(data, "taxonomy.fail_key") or "f"
    _check_unique_keys(v, classes, pass_key, fail_key)
    templates = tuple(_load_template(v, t, i)
                      for i, t in enumerate(v.seq(data.get("keypoint_templates", []),
                                                  "taxonomy.keypoint_templates")))
    v.unique([t.name for t in templates], "taxonomy.keypoint_templates", "name")
    if "keypoint" in tasks and not templates:
        raise ConfigError(file, "taxonomy.keypoint_templates", [],
                          "the keypoint task needs at least one template")
    seg = v.text(data, "taxonomy.segmentation") or "instance"
    v.check(seg in SEGMENTATION, "taxonomy.segmentation", seg,
            f"expected one of {SEGMENTATION}")
    return Taxonomy(name=name, classes=classes, tasks=tasks, pass_key=pass_key,
                    fail_key=fail_key, keypoint_templates=templates,
                    description=v.text(data, "taxonomy.description") or "",
                    pass_allows_objects=v.flag(data, "taxonomy.pass_allows_objects"),
                    source=str(file), segmentation=seg)


def _load_class(v: "_Validator", c: Any, i: int) -> DefectClass:
    where = f"taxonomy.classes[{i}]"
    v.check(isinstance(c, dict), where, c, "must be a table")
    name = v.text(c, f"{where}.name", required=True)
    v.check(bool(_NAME.match(name)), f"{where}.name", name,
            "use lower-case letters, digits, '-' or '_'")
    hotkey = v.text(c, f"{where}.hotkey", required=True)
    v.check(len(hotkey) == 1 and hotkey.isprintable() and hotkey != " ", f"{where}.hotkey",
            hotkey, "must be one printable character")
    v.check(hotkey not in RESERVED_KEYS, f"{where}.hotkey", hotkey,
            f"reserved for navigation ({''.join(sorted(RESERVED_KEYS))})")
    colour = v.text(c, f"{where}.colour") or "#ff5555"
    v.check(bool(_COLOUR.match(colour)), f"{where}.colour", colour, "must be #rrggbb")
    crit = v.text(c, f"{where}.criticality") or "cosmetic"
    v.check(crit in CRITICALITY, f"{where}.criticality", crit, f"expected one of {CRITICALITY}")
    sev = tuple(_load_severity(v, s, f"{where}.severities[{j}]")
                for j, s in enumerate(v.seq(c.get("severities", []), f"{where}.severities")))
    v.unique([s.name for s in sev], f"{where}.severities", "name")
    default = v.text(c, f"{where}.default_severity")
    v.check(default is None or default in [s.name for s in sev], f"{where}.default_severity",
            default, f"unknown severity; the class defines {[s.name for s in sev]}")
    return DefectClass(name=name, hotkey=hotkey, description=v.text(c, f"{where}.description")
                       or "", colour=colour, severities=sev,
                       min_size=_load_min_size(v, c.get("min_size"), f"{where}.min_size"),
                       criticality=crit, default_severity=default)


def _load_severity(v: "_Validator", s: Any, where: str) -> Severity:
    if isinstance(s, str):
        return Severity(s)
    v.check(isinstance(s, dict), where, s, "must be a name or a table")
    limits = {}
    for key in LIMIT_KEYS:
        val = s.get(key)
        if val is not None:
            v.check(isinstance(val, (int, float)) and not isinstance(val, bool) and val > 0,
                    f"{where}.{key}", val, "must be a positive number")
            limits[key] = float(val)
    return Severity(v.text(s, f"{where}.name", required=True),
                    v.text(s, f"{where}.description") or "", **limits)


def _load_min_size(v: "_Validator", m: Any, where: str) -> MinSize | None:
    if m is None:
        return None
    if isinstance(m, (int, float)) and not isinstance(m, bool):
        m = {"value": m, "unit": "px"}
    v.check(isinstance(m, dict), where, m, "must be a number of px or {value, unit}")
    value, unit = m.get("value"), m.get("unit", "px")
    v.check(isinstance(value, (int, float)) and not isinstance(value, bool),
            f"{where}.value", value, "must be a number")
    v.check(value >= 0, f"{where}.value", value, "must not be negative")
    v.check(unit in SIZE_UNITS, f"{where}.unit", unit, f"expected one of {SIZE_UNITS}")
    return MinSize(float(value), unit)


def _load_template(v: "_Validator", t: Any, i: int) -> KeypointTemplate:
    where = f"taxonomy.keypoint_templates[{i}]"
    v.check(isinstance(t, dict), where, t, "must be a table")
    name = v.text(t, f"{where}.name", required=True)
    points = tuple(v.seq(t.get("points", []), f"{where}.points"))
    v.check(len(points) > 0, f"{where}.points", points, "needs at least one point")
    v.unique(list(points), f"{where}.points", "point")
    skeleton = []
    for j, pair in enumerate(v.seq(t.get("skeleton", []), f"{where}.skeleton")):
        v.check(isinstance(pair, list) and len(pair) == 2 and all(p in points for p in pair),
                f"{where}.skeleton[{j}]", pair, "must be a pair of the template's point names")
        skeleton.append((pair[0], pair[1]))
    tols = tuple(_load_tolerance(v, d, points, f"{where}.tolerances[{j}]")
                 for j, d in enumerate(v.seq(t.get("tolerances", []), f"{where}.tolerances")))
    positions = []
    for j, p in enumerate(v.seq(t.get("positions", []), f"{where}.positions")):
        ok = isinstance(p, dict) and p.get("point") in points and all(
            isinstance(p.get(k), (int, float)) for k in ("x", "y"))
        v.check(ok, f"{where}.positions[{j}]", p, "needs point (a template point), x and y")
        positions.append((p["point"], float(p["x"]), float(p["y"])))
    flips = []
    for j, pair in enumerate(v.seq(t.get("flip_pairs", []), f"{where}.flip_pairs")):
        v.check(isinstance(pair, list) and len(pair) == 2 and pair[0] != pair[1]
                and all(p in points for p in pair), f"{where}.flip_pairs[{j}]", pair,
                "must be a pair of two different point names of the template")
        flips.append((pair[0], pair[1]))
    return KeypointTemplate(name, points, tuple(skeleton), tols, tuple(positions),
                            tuple(flips))


def _load_tolerance(v: "_Validator", d: Any, points: tuple[str, ...], where: str) -> Tolerance:
    v.check(isinstance(d, dict), where, d, "must be a table")
    for key in ("from", "to"):
        v.check(d.get(key) in points, f"{where}.{key}", d.get(key), "not a point of the template")
    for key in ("nominal_mm", "tol_mm"):
        val = d.get(key)
        v.check(isinstance(val, (int, float)) and val >= 0, f"{where}.{key}", val,
                "must be a non-negative number")
    return Tolerance(d["from"], d["to"], float(d["nominal_mm"]), float(d["tol_mm"]))


def _check_unique_keys(v: "_Validator", classes: tuple[DefectClass, ...],
                       pass_key: str, fail_key: str) -> None:
    v.unique([c.name for c in classes], "taxonomy.classes", "name")
    seen = {pass_key: "taxonomy.pass_key"}
    v.check(fail_key != pass_key, "taxonomy.fail_key", fail_key, "same key as pass_key")
    seen[fail_key] = "taxonomy.fail_key"
    for i, c in enumerate(classes):
        v.check(c.hotkey not in seen, f"taxonomy.classes[{i}].hotkey", c.hotkey,
                f"duplicate hotkey, already used by {seen.get(c.hotkey)}")
        seen[c.hotkey] = f"taxonomy.classes[{i}] ({c.name})"
