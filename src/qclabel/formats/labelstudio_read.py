"""Import Label Studio JSON tasks (the layout is described in formats.labelstudio).

A file (or a folder's `tasks.json`) holds a list of tasks. Per task the labels are its
annotation (the ground-truth one, else the last one not cancelled), or, in a task
without annotations, its last prediction (with `score`s, kept for `--min-score`). The
image is found by `data.sha256` (our exports), else by the file name of `data.image`
(a `?d=` local-files path or a URL; the 8-hex-digit prefix Label Studio gives uploads is
dropped when needed). Results are read as formats.labelstudio writes them; keypoints
with no `parentID` at all form one set per image. Brush masks are decoded only after
their `original_width` x `original_height` is found to be the catalog image's size.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import parse_qs, unquote, urlparse

from ..core.model import OCCLUDED, VISIBLE, Annotation, Box, KeypointSet
from ..core.taxonomy import Taxonomy
from ..errors import FormatError
from ..project import Project
from . import ls_brush
from .importing import Matcher, Parsed
from .interchange import (
    source_file,
    default_verdict,
    find_template,
    keypoint_set,
    mask_from_region,
    mask_from_rings,
    read_tags,
)
from .safe_read import load_json, shown

REGIONS = ("rectanglelabels", "keypointlabels", "polygonlabels", "brushlabels")
IGNORED = ("relation",)
_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")
ROUND = 6  # percent -> pixels: undo the float noise of the way there


def task_file(src: Path) -> Path:
    return source_file(src, "tasks.json", "Label Studio JSON")


def read(project: Project, src: Path) -> list[Parsed]:
    path = task_file(src)
    doc = load_json(path)
    tasks = [doc] if isinstance(doc, dict) else doc
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise FormatError(f"{path}: expected a list of Label Studio tasks")
    matcher = Matcher(project.store.catalog.all())
    parsed = [
        _task(project.taxonomy, matcher, t, f"{path}: task {t.get('id', n)}")
        for n, t in enumerate(tasks)
    ]
    return [p for p in parsed if p is not None]


def _image_name(data: Any, matcher: Matcher, where: str) -> tuple[str, str | None]:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: field data missing or not an object")
    sha = data.get("sha256") if isinstance(data.get("sha256"), str) else None
    url = data.get("image")
    if not isinstance(url, str):
        strings = [v for v in data.values() if isinstance(v, str) and v != sha]
        url = strings[0] if len(strings) == 1 else None
    if not url:
        raise FormatError(f"{where}: data.image (the image's path or URL) is missing")
    parsed = urlparse(url)
    local = parse_qs(parsed.query).get("d")
    name = os.path.basename(unquote(local[0] if local else parsed.path))
    known = name in matcher.by_name or os.path.splitext(name)[0] in matcher.by_stem
    if not known and _UPLOAD_PREFIX.match(name):
        name = name[9:]
    return name, sha


def _labels(task: dict[str, Any], where: str) -> tuple[list[Any] | None, float | None]:
    """The result list a task's labels come from (None: nobody labeled it), and a
    prediction's score."""
    anns = [
        a
        for a in task.get("annotations") or []
        if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    if anns:
        chosen = next((a for a in anns if a.get("ground_truth")), anns[-1])
        return _result_list(chosen, where), None
    preds = [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    if preds:
        score = preds[-1].get("score")
        return _result_list(preds[-1], where), score if _is_num(score) else None
    return None, None


def _result_list(item: dict[str, Any], where: str) -> list[Any]:
    result = item.get("result", [])
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise FormatError(f"{where}: result is not a list of objects")
    return result


def _is_num(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class _Image:
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
        if not _is_num(v):
            raise FormatError(f"{where}: value.{key} = {shown(v)}: expected a number")
        return round(float(v) * scale / 100, ROUND)


def _task(tax: Taxonomy, matcher: Matcher, task: dict[str, Any], where: str) -> Parsed | None:
    name, sha = _image_name(task.get("data"), matcher, where)
    rec = matcher.find(name, sha, where)
    results, score = _labels(task, where)
    if results is None:
        return None  # a task without annotations or predictions: not labeled yet
    img = _Image(rec.width, rec.height, f"{where} ({name})")
    for n, res in enumerate(results):
        _sort(img, res, f"{img.where}: result[{n}]")
    # A choice sharing a region's id belongs to that region (perRegion controls);
    # the others are about the whole image.
    img.image_choices = [(f, v) for rid, f, v in img.choice_from if rid not in img.regions]
    ann, scores = _annotation(tax, img, score)
    return Parsed(name, ann, img.where, sha256=rec.sha256, scores=scores)


def _sort(img: _Image, res: dict[str, Any], where: str) -> None:
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


def _severity(tax: Taxonomy, img: _Image, rid: str, cls: str) -> str | None:
    names = tax.get(cls).severity_names() if cls in tax.class_names() else []
    return next((v for v in img.choices.get(rid, []) if v in names), None)


def _root(img: _Image, rid: str) -> str:
    """The first region of an object (regions point to it with parentID)."""
    seen = set()
    while (
        (parent := img.regions[rid].get("parentID")) and parent in img.regions and rid not in seen
    ):
        seen.add(rid)
        rid = str(parent)
    return rid


def _annotation(
    tax: Taxonomy, img: _Image, score: float | None
) -> tuple[Annotation, tuple[float, ...]]:
    boxes: list[tuple[dict[str, Any], Box]] = []
    groups: dict[str, list[str]] = {}
    rings: dict[str, list[str]] = {}
    order: list[str] = []  # masks as first seen
    for rid, res in img.regions.items():
        kind, value, at = res["type"], res["value"], res["where"]
        if kind == "rectanglelabels":
            if _is_num(value.get("rotation")) and value["rotation"] != 0:
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
    numbers = tuple(float(s) for s in scores if _is_num(s))
    return ann, numbers if scores and len(numbers) == len(scores) else ()


def _keypoint_sets(
    tax: Taxonomy, img: _Image, groups: dict[str, list[str]]
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


def _polygon_mask(tax: Taxonomy, img: _Image, root: str, members: list[str]) -> Any:
    rings = []
    for rid in members:
        res = img.regions[rid]
        pts = res["value"].get("points")
        if not isinstance(pts, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(_is_num(v) for v in p) for p in pts
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


def _brush_mask(tax: Taxonomy, img: _Image, rid: str) -> Any:
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
