"""labelme JSON (import only): one `NAME.json` per image.

`rectangle` shapes become boxes (label = defect class); `polygon` and `mask` shapes
become masks (formats.masks_labelme; shapes sharing a group_id form one instance).
`point` shapes whose labels are point names of a keypoint template become one keypoint
set per `group_id` (visible).
Other shape types have no counterpart in a box/keypoint project and are refused rather
than silently turned into something else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.model import NOT_LABELED, VISIBLE, Annotation, Box, Keypoint, KeypointSet
from ..errors import FormatError
from . import masks_labelme, safe_read
from .safe_read import load_json


def parse(
    path: Path, templates: dict[str, Any], classes: list[str]
) -> tuple[str, Annotation, tuple[int, int] | None]:
    """(image file name, annotation, (width, height) if given) of one labelme file."""
    doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), list):
        raise FormatError(f"{path}: field shapes missing: not a labelme file")
    image_path = doc.get("imagePath")
    if not isinstance(image_path, str) or not Path(image_path).name:
        raise FormatError(
            f"{path}: field imagePath = {safe_read.shown(image_path)}: "
            "expected the image's file name"
        )
    name = Path(image_path).name
    boxes: list[Any] = []
    groups: dict[Any, Any] = {}
    instances: dict[Any, Any] = {}
    for i, shape in enumerate(doc["shapes"]):
        where = f"{path}: shapes[{i}]"
        shape = safe_read.obj(shape, str(path), f"shapes[{i}]")
        kind = shape.get("shape_type") or "polygon"
        label = safe_read.text(shape.get("label"), where, "label")
        if not isinstance(kind, str):
            raise FormatError(f"{where}: shape_type = {safe_read.shown(kind)}: expected a string")
        gid = shape.get("group_id")
        if gid is not None and (isinstance(gid, bool) or not isinstance(gid, int)):
            raise FormatError(
                f"{where}: group_id = {safe_read.shown(gid)}: expected an integer or null"
            )
        pts = _points(shape.get("points"), where)
        if kind == "rectangle" and len(pts) == 2:
            (x1, y1), (x2, y2) = pts
            boxes.append(Box(label, min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1)))
        elif kind == "point" and len(pts) == 1:
            groups.setdefault(shape.get("group_id"), []).append((label, pts[0], where))
        elif kind in masks_labelme.MASK_TYPES:
            key = masks_labelme.group_key(shape, label, i)
            instances.setdefault(key, []).append((shape, pts, where))
        else:
            raise FormatError(
                f"{where}: shape_type = {kind!r} with {len(pts)} points: only "
                "rectangles (2 points), points, polygons and masks can be "
                "imported"
            )
    sets = [
        _keypoint_set(members, templates, classes)
        for _, members in sorted(groups.items(), key=lambda g: (g[0] is None, g[0] or 0))
    ]
    size = None
    if isinstance(doc.get("imageWidth"), int) and isinstance(doc.get("imageHeight"), int):
        size = (doc["imageWidth"], doc["imageHeight"])
    masks = tuple(masks_labelme.build(m, key[0]) for key, m in instances.items())
    ann = Annotation(
        verdict=None if boxes or sets or masks else "pass",
        boxes=tuple(boxes),
        keypoints=tuple(sets),
        masks=masks,
    )
    return name, ann, size


def _points(raw: Any, where: str) -> list[tuple[float, float]]:
    pts = []
    for p in safe_read.items(raw, where, "points"):
        if not isinstance(p, list) or len(p) != 2:
            raise FormatError(f"{where}: points = {safe_read.shown(raw)}: expected [[x, y], ...]")
        x, y = safe_read.numbers(p, where, "points")
        pts.append((x, y))
    return pts


def _keypoint_set(members: list[Any], templates: dict[str, Any], classes: list[str]) -> KeypointSet:
    names = {label for label, _, _ in members}
    template = next((t for t in templates.values() if names <= set(t.points)), None)
    if template is None:
        raise FormatError(
            f"{members[0][2]}: point label(s) {sorted(names)} belong to no "
            "keypoint template of the taxonomy"
        )
    given: dict[str, Any] = {label: xy for label, xy, _ in members}
    pts = tuple(
        Keypoint(n, *given[n], VISIBLE)  # type: ignore[call-arg]  # xy: a pair
        if n in given
        else Keypoint(n, 0, 0, NOT_LABELED)
        for n in template.points
    )
    return KeypointSet(template.name, pts, template.name if template.name in classes else None)
