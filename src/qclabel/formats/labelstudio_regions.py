"""One Label Studio task's results to a qclabel annotation: results sorted by kind
(regions, per-region and per-image choices), then rectangles to boxes, keypoints grouped
by `parentID` into keypoint sets, polygons (holes: regions pointing at the outer ring)
and brush RLE to masks, choices to verdict, classes and severities."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ..core.model import OCCLUDED, VISIBLE, Annotation, Box, KeypointSet
from ..core.taxonomy import Taxonomy
from ..errors import FormatError
from . import ls_brush
from .interchange import (
    default_verdict,
    find_template,
    keypoint_set,
    mask_from_region,
    mask_from_rings,
    read_tags,
)
from .safe_read import shown

REGIONS = ("rectanglelabels", "keypointlabels", "polygonlabels", "brushlabels")
IGNORED = ("relation",)
ROUND = 6  # percent -> pixels: undo the float noise of the way there


def is_number(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class TaskResults:
    """The results of one task, sorted by kind, and the image's size in pixels."""

    width: int
    height: int
    where: str
    regions: dict[str, dict[str, Any]] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)  # region id -> values
    image_choices: list[tuple[str, str]] = field(default_factory=list)  # (from, value)
    choice_from: list[tuple[str, str, str]] = field(default_factory=list)  # (id, from, v)

    def px(self, value: dict[str, Any], key: str, scale: int, where: str) -> float:
        v = value.get(key)
        if not is_number(v):
            raise FormatError(f"{where}: value.{key} = {shown(v)}: expected a number")
        return round(float(v) * scale / 100, ROUND)


def sort_result(img: TaskResults, res: dict[str, Any], where: str) -> None:
    kind = str(res.get("type", "")).lower()
    if kind in IGNORED:
        return
    size = (res.get("original_width"), res.get("original_height"))
    if size != (None, None) and size != (img.width, img.height):
        raise FormatError(
            f"{where}: original size {size[0]}x{size[1]} differs from the "
            f"catalog's {img.width}x{img.height} (a different image?)"
        )
    value = res.get("value")
    rid = str(res.get("id", ""))
    if not isinstance(value, dict):
        raise FormatError(f"{where}: field value missing or not an object")
    if kind in REGIONS:
        if not rid or rid in img.regions:
            raise FormatError(f"{where}: region id {shown(rid)} is missing or used twice")
        img.regions[rid] = {**res, "type": kind, "where": where}
    elif kind == "choices":
        values = value.get("choices")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise FormatError(f"{where}: value.choices = {shown(values)}: expected strings")
        # Sorted into per-region and per-image once every region is known.
        img.choices.setdefault(rid, []).extend(values)
        img.choice_from += [(rid, str(res.get("from_name")), v) for v in values]
    else:
        raise FormatError(
            f"{where}: result type {shown(kind)} has no counterpart in qclabel "
            f"(reads {', '.join(REGIONS)}, choices)"
        )


def _label(res: dict[str, Any], key: str) -> str:
    labels = res["value"].get(key)
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
        raise FormatError(f"{res['where']}: value.{key} = {shown(labels)}: expected one label")
    return labels[0]


def _severity(tax: Taxonomy, img: TaskResults, rid: str, cls: str) -> str | None:
    names = tax.get(cls).severity_names() if cls in tax.class_names() else []
    return next((v for v in img.choices.get(rid, []) if v in names), None)


def _root(img: TaskResults, rid: str) -> str:
    """The first region of an object (regions point to it with parentID)."""
    seen = set()
    while (
        (parent := img.regions[rid].get("parentID")) and parent in img.regions and rid not in seen
    ):
        seen.add(rid)
        rid = str(parent)
    return rid


