"""Domain records: images in the catalog and one annotator's labels on one image.

All geometry is in pixels of the *canonical* image (after EXIF orientation, crop,
stitching), origin at the top-left corner of the top-left pixel.
Records are immutable; edits (core.edits) build new ones, which is what makes every
change an event with a before and an after.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import InvalidGeometry
from .ids import new_id
from .mask import Mask

PASS, FAIL = "pass", "fail"
VERDICTS = (PASS, FAIL)

# Keypoint visibility, COCO convention.
NOT_LABELED, OCCLUDED, VISIBLE = 0, 1, 2

# Assembly-verification outcomes for one expected component position.
CHECK_OUTCOMES = ("present", "absent", "misplaced")


def finite(what: str, **coords: Any) -> None:
    """Refuse NaN, inf and non-numbers: a NaN box compares false with every bound, so
    it would pass validation, reach the journal, and vanish from exports."""
    for name, v in coords.items():
        try:  # an int too large for a float (10**400) overflows: no coordinate either
            ok = not isinstance(v, bool) and isinstance(v, numbers.Real) and math.isfinite(v)
        except OverflowError:
            ok = False
        if not ok:
            shown = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
            raise InvalidGeometry(f"{what}: {name} = {shown}: coordinates must be finite numbers")


@dataclass(frozen=True)
class ImageRecord:
    """One image in the catalog, as ingest left it."""

    id: str
    sha256: str
    source: str
    file: str
    width: int
    height: int
    bit_depth: int = 8
    channels: int = 3
    mode: str = "RGB"
    format: str = ""
    orientation: int = 1
    profile: str = "default"
    profile_hash: str = ""
    mm_per_px: float | None = None
    window: tuple[float, float] | None = None
    fields: dict[str, str] = field(default_factory=dict)
    exif: dict[str, Any] = field(default_factory=dict)
    dpi: tuple[float, float] | None = None
    added: str = ""
    seq: int = 0
    # Ingest provenance: the source's own colour mode (`mode` is the canonical one),
    # every source file of a stitched/stacked image, the page of a multi-page TIFF.
    source_mode: str = ""
    sources: list[str] = field(default_factory=list)
    page: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["window"] = list(self.window) if self.window else None
        d["dpi"] = list(self.dpi) if self.dpi else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ImageRecord":
        fields = cls.__dataclass_fields__
        known = {k: v for k, v in d.items() if k in fields}
        if known.get("window"):
            known["window"] = tuple(known["window"])
        if known.get("dpi"):
            known["dpi"] = tuple(known["dpi"])
        return cls(**known)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in canonical-image pixels."""

    cls: str
    x: float
    y: float
    w: float
    h: float
    severity: str | None = None
    id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        try:  # the fast path: construction is on every import's and replay's hot path
            ok = (
                math.isfinite(self.x)
                and math.isfinite(self.y)
                and math.isfinite(self.w)
                and math.isfinite(self.h)
            ) and bool not in (type(self.x), type(self.y), type(self.w), type(self.h))
        except (TypeError, OverflowError):  # not a number, or an int no float can hold
            ok = False
        if not ok:
            finite(f"box {self.cls}", x=self.x, y=self.y, w=self.w, h=self.h)

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    def moved(self, dx: float = 0, dy: float = 0) -> "Box":
        return replace(self, x=self.x + dx, y=self.y + dy)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Box":
        if len(d) == 7:  # every field, as a label stores it: no dict of keywords per box
            try:
                return cls(d["cls"], d["x"], d["y"], d["w"], d["h"], d["severity"], d["id"])
            except KeyError:
                pass
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class Keypoint:
    name: str
    x: float = 0.0
    y: float = 0.0
    v: int = NOT_LABELED

    def __post_init__(self) -> None:
        try:
            ok = math.isfinite(self.x) and math.isfinite(self.y)
        except TypeError:
            ok = False
        if not ok:
            finite(f"keypoint {self.name}", x=self.x, y=self.y)

    def to_list(self) -> list[Any]:
        return [self.name, self.x, self.y, self.v]


