"""The object-kind interface, and the box and keypoint-set kinds (the registry is
core.kinds).

Subclasses override what differs from `ObjectKind`; see core.kinds for how a kind
is registered and what reaches objects through it.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import FormatError
from .model import Box, ImageRecord, KeypointSet

TOLERANCE_PX = 0.5  # rounding in other tools' exports; more than that is a real error


class ObjectKind:
    """The interface; subclasses override what differs."""

    name = ""  # as written in exports (CSV `kind`, diff keys)
    field = ""  # Annotation attribute holding the tuple of objects
    type: Any = object  # the record class (Box, KeypointSet, Mask)
    counted = ""  # "box(es)": how messages count them
    target = ""  # the [qa.targets] key a matched pair is held to, if any
    noun, plural = "", ""  # how consistency messages name one / several of them
    task = ""  # the taxonomy task that labels this kind
    defect = False  # marks a defect: a pass image carries none (consistency rules)

    def load(self, d: dict[str, Any]) -> Any:
        return self.type.from_dict(d)

    def dump(self, obj: Any) -> dict[str, Any]:
        result: dict[str, Any] = obj.to_dict()
        return result

    def content(self, obj: Any) -> dict[str, Any]:
        """The object without its random id: equal content = the same label."""
        return {k: v for k, v in self.dump(obj).items() if k != "id"}

    def cls_of(self, obj: Any) -> str | None:
        result: str | None = obj.cls
        return result

    def severity_of(self, obj: Any) -> str | None:
        return getattr(obj, "severity", None)

    def bbox(self, obj: Any) -> tuple[float, float, float, float]:
        raise NotImplementedError

    def check(self, obj: Any, rec: ImageRecord, where: str) -> None:
        """Raise FormatError if the object cannot be on `rec` (import validation)."""

    def clip(self, obj: Any, width: int, height: int) -> Any | None:
        return obj

    def match(self, a: Sequence[Any], b: Sequence[Any]) -> Any:
        """One-to-one pairs (qa.matching.BoxMatch shape), or None if not matchable."""
        return None

    def changed(self, old: Any, new: Any) -> dict[str, Any]:
        """Detail of a changed object between two versions (e.g. a mask's IoU)."""
        return {}

    def transformed(
        self,
        obj: Any,
        matrix: Any,
        size: tuple[int, int],
        flip_pairs: Sequence[tuple[str, str]] = (),
    ) -> Any | None:
        """The object after the image went through `matrix` (3x3, corner-origin pixel
        coordinates) into an image of `size` (width, height); None when nothing of it
        is left in the frame. Augmentation applies one matrix to the image and to every
        object through this hook, so a new kind transforms in one place."""
        raise NotImplementedError(f"object kind {self.name} cannot be transformed")

    def below_minimum(self, obj: Any, defect_class: Any, mm_per_px: float | None) -> bool:
        """Whether the object is smaller than its class minimum (after a crop)."""
        return False

    def describe(self, obj: Any) -> str:
        """One line for people (the adjudication and review panels)."""
        sev = getattr(obj, "severity", None)
        x, y, w, h = self.bbox(obj)
        return f"{self.noun} {self.cls_of(obj)}{' ' + sev if sev else ''} {x:g},{y:g} {w:g}x{h:g}"


class BoxKind(ObjectKind):
    name, field, type, counted, target = "box", "boxes", Box, "box(es)", "box_iou"
    noun, plural, task, defect = "box", "boxes", "box", True

    def bbox(self, obj: Box) -> tuple[float, float, float, float]:
        return obj.x, obj.y, obj.w, obj.h

    def check(self, box: Box, rec: ImageRecord, where: str) -> None:
        w, h = rec.width + TOLERANCE_PX, rec.height + TOLERANCE_PX
        if (
            box.w <= 0
            or box.h <= 0
            or box.x < -TOLERANCE_PX
            or box.y < -TOLERANCE_PX
            or box.x2 > w
            or box.y2 > h
        ):
            raise FormatError(
                f"{where}: box {box.cls} at x={box.x:g} y={box.y:g} "
                f"w={box.w:g} h={box.h:g} is outside the "
                f"{rec.width}x{rec.height} image {rec.file}"
            )

    def clip(self, box: Box, width: int, height: int) -> Box | None:
        from .geometry import clip_box

        out = clip_box(box, width, height)
        return out if out.w > 0 and out.h > 0 else None

    def match(self, a: Sequence[Box], b: Sequence[Box]) -> Any:
        from .assign import match_boxes

        return match_boxes(a, b)

    def changed(self, old: Box, new: Box) -> dict[str, Any]:
        from .geometry import iou

        return {"iou": round(iou(old, new), 4)}

    def transformed(
        self,
        box: Box,
        matrix: Any,
        size: tuple[int, int],
        flip_pairs: Sequence[tuple[str, str]] = (),
    ) -> Box | None:
        """The axis-aligned box around the four transformed corners, clipped."""
        from dataclasses import replace

        xs, ys = _project(
            matrix, [(box.x, box.y), (box.x2, box.y), (box.x, box.y2), (box.x2, box.y2)]
        )
        moved = replace(box, x=min(xs), y=min(ys), w=max(xs) - min(xs), h=max(ys) - min(ys))
        return self.clip(moved, *size)

    def below_minimum(self, box: Box, defect_class: Any, mm_per_px: float | None) -> bool:
        from .measure import AnnotationTooSmall, check_min_size

        try:
            check_min_size(box, defect_class, mm_per_px)
        except AnnotationTooSmall:
            return True
        return False


def _project(matrix: Any, points: Sequence[tuple[float, float]]) -> tuple[list[Any], list[Any]]:
    """Points through a 3x3 homography (the perspective divide included)."""
    xs, ys = [], []
    for x, y in points:
        u = matrix[0][0] * x + matrix[0][1] * y + matrix[0][2]
        v = matrix[1][0] * x + matrix[1][1] * y + matrix[1][2]
        w = matrix[2][0] * x + matrix[2][1] * y + matrix[2][2]
        xs.append(float(u / w))
        ys.append(float(v / w))
    return xs, ys


def mirrors(matrix: Any) -> bool:
    """Whether the transform reverses orientation (a flip): left and right swap."""
    result: bool = matrix[0][0] * matrix[1][1] - matrix[0][1] * matrix[1][0] < 0
    return result


class KeypointKind(ObjectKind):
    name, field, type, counted = "keypoints", "keypoints", KeypointSet, "keypoint set(s)"
    noun, plural, task, defect = "keypoint set", "keypoint sets", "keypoint", False

    def describe(self, obj: KeypointSet) -> str:
        placed = sum(p.v > 0 for p in obj.points)
        return f"keypoints {obj.template}: {placed}/{len(obj.points)} placed"

    def cls_of(self, obj: KeypointSet) -> str | None:
        return obj.cls

    def content(self, obj: KeypointSet) -> dict[str, Any]:
        return {k: v for k, v in obj.to_dict().items() if k != "id"}

    def bbox(self, obj: KeypointSet) -> tuple[float, float, float, float]:
        pts = [(p.x, p.y) for p in obj.points if p.v > 0]
        if not pts:
            return (0.0, 0.0, 0.0, 0.0)
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    def check(self, kps: KeypointSet, rec: ImageRecord, where: str) -> None:
        w, h = rec.width + TOLERANCE_PX, rec.height + TOLERANCE_PX
        for p in kps.points:
            if p.v and not (-TOLERANCE_PX <= p.x <= w and -TOLERANCE_PX <= p.y <= h):
                raise FormatError(
                    f"{where}: keypoint {p.name} at ({p.x:g}, {p.y:g}) is "
                    f"outside the {rec.width}x{rec.height} image {rec.file}"
                )

    def transformed(
        self,
        kps: KeypointSet,
        matrix: Any,
        size: tuple[int, int],
        flip_pairs: Sequence[tuple[str, str]] = (),
    ) -> KeypointSet | None:
        """Points moved; a point leaving the frame becomes not labeled (v=0 at 0,0, the
        COCO convention); on a flip the template's symmetric points swap names, so
        `hole_left` is still the hole on the left of the new image."""
        from dataclasses import replace
        from .model import NOT_LABELED, Keypoint

        width, height = size
        xs, ys = _project(matrix, [(p.x, p.y) for p in kps.points])
        moved = {}
        for p, x, y in zip(kps.points, xs, ys):
            inside = 0 <= x <= width and 0 <= y <= height
            moved[p.name] = (
                Keypoint(p.name, x, y, p.v)
                if p.v and inside
                else Keypoint(p.name, 0.0, 0.0, NOT_LABELED)
            )
        if mirrors(matrix):
            for a, b in flip_pairs:
                if a in moved and b in moved:
                    moved[a], moved[b] = (replace(moved[b], name=a), replace(moved[a], name=b))
        points = tuple(moved[p.name] for p in kps.points)
        if not any(p.v for p in points) and any(p.v for p in kps.points):
            return None
        return replace(kps, points=points)
