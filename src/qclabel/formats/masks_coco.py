"""COCO masks: instance annotations with `segmentation`.

Export: a mask drawn or imported as polygons is written as its polygons; a painted one
as compressed RLE (`{size: [h, w], counts: str}`); both `iscrowd: 0` (a crowd region
would be ignored by COCOeval's matching). `area` is the mask's pixel area and `bbox`
its tight box, as pycocotools computes them from the segmentation; the severity goes in
`attributes.severity` (CVAT's place for attributes) and is read back on import.
Import: polygons and RLE (compressed or uncompressed counts, `iscrowd` 0 or 1) become
masks; an RLE must have the image's size and runs that add up to it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..core.mask import Mask
from .attributes import object_attributes
from .dataset import Dataset, ExportImage, r3
from .masks_common import export_masks, mask_from_polygons, mask_from_rle


def segmentation(m: Mask, width: int, height: int) -> Any:
    if m.polygons:
        return [[r3(v) for v in ring] for ring in m.polygons]
    return m.coco_rle(width, height)


def mask_annotations(
    ds: Dataset, image: ExportImage, image_id: int, first_id: int
) -> list[dict[str, Any]]:
    w, h = image.record.width, image.record.height
    out: list[dict[str, Any]] = []
    for m in export_masks(ds, image):
        out.append(
            {
                "id": first_id + len(out),
                "image_id": image_id,
                "category_id": ds.class_id(m.cls, image) + 1,
                "bbox": [m.left, m.top, m.width, m.height],
                "area": m.area,
                "iscrowd": 0,
                "segmentation": segmentation(m, w, h),
                "attributes": object_attributes(m.severity),
            }
        )
    return out


def has_mask(ann: dict[str, Any]) -> bool:
    seg = ann.get("segmentation")
    return bool(seg) and not (isinstance(seg, list) and not any(seg))


def parse_mask(ann: dict[str, Any], cls: str, size: tuple[int, int] | None, where: str) -> Mask:
    seg = ann["segmentation"]
    if isinstance(seg, dict):
        mask = mask_from_rle(cls, seg, size, where)
    else:
        mask = mask_from_polygons(cls, seg, where)
    attrs = ann.get("attributes")
    severity = attrs.get("severity") if isinstance(attrs, dict) else None
    return replace(mask, severity=str(severity)) if severity else mask
