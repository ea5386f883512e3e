"""Import CVAT for images 1.1 XML (the layout is described in formats.cvat_xml).

Read: `box` (unrotated), `polygon` (rings sharing a label and a non-zero `group_id`
form one mask), `mask` (CVAT's row-major runs over left/top/width/height), `skeleton`
(a keypoint set; `outside` = unlabeled, `occluded` = v 1), `points` whose count is a
keypoint template's (one set, all visible), `tag` (verdict or image class). Attributes:
`severity` on objects and image-class tags, `class` on skeletons. Tracks (CVAT for
video), polylines, ellipses and cuboids have no counterpart and are refused.
The XML is read by formats.safe_xml (no DTD, no entities).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..core.model import NOT_LABELED, OCCLUDED, VISIBLE, Annotation, Box, KeypointSet
from ..core.taxonomy import Taxonomy
from ..errors import FormatError
from .importing import Parsed
from .interchange import (
    source_file,
    default_verdict,
    find_template,
    keypoint_set,
    mask_from_region,
    mask_from_rings,
    read_tags,
    runs_region,
)
from .safe_read import shown
from .safe_xml import parse_xml

REFUSED = ("polyline", "ellipse", "cuboid")


def annotation_file(src: Path) -> Path:
    return source_file(src, "annotations.xml", "CVAT for images 1.1")


def read(tax: Taxonomy, src: Path) -> list[Parsed]:
    path = annotation_file(src)
    root = parse_xml(path)
    if root.tag != "annotations":
        raise FormatError(
            f"{path}: root element <{root.tag}>: expected <annotations> (CVAT for images 1.1)"
        )
    if root.find("track") is not None:
        raise FormatError(
            f"{path}: <track> elements are CVAT for video; export the task as CVAT for images 1.1"
        )
    out = []
    for n, image in enumerate(root.findall("image")):
        name = image.get("name") or ""
        where = f"{path}: image {shown(name)}" if name else f"{path}: image[{n}]"
        if not name:
            raise FormatError(f"{where}: attribute name is missing")
        size = (_int(image, "width", where), _int(image, "height", where))
        out.append(Parsed(name, _annotation(image, tax, size, where), where, size=size))
    return out


def _int(el: ET.Element, key: str, where: str) -> int:
    text = el.get(key)
    try:
        return int(str(text).strip())
    except ValueError:
        raise FormatError(f"{where}: {el.tag} {key} = {shown(text)}: expected an integer") from None


def _float(el: ET.Element, key: str, where: str) -> float:
    text = el.get(key)
    try:
        v = float(str(text).strip())
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise FormatError(f"{where}: {el.tag} {key} = {shown(text)}: expected a number")
    return v


def _points(el: ET.Element, where: str) -> list[tuple[float, float]]:
    text = el.get("points") or ""
    try:
        pts = [tuple(float(v) for v in pair.split(",")) for pair in text.split(";")]
    except ValueError:
        pts = []
    if not pts or any(len(p) != 2 or not all(map(math.isfinite, p)) for p in pts):
        raise FormatError(f"{where}: {el.tag} points = {shown(text)}: expected 'x,y;x,y;...'")
    return pts  # type: ignore[return-value]


def _attrs(el: ET.Element) -> dict[str, str]:
    return {a.get("name", ""): (a.text or "").strip() for a in el.findall("attribute")}


def _annotation(image: ET.Element, tax: Taxonomy, size: tuple[int, int], where: str) -> Annotation:
    classes = tax.class_names()
    boxes, sets, tags = [], [], []
    rings: dict[tuple[str, str], list[tuple[tuple[float, ...], str | None]]] = {}
    masks: list[tuple[int, Any]] = []  # (position, mask or polygon group key)
    for i, el in enumerate(image):
        at = f"{where}: <{el.tag}> {i + 1}"
        label = el.get("label") or ""
        severity = _attrs(el).get("severity") or None
        if el.tag == "box":
            boxes.append(_box(el, label, severity, at))
        elif el.tag == "polygon":
            ring = tuple(v for p in _points(el, at) for v in p)
            group = el.get("group_id") or "0"
            key = (label, group if group != "0" else f"shape{i}")
            if key not in rings:
                masks.append((i, key))
            rings.setdefault(key, []).append((ring, severity))
        elif el.tag == "mask":
            masks.append((i, _mask(el, label, severity, size, at)))
        elif el.tag == "skeleton":
            sets.append(_skeleton(el, label, tax, at))
        elif el.tag == "points":
            sets.append(_point_set(el, label, tax, at))
        elif el.tag == "tag":
            tags.append((label, severity))
        elif el.tag in REFUSED:
            raise FormatError(
                f"{at}: CVAT {el.tag} shapes have no counterpart in qclabel "
                "(boxes, polygons, masks, skeletons, points, tags)"
            )
    built = tuple(_rings_mask(m, rings, where) if isinstance(m, tuple) else m for _, m in masks)
    fields = read_tags(tags, classes, where)
    has_objects = bool(boxes or sets or built)
    return Annotation(
        verdict=default_verdict(fields, has_objects, empty_is_pass=False),
        defect_class=fields.get("defect_class"),
        severity=fields.get("severity"),
        boxes=tuple(boxes),
        keypoints=tuple(sets),
        masks=built,
    )


def _rings_mask(key: tuple[str, str], rings: dict[tuple[str, str], Any], where: str) -> Any:
    members = rings[key]
    severity = next((s for _, s in members if s), None)
    return mask_from_rings(key[0], [r for r, _ in members], severity, where)


def _box(el: ET.Element, label: str, severity: str | None, at: str) -> Box:
    if el.get("rotation") and _float(el, "rotation", at) != 0:
        raise FormatError(
            f"{at}: a rotated box (rotation = {el.get('rotation')}) has no counterpart in qclabel"
        )
    x1, y1, x2, y2 = (_float(el, k, at) for k in ("xtl", "ytl", "xbr", "ybr"))
    return Box(label, x1, y1, x2 - x1, y2 - y1, severity)


def _mask(el: ET.Element, label: str, severity: str | None, size: tuple[int, int], at: str) -> Any:
    left, top, w, h = (_int(el, k, at) for k in ("left", "top", "width", "height"))
    if left < 0 or top < 0 or w <= 0 or h <= 0 or left + w > size[0] or top + h > size[1]:
        raise FormatError(
            f"{at}: mask at left={left} top={top} {w}x{h} is not inside the "
            f"{size[0]}x{size[1]} image"
        )
    try:
        runs = [int(v) for v in (el.get("rle") or "").split(",")]
    except ValueError:
        raise FormatError(
            f"{at}: mask rle = {shown(el.get('rle') or '')}: expected comma-separated run lengths"
        ) from None
    region = runs_region(runs, w, h, at)
    return mask_from_region(label, region, left, top, severity, at)


def _skeleton(el: ET.Element, label: str, tax: Taxonomy, at: str) -> KeypointSet:
    given: dict[str, tuple[float, float, int]] = {}
    for p in el.findall("points"):
        name = p.get("label") or ""
        if p.get("outside") == "1":
            given[name] = (0.0, 0.0, NOT_LABELED)
            continue
        pts = _points(p, at)
        if len(pts) != 1:
            raise FormatError(f"{at}: skeleton point {shown(name)} has {len(pts)} points, not 1")
        v = OCCLUDED if p.get("occluded") == "1" else VISIBLE
        given[name] = (pts[0][0], pts[0][1], v)
    template = find_template(tax, label, given, at)
    cls = _attrs(el).get("class") or None
    return keypoint_set(template, given, cls, tax.class_names())


def _point_set(el: ET.Element, label: str, tax: Taxonomy, at: str) -> KeypointSet:
    pts = _points(el, at)
    fits = [
        t
        for t in tax.keypoint_templates
        if len(t.points) == len(pts)
        and (label in (t.name, t.name + "-keypoints") or label in tax.class_names())
    ]
    if len(fits) != 1:
        raise FormatError(
            f"{at}: points shape with {len(pts)} points (label {shown(label)}) "
            f"matches {len(fits)} keypoint templates; exactly one is needed"
        )
    t = fits[0]
    given = {n: (x, y, VISIBLE) for n, (x, y) in zip(t.points, pts)}
    cls = label if label in tax.class_names() else None
    return keypoint_set(t, given, cls, tax.class_names())