def task_annotation(
    tax: Taxonomy, img: TaskResults, score: float | None
) -> tuple[Annotation, tuple[float, ...]]:
    boxes: list[tuple[dict[str, Any], Box]] = []
    groups: dict[str, list[str]] = {}
    rings: dict[str, list[str]] = {}
    order: list[str] = []  # masks as first seen
    for rid, res in img.regions.items():
        kind, value, at = res["type"], res["value"], res["where"]
        if kind == "rectanglelabels":
            if is_number(value.get("rotation")) and value["rotation"] != 0:
                raise FormatError(f"{at}: a rotated rectangle has no counterpart in qclabel")
            cls = _label(res, kind)
            boxes.append(
                (
                    res,
                    Box(
                        cls,
                        img.px(value, "x", img.width, at),
                        img.px(value, "y", img.height, at),
                        img.px(value, "width", img.width, at),
                        img.px(value, "height", img.height, at),
                        _severity(tax, img, rid, cls),
                        id=rid,
                    ),
                )
            )
        elif kind == "keypointlabels":
            groups.setdefault(_root(img, rid), []).append(rid)
        elif kind == "polygonlabels":
            root = _root(img, rid)
            if root not in rings:
                order.append(root)
            rings.setdefault(root, []).append(rid)
        else:
            order.append(rid)
    sets = _keypoint_sets(tax, img, groups)
    masks = [
        _polygon_mask(tax, img, rid, rings[rid]) if rid in rings else _brush_mask(tax, img, rid)
        for rid in order
    ]
    fields = read_tags(
        [(v, None) for f, v in img.image_choices if "severity" not in f],
        tax.class_names(),
        img.where,
    )
    if fields.get("defect_class"):
        sev = [v for f, v in img.image_choices if "severity" in f]
        fields["severity"] = sev[0] if sev else None
    objs = (
        [r for r, _ in boxes]
        + [img.regions[s[0]] for s in sets]
        + [img.regions[m[0]] for m in masks]
    )
    ann = Annotation(
        verdict=default_verdict(fields, bool(objs)),
        defect_class=fields.get("defect_class"),
        severity=fields.get("severity"),
        boxes=tuple(b for _, b in boxes),
        keypoints=tuple(s for _, s in sets),
        masks=tuple(m for _, m in masks),
    )
    scores = [o.get("score", score) for o in objs]
    numbers = tuple(float(s) for s in scores if is_number(s))
    return ann, numbers if scores and len(numbers) == len(scores) else ()


def _keypoint_sets(
    tax: Taxonomy, img: TaskResults, groups: dict[str, list[str]]
) -> list[tuple[str, KeypointSet]]:
    # Points with no parentID and no children: one set per image (Label Studio itself
    # does not group keypoints).
    loose = [m[0] for m in groups.values() if len(m) == 1 and not img.regions[m[0]].get("parentID")]
    if len(loose) > 1:
        for rid in loose:
            del groups[rid]
        groups[loose[0]] = loose
    out = []
    for root, members in groups.items():
        given: dict[str, tuple[float, float, int]] = {}
        for rid in members:
            res = img.regions[rid]
            name, at = _label(res, "keypointlabels"), res["where"]
            if name in given:
                raise FormatError(
                    f"{at}: keypoint {shown(name)} twice in one keypoint set "
                    "(group the sets with parentID)"
                )
            v = OCCLUDED if "occluded" in img.choices.get(rid, []) else VISIBLE
            given[name] = (
                img.px(res["value"], "x", img.width, at),
                img.px(res["value"], "y", img.height, at),
                v,
            )
        at = img.regions[root]["where"]
        template = find_template(tax, "", given, at)
        cls = next((c for c in img.choices.get(root, []) if c in tax.class_names()), None)
        kps = keypoint_set(template, given, cls, tax.class_names())
        out.append((root, KeypointSet(kps.template, kps.points, kps.cls, id=root)))
    return out


def _polygon_mask(tax: Taxonomy, img: TaskResults, root: str, members: list[str]) -> Any:
    rings = []
    for rid in members:
        res = img.regions[rid]
        pts = res["value"].get("points")
        if not isinstance(pts, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(is_number(v) for v in p) for p in pts
        ):
            raise FormatError(f"{res['where']}: value.points: expected [[x, y], ...] in percent")
        rings.append(
            tuple(
                round(v * s / 100, ROUND) for p in pts for v, s in zip(p, (img.width, img.height))
            )
        )
    res = img.regions[root]
    cls = _label(res, "polygonlabels")
    mask = mask_from_rings(cls, rings, _severity(tax, img, root, cls), res["where"])
    return root, _with_id(mask, root)


def _brush_mask(tax: Taxonomy, img: TaskResults, rid: str) -> Any:
    res = img.regions[rid]
    value, at = res["value"], res["where"]
    if value.get("format", "rle") != "rle":
        raise FormatError(f"{at}: brush format {shown(value.get('format'))}: only rle is read")
    arr = ls_brush.decode(value.get("rle"), img.width, img.height, at)
    cls = _label(res, "brushlabels")
    mask = mask_from_region(cls, arr, 0, 0, _severity(tax, img, rid, cls), at)
    return rid, _with_id(mask, rid)


def _with_id(mask: Any, rid: str) -> Any:
    from dataclasses import replace

    return replace(mask, id=rid)