@dataclass(frozen=True)
class KeypointSet:
    """One instance of a keypoint template, points in template order."""

    template: str
    points: tuple[Keypoint, ...]
    cls: str | None = None
    id: str = field(default_factory=new_id)

    def point(self, name: str) -> Keypoint:
        for p in self.points:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "cls": self.cls,
            "id": self.id,
            "points": [p.to_list() for p in self.points],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "KeypointSet":
        pts = tuple(Keypoint(n, x, y, int(v)) for n, x, y, v in d["points"])
        return cls(template=d["template"], points=pts, cls=d.get("cls"), id=d["id"])


@dataclass(frozen=True)
class Annotation:
    """Everything one annotator said about one image.

    The object tuples (`boxes`, `keypoints`, `masks`) are the object kinds of
    `core.kinds`; serialization and classes go through that registry."""

    verdict: str | None = None
    defect_class: str | None = None
    severity: str | None = None
    boxes: tuple[Box, ...] = ()
    keypoints: tuple[KeypointSet, ...] = ()
    checks: tuple[tuple[str, str], ...] = ()
    flag: str | None = None
    skipped: bool = False
    masks: tuple[Mask, ...] = ()
    # Further image classes (multi-label classification: a part with a scratch and a
    # dent); `defect_class` stays the main one and alone carries the severity.
    also: tuple[str, ...] = ()

    @property
    def has_objects(self) -> bool:
        return any(getattr(self, k.field) for k in _kinds())

    @property
    def is_labeled(self) -> bool:
        return bool(
            self.verdict or self.defect_class or self.also or self.checks or self.has_objects
        )

    @property
    def state(self) -> str:
        """labeled | flagged | skipped | unlabeled (flag wins: it asks for review)."""
        if self.flag is not None:
            return "flagged"
        if self.is_labeled:
            return "labeled"
        return "skipped" if self.skipped else "unlabeled"

    def objects(self) -> list[tuple[Any, Any]]:
        """(kind, object) for every object on the image (see core.kinds)."""
        return [(k, o) for k in _kinds() for o in getattr(self, k.field)]

    def classes(self) -> list[str]:
        """Every defect class this annotation names, image-level and per object."""
        out = [self.defect_class] if self.defect_class else []
        out += list(self.also)
        out += [c for k, o in self.objects() if (c := k.cls_of(o))]
        return out

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "verdict": self.verdict,
            "defect_class": self.defect_class,
            "severity": self.severity,
        }
        for k in _kinds():
            objs = getattr(self, k.field)
            # Kinds added later are written only when present: older labels keep
            # their exact bytes (and journal lines their hashes).
            if objs or k.field in _ALWAYS_WRITTEN:
                d[k.field] = [k.dump(o) for o in objs]
        d.update(
            {"checks": [list(c) for c in self.checks], "flag": self.flag, "skipped": self.skipped}
        )
        if self.also:  # written only when present: older labels keep their bytes
            d["also"] = list(self.also)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Annotation":
        if not d:
            return cls()
        # a list per kind, not a generator: 100k labels are built per export
        objs = {k.field: tuple([k.load(o) for o in d.get(k.field, ())]) for k in _kinds()}
        return cls(
            verdict=d.get("verdict"),
            defect_class=d.get("defect_class"),
            severity=d.get("severity"),
            checks=tuple(tuple(c) for c in d.get("checks", ())),
            flag=d.get("flag"),
            skipped=bool(d.get("skipped", False)),
            also=tuple(d.get("also", ())),
            **objs,
        )


_ALWAYS_WRITTEN = ("boxes", "keypoints")
_KINDS: list[Any] = []


def _kinds() -> list[Any]:
    """The object-kind registry (core.kinds imports this module, hence the late import)."""
    if not _KINDS:
        from .kinds import KINDS

        _KINDS.extend(KINDS)
    return _KINDS


EMPTY = Annotation()
