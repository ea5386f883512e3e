"""COCO import: `parse` / `parse_sized` read one instances or keypoints file back into
Annotations, type-checking every field (formats.safe_read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.model import Annotation, Box, Keypoint, KeypointSet
from ..errors import FormatError
from . import masks_coco, safe_read
from .attributes import apply_image, severity_of

load_json = safe_read.load_json


def parse(path: Path, templates: dict[str, Any]) -> dict[str, Annotation]:
    """file_name -> Annotation for one COCO file (instances or keypoints)."""
    return {name: ann for name, (ann, _) in parse_sized(path, templates).items()}


def parse_sized(
    path: Path, templates: dict[str, Any]
) -> dict[str, tuple[Annotation, tuple[int, int] | None]]:
    """file_name -> (Annotation, (width, height) when the file gives both as integers).
    Every field is type-checked: a hostile file gets one line naming field and value."""
    doc = safe_read.obj(load_json(path), str(path), "the top level")
    for key in ("images", "annotations", "categories"):
        safe_read.items(doc.get(key), str(path), f"field {key!r}")
    cats = _categories(doc["categories"], path)
    images, sizes, attrs = _images(doc["images"], path)
    found: dict[str, dict[str, list[Any]]] = {
        n: {"boxes": [], "masks": [], "sets": []} for n in images.values()
    }
    for i, ann in enumerate(doc["annotations"]):
        where = f"{path}: annotations[{i}]"
        ann = safe_read.obj(ann, f"{path}", f"annotations[{i}]")
        image_id = ann.get("image_id")
        name = images.get(image_id) if isinstance(image_id, (int, str)) else None
        cat_id = ann.get("category_id")
        cat = cats.get(cat_id) if isinstance(cat_id, (int, str)) else None
        if name is None:
            raise FormatError(f"{where}: image_id = {safe_read.shown(image_id)} not in images")
        if cat is None:
            raise FormatError(f"{where}: category_id = {safe_read.shown(cat_id)} unknown")
        if "keypoints" in ann:
            found[name]["sets"].append(_keypoint_set(ann, cat, templates, where))
        elif masks_coco.has_mask(ann):
            found[name]["masks"].append(
                masks_coco.parse_mask(ann, cat["name"], sizes[image_id], where)
            )
        else:
            found[name]["boxes"].append(_box(ann, cat["name"], where))
    by_id = {name: iid for iid, name in images.items()}
    return {
        n: (
            apply_image(
                Annotation(
                    verdict=None if any(f.values()) else "pass",
                    boxes=tuple(f["boxes"]),
                    keypoints=tuple(f["sets"]),
                    masks=tuple(f["masks"]),
                ),
                *attrs[n],
            ),
            sizes[by_id[n]],
        )
        for n, f in found.items()
    }


def _categories(raw: list[Any], path: Path) -> dict[Any, dict[str, Any]]:
    cats: dict[Any, dict[str, Any]] = {}
    for i, c in enumerate(raw):
        c = safe_read.obj(c, str(path), f"categories[{i}]")
        cid = safe_read.key(c.get("id"), str(path), f"categories[{i}].id")
        safe_read.text(c.get("name"), str(path), f"categories[{i}].name")
        if cid in cats:
            raise FormatError(f"{path}: categories[{i}].id = {cid!r} is used twice")
        cats[cid] = c
    return cats


def _images(
    raw: list[Any], path: Path
) -> tuple[dict[Any, str], dict[Any, tuple[int, int] | None], dict[str, tuple[Any, str]]]:
    """image id -> file_name and -> size; a repeated id or file_name is refused (the
    second image's labels would silently merge into the first's)."""
    images: dict[Any, str] = {}
    sizes: dict[Any, tuple[int, int] | None] = {}
    seen: dict[str, int] = {}
    attrs: dict[str, tuple[Any, str]] = {}  # file_name -> (CVAT-style attributes, where)
    for i, im in enumerate(raw):
        im = safe_read.obj(im, str(path), f"images[{i}]")
        if not {"id", "file_name"} <= set(im):
            raise FormatError(f"{path}: images[{i}] needs id and file_name")
        iid = safe_read.key(im["id"], str(path), f"images[{i}].id")
        name = safe_read.text(im["file_name"], str(path), f"images[{i}].file_name")
        if iid in images:
            raise FormatError(f"{path}: images[{i}].id = {iid!r} is used twice")
        if name in seen:
            raise FormatError(
                f"{path}: images[{i}].file_name = {name!r} is listed twice "
                f"(also images[{seen[name]}])"
            )
        seen[name] = i
        images[iid] = name
        w, h = im.get("width"), im.get("height")
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (w, h))
        sizes[iid] = (w, h) if ok else None  # type: ignore[assignment]  # ints when ok
        attrs[name] = (im.get("attributes"), f"{path}: images[{i}]")
    return images, sizes, attrs


def _box(ann: dict[str, Any], cls: str, where: str) -> Box:
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4):
        raise FormatError(f"{where}: bbox = {safe_read.shown(bbox)}: expected [x, y, w, h]")
    x, y, w, h = safe_read.numbers(bbox, where, "bbox")
    return Box(cls, x, y, w, h, severity_of(ann.get("attributes"), where))


def _keypoint_set(
    ann: dict[str, Any], cat: dict[str, Any], templates: dict[str, Any], where: str
) -> KeypointSet:
    names = cat.get("keypoints") or []
    if not isinstance(names, list):
        raise FormatError(
            f"{where}: category keypoints = {safe_read.shown(names)}: "
            "expected a list of point names"
        )
    template = next((t for t in templates.values() if list(t.points) == list(names)), None)
    if template is None:
        raise FormatError(
            f"{where}: category {cat.get('name')!r} keypoints "
            f"{safe_read.shown(names)} match no keypoint template of the "
            "taxonomy"
        )
    flat = ann["keypoints"]
    if not isinstance(flat, list) or len(flat) != 3 * len(names):
        raise FormatError(f"{where}: keypoints needs {3 * len(names)} values")
    flat = safe_read.numbers(flat, where, "keypoints")
    pts = []
    for i, name in enumerate(names):
        x, y, v = flat[3 * i : 3 * i + 3]
        if v not in (0, 1, 2):
            raise FormatError(f"{where}: keypoint {name} visibility = {v:g}: expected 0/1/2")
        pts.append(Keypoint(name, x, y, int(v)) if v else Keypoint(name))
    return KeypointSet(template.name, tuple(pts), cat["name"])
