"""The defect taxonomy: classes, severities, minimum sizes, hotkeys, keypoint templates.

It drives every labeling mode, so validation is strict and every error names the
file, the field path and the bad value. The parts (classes, severities, templates) are
in core.taxonomy_parts and importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .taxonomy_parts import (  # noqa: F401  (the parts, importable from here as before)
    _COLOUR,
    _NAME,
    CRITICALITY,
    LIMIT_KEYS,
    RESERVED_KEYS,
    SEGMENTATION,
    SIZE_UNITS,
    TASKS,
    DefectClass,
    KeypointTemplate,
    MinSize,
    Severity,
    Tolerance,
)
from .validator import Validator as _Validator


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
    templates = tuple(
        _load_template(v, t, i)
        for i, t in enumerate(
            v.seq(data.get("keypoint_templates", []), "taxonomy.keypoint_templates")
        )
    )
    v.unique([t.name for t in templates], "taxonomy.keypoint_templates", "name")
    if "keypoint" in tasks and not templates:
        raise ConfigError(
            file, "taxonomy.keypoint_templates", [], "the keypoint task needs at least one template"
        )
    seg = v.text(data, "taxonomy.segmentation") or "instance"
    v.check(seg in SEGMENTATION, "taxonomy.segmentation", seg, f"expected one of {SEGMENTATION}")
    return Taxonomy(
        name=name,
        classes=classes,
        tasks=tasks,
        pass_key=pass_key,
        fail_key=fail_key,
        keypoint_templates=templates,
        description=v.text(data, "taxonomy.description") or "",
        pass_allows_objects=v.flag(data, "taxonomy.pass_allows_objects"),
        source=str(file),
        segmentation=seg,
    )


def _load_class(v: "_Validator", c: Any, i: int) -> DefectClass:
    where = f"taxonomy.classes[{i}]"
    v.check(isinstance(c, dict), where, c, "must be a table")
    name = v.text(c, f"{where}.name", required=True)
    v.check(
        bool(_NAME.match(name)), f"{where}.name", name, "use lower-case letters, digits, '-' or '_'"
    )
    hotkey = v.text(c, f"{where}.hotkey", required=True)
    v.check(
        len(hotkey) == 1 and hotkey.isprintable() and hotkey != " ",
        f"{where}.hotkey",
        hotkey,
        "must be one printable character",
    )
    v.check(
        hotkey not in RESERVED_KEYS,
        f"{where}.hotkey",
        hotkey,
        f"reserved for navigation ({''.join(sorted(RESERVED_KEYS))})",
    )
    colour = v.text(c, f"{where}.colour") or "#ff5555"
    v.check(bool(_COLOUR.match(colour)), f"{where}.colour", colour, "must be #rrggbb")
    crit = v.text(c, f"{where}.criticality") or "cosmetic"
    v.check(crit in CRITICALITY, f"{where}.criticality", crit, f"expected one of {CRITICALITY}")
    sev = tuple(
        _load_severity(v, s, f"{where}.severities[{j}]")
        for j, s in enumerate(v.seq(c.get("severities", []), f"{where}.severities"))
    )
    v.unique([s.name for s in sev], f"{where}.severities", "name")
    default = v.text(c, f"{where}.default_severity")
    v.check(
        default is None or default in [s.name for s in sev],
        f"{where}.default_severity",
        default,
        f"unknown severity; the class defines {[s.name for s in sev]}",
    )
    return DefectClass(
        name=name,
        hotkey=hotkey,
        description=v.text(c, f"{where}.description") or "",
        colour=colour,
        severities=sev,
        min_size=_load_min_size(v, c.get("min_size"), f"{where}.min_size"),
        criticality=crit,
        default_severity=default,
    )


def _load_severity(v: "_Validator", s: Any, where: str) -> Severity:
    if isinstance(s, str):
        return Severity(s)
    v.check(isinstance(s, dict), where, s, "must be a name or a table")
    limits = {}
    for key in LIMIT_KEYS:
        val = s.get(key)
        if val is not None:
            v.check(
                isinstance(val, (int, float)) and not isinstance(val, bool) and val > 0,
                f"{where}.{key}",
                val,
                "must be a positive number",
            )
            limits[key] = float(val)
    return Severity(
        v.text(s, f"{where}.name", required=True), v.text(s, f"{where}.description") or "", **limits
    )


def _load_min_size(v: "_Validator", m: Any, where: str) -> MinSize | None:
    if m is None:
        return None
    if isinstance(m, (int, float)) and not isinstance(m, bool):
        m = {"value": m, "unit": "px"}
    v.check(isinstance(m, dict), where, m, "must be a number of px or {value, unit}")
    value, unit = m.get("value"), m.get("unit", "px")
    v.check(
        isinstance(value, (int, float)) and not isinstance(value, bool),
        f"{where}.value",
        value,
        "must be a number",
    )
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
        v.check(
            isinstance(pair, list) and len(pair) == 2 and all(p in points for p in pair),
            f"{where}.skeleton[{j}]",
            pair,
            "must be a pair of the template's point names",
        )
        skeleton.append((pair[0], pair[1]))
    tols = tuple(
        _load_tolerance(v, d, points, f"{where}.tolerances[{j}]")
        for j, d in enumerate(v.seq(t.get("tolerances", []), f"{where}.tolerances"))
    )
    positions = []
    for j, p in enumerate(v.seq(t.get("positions", []), f"{where}.positions")):
        ok = (
            isinstance(p, dict)
            and p.get("point") in points
            and all(isinstance(p.get(k), (int, float)) for k in ("x", "y"))
        )
        v.check(ok, f"{where}.positions[{j}]", p, "needs point (a template point), x and y")
        positions.append((p["point"], float(p["x"]), float(p["y"])))
    flips = []
    for j, pair in enumerate(v.seq(t.get("flip_pairs", []), f"{where}.flip_pairs")):
        v.check(
            isinstance(pair, list)
            and len(pair) == 2
            and pair[0] != pair[1]
            and all(p in points for p in pair),
            f"{where}.flip_pairs[{j}]",
            pair,
            "must be a pair of two different point names of the template",
        )
        flips.append((pair[0], pair[1]))
    return KeypointTemplate(name, points, tuple(skeleton), tols, tuple(positions), tuple(flips))


def _load_tolerance(v: "_Validator", d: Any, points: tuple[str, ...], where: str) -> Tolerance:
    v.check(isinstance(d, dict), where, d, "must be a table")
    for key in ("from", "to"):
        v.check(d.get(key) in points, f"{where}.{key}", d.get(key), "not a point of the template")
    for key in ("nominal_mm", "tol_mm"):
        val = d.get(key)
        v.check(
            isinstance(val, (int, float)) and val >= 0,
            f"{where}.{key}",
            val,
            "must be a non-negative number",
        )
    return Tolerance(d["from"], d["to"], float(d["nominal_mm"]), float(d["tol_mm"]))


def _check_unique_keys(
    v: "_Validator", classes: tuple[DefectClass, ...], pass_key: str, fail_key: str
) -> None:
    v.unique([c.name for c in classes], "taxonomy.classes", "name")
    seen = {pass_key: "taxonomy.pass_key"}
    v.check(fail_key != pass_key, "taxonomy.fail_key", fail_key, "same key as pass_key")
    seen[fail_key] = "taxonomy.fail_key"
    for i, c in enumerate(classes):
        v.check(
            c.hotkey not in seen,
            f"taxonomy.classes[{i}].hotkey",
            c.hotkey,
            f"duplicate hotkey, already used by {seen.get(c.hotkey)}",
        )
        seen[c.hotkey] = f"taxonomy.classes[{i}] ({c.name})"
