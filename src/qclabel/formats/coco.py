"""COCO: `annotations/instances_<split>.json` (boxes and masks, formats.masks_coco) and
`annotations/person_keypoints_<split>.json` (keypoint sets), images in `images/<split>/`.

Image ids are 1..N over the whole dataset and annotation ids run on from split to split,
so merged splits keep them unique; `category_id` is the 1-based taxonomy index (CVAT's
importer rejects 0). Keypoints keep the v=1 (occluded) / v=2 (visible) distinction;
unlabeled points are `0, 0, 0`; a set's `bbox` is its part's box (formats.parts).
Images and annotations carry CVAT-style `attributes` (formats.attributes), read back
on import.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Iterator

from ..errors import FormatError
from . import masks_coco
from .attributes import AttributeTexts, image_attributes, object_attributes

# The import side lives in formats.coco_read; these names stay importable from here.
from .coco_read import load_json, parse, parse_sized  # noqa: F401
from .coco_write import _RawRows, _dumps, _write, _write_streamed  # noqa: F401
from .dataset import Dataset, ExportImage, Progress, iter_progress, r3
from .parts import keypoint_box, part_boxes


def export(
    ds: Dataset,
    out: Path,
    *,
    link: str = "copy",
    progress: Progress | None = None,
    cancel: Any = None,
    **_: Any,
) -> dict[str, Any]:
    for image in iter_progress(ds.images, progress, cancel):
        if link != "none":  # not even a Path per image for nothing
            ds.place_image(image, out / "images" / image.split / image.name, link)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    # Ids are unique across splits (merging train and val keeps them apart): images
    # are numbered in dataset order, annotations run on from split to split.
    ids = {img.record.id: n for n, img in enumerate(ds.images, start=1)}
    next_box, next_kp = 1, 1
    for split in ds.splits:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        images = ds.in_split(split)
        # Streamed: the annotations are written as they are made, never all in memory.
        written = _write_streamed(
            out / "annotations" / f"instances_{split}.json",
            _instances_doc(ds, images, ids, next_box, raw=True),
        )
        next_box += written
        if ds.taxonomy.keypoint_templates:
            doc = keypoints(ds, images, ids, next_kp)
            next_kp += len(doc["annotations"])
            _write(out / "annotations" / f"person_keypoints_{split}.json", doc)
    return {"images": len(ds.images)}


def _header(
    ds: Dataset, images: list[ExportImage], ids: dict[str, int], raw: bool = False
) -> dict[str, Any]:
    rows = _image_rows(ds, images, ids, raw)
    return {
        "info": {
            "description": f"qclabel export, taxonomy {ds.taxonomy.name}",
            "version": ds.manifest.get("name") or "",
            "contributor": "qclabel",
        },
        "licenses": [],
        "images": _RawRows(rows) if raw else rows,
    }


def _image_rows(
    ds: Dataset, images: list[ExportImage], ids: dict[str, int], raw: bool = False
) -> Iterator[Any]:
    """The image rows (`raw`: as their JSON text where `_image_row` writes them)."""
    synthetic = ds.has_synthetic
    attributes = AttributeTexts(image_attributes, object_attributes).image
    texts = AttributeTexts(lambda i: _dumps(image_attributes(i)), object_attributes).image
    for img in images:
        if raw and not synthetic:
            rec = img.record
            text = _image_row(ids[rec.id], img.name, rec.width, rec.height, texts(img))
            if text is not None:
                yield text
                continue
        yield {
            "id": ids[img.record.id],
            "file_name": img.name,
            "width": img.record.width,
            "height": img.record.height,
            "attributes": attributes(img),
            **(_synthetic(img) if synthetic else {}),
        }


def _image_row(row_id: int, name: str, width: int, height: int, attributes: str) -> str | None:
    """The JSON text `_dumps` gives the image row `_image_rows` makes from these
    (`attributes` the text of its attributes; keys sorted), None where json would
    write a value otherwise than this does (a number that is no int, a name that is
    no str)."""
    if not (type(row_id) is int and type(width) is int and type(height) is int):
        return None
    if type(name) is not str:
        return None
    return (
        f'{{"attributes":{attributes},"file_name":{encode_basestring(name)},'
        f'"height":{height},"id":{row_id},"width":{width}}}'
    )


def _synthetic(img: ExportImage) -> dict[str, Any]:
    """The image fields marking augmented images (only in datasets that have any,
    so exports of real data keep their bytes)."""
    return {
        "synthetic": img.synthetic is not None,
        "synthetic_sources": list(img.synthetic["sources"]) if img.synthetic else [],
    }


def _numbered(images: list[ExportImage], ids: dict[str, int] | None) -> dict[str, int]:
    return ids if ids is not None else {img.record.id: n for n, img in enumerate(images, start=1)}


def instances(
    ds: Dataset, images: list[ExportImage], ids: dict[str, int] | None = None, first_id: int = 1
) -> dict[str, Any]:
    doc = _instances_doc(ds, images, _numbered(images, ids), first_id)
    return {k: v if isinstance(v, (list, dict)) else list(v) for k, v in doc.items()}


def _instances_doc(
    ds: Dataset, images: list[ExportImage], ids: dict[str, int], first_id: int, raw: bool = False
) -> dict[str, Any]:
    """The instances document, its images and annotations as iterators (`raw`: the
    box annotations as their JSON text, for `_write_streamed`)."""
    doc = _header(ds, images, ids, raw)
    doc["categories"] = [
        {"id": i + 1, "name": c, "supercategory": "defect"} for i, c in enumerate(ds.classes)
    ]
    rows = _instance_rows(ds, images, ids, first_id, raw)
    doc["annotations"] = _RawRows(rows) if raw else rows
    return doc


def _instance_rows(
    ds: Dataset, images: list[ExportImage], ids: dict[str, int], first_id: int, raw: bool = False
) -> Iterator[Any]:
    next_id = first_id
    index = ds.class_index
    # equal attributes, one dict (json writes it the same wherever it is), or its text
    attributes = AttributeTexts(image_attributes, object_attributes).object
    texts = AttributeTexts(image_attributes, lambda s: _dumps(object_attributes(s))).object
    for image in images:
        image_id = ids[image.record.id]
        for box, bx, by, bw, bh in ds.clipped(image):  # ds.boxes' numbers
            x, y, w, h = float(bx), float(by), float(bw), float(bh)
            if raw:
                text = _box_row(
                    x, y, w, h, index[box.cls] + 1, next_id, image_id, texts(box.severity)
                )
                if text is not None:
                    yield text
                    next_id += 1
                    continue
            yield {
                "id": next_id,
                "image_id": image_id,
                "category_id": index[box.cls] + 1,
                # r3 of each, inline (1.5M calls at 100k images)
                "bbox": [
                    round(x, 3) + 0.0,
                    round(y, 3) + 0.0,
                    round(w, 3) + 0.0,
                    round(h, 3) + 0.0,
                ],
                "area": round(w * h, 3) + 0.0,
                "iscrowd": 0,
                "segmentation": [],
                "attributes": attributes(box.severity),
            }
            next_id += 1
        masks = masks_coco.mask_annotations(ds, image, image_id, next_id)
        next_id += len(masks)
        yield from masks


def _box_row(
    x: float,
    y: float,
    w: float,
    h: float,
    category: int,
    row_id: int,
    image_id: int,
    attributes: str,
) -> str | None:
    """The JSON text `_dumps` gives the box annotation `_instance_rows` makes from
    these, `attributes` the text of its attributes (keys sorted; floats as json
    writes them, by `float.__repr__`); None for a number json would write otherwise
    (NaN, inf), or not as an int does."""
    a, b, c, d = round(x, 3) + 0.0, round(y, 3) + 0.0, round(w, 3) + 0.0, round(h, 3) + 0.0
    area = round(w * h, 3) + 0.0
    if not (a - a == 0.0 and b - b == 0.0 and c - c == 0.0 and d - d == 0.0):
        return None
    if not (area - area == 0.0 and type(category) is int and type(image_id) is int):
        return None
    return (
        f'{{"area":{area!r},"attributes":{attributes},"bbox":[{a!r},{b!r},{c!r},{d!r}],'
        f'"category_id":{category},"id":{row_id},"image_id":{image_id},'
        '"iscrowd":0,"segmentation":[]}'
    )


def keypoints(
    ds: Dataset, images: list[ExportImage], ids: dict[str, int] | None = None, first_id: int = 1
) -> dict[str, Any]:
    """Keypoint sets; `bbox` is the set's part box when it has one (formats.parts),
    the box of its labeled points otherwise."""
    ids = _numbered(images, ids)
    doc = _header(ds, images, ids)
    doc["images"] = list(doc["images"])
    doc["categories"] = [_kp_category(ds, i, c) for i, c in enumerate(ds.classes)]
    anns: list[dict[str, Any]] = []
    for image in images:
        w, h = image.record.width, image.record.height
        parts = part_boxes(ds, image)
        for kps in image.annotation.keypoints:
            cls = ds.keypoint_class(kps, image)
            template = ds.template_for_class(cls)
            if template is None or template.name != kps.template:
                raise FormatError(
                    f"image {image.record.file}: keypoint set {kps.id} uses "
                    f"template {kps.template!r}, which class {cls!r} lacks"
                )
            flat: list[Any] = []
            for name in template.points:
                p = kps.point(name)
                flat += (
                    [r3(min(max(p.x, 0), w)), r3(min(max(p.y, 0), h)), p.v] if p.v else [0, 0, 0]
                )
            x, y, bw, bh = keypoint_box(image, kps, parts)
            part = parts.get(kps.id)
            anns.append(
                {
                    "id": first_id + len(anns),
                    "image_id": ids[image.record.id],
                    "category_id": ds.class_id(cls, image) + 1,
                    "keypoints": flat,
                    "num_keypoints": sum(1 for p in kps.points if p.v > 0),
                    "bbox": [r3(x), r3(y), r3(bw), r3(bh)],
                    "area": r3(bw * bh),
                    "iscrowd": 0,
                    "segmentation": [],
                    "attributes": object_attributes(part.severity if part else None),
                }
            )
    doc["annotations"] = anns
    return doc


def _kp_category(ds: Dataset, i: int, cls: str) -> dict[str, Any]:
    template = ds.template_for_class(cls)
    points = list(template.points) if template else []
    skeleton = (
        [[points.index(a) + 1, points.index(b) + 1] for a, b in template.skeleton]
        if template
        else []
    )
    return {
        "id": i + 1,
        "name": cls,
        "supercategory": "defect",
        "keypoints": points,
        "skeleton": skeleton,
    }
