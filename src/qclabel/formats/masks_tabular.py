"""CSV/JSONL masks: one `objects` row per mask (kind `mask`), with columns that only a
dataset with masks gets (so box-only exports keep their exact columns).

`x, y, w, h` of a mask row are its bounding region; `rle` is the compressed COCO RLE
(pycocotools, column-major) of that region, h x w: `pycocotools.mask.decode({"size":
[h, w], "counts": rle})` gives the region's pixels, to be placed at (x, y).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.mask import Mask
from ..core.mask_measure import measure
from ..errors import FormatError
from .dataset import Dataset, ExportImage
from .masks_common import check_rle, export_masks
from .safe_read import number

MASK_COLUMNS = {
    "kind": "box, keypoints or mask",  # replaces the box-only description, same place
    "rle": "kind mask: compressed COCO RLE (pycocotools, column-major) of the h x w region "
    "at x, y; empty for other kinds",
    "polygons": "kind mask drawn as polygons: x y pairs per ring, rings ';'-separated (a list "
    "of lists in JSONL); empty for painted masks",
    "area_px": "kind mask: area in pixels",
    "area_mm2": "kind mask: area in mm2 (needs the image's mm/px calibration)",
    "length_px": "kind mask: length along the skeleton, pixels",
    "length_mm": "kind mask: length along the skeleton, mm",
    "width_mm": "kind mask: mean width (area / skeleton length), mm",
    "extent_mm": "kind mask: longest extent (largest distance across the mask), mm",
    "severity_override": "kind mask: true when the annotator chose the severity against the "
    "taxonomy's thresholds",
}


def columns(ds: Dataset) -> dict[str, str]:
    return MASK_COLUMNS if any(i.annotation.masks for i in ds.images) else {}


def mask_rows(ds: Dataset, image: ExportImage, first: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for m in export_masks(ds, image):
        mm = measure(m, image.record.mm_per_px).to_dict()
        rows.append(
            {
                "image_id": image.record.id,
                "object": first + len(rows),
                "kind": "mask",
                "class": m.cls,
                "class_index": ds.class_id(m.cls, image),
                "severity": m.severity,
                "x": m.left,
                "y": m.top,
                "w": m.width,
                "h": m.height,
                "template": None,
                "keypoints": None,
                "rle": m.rle,
                "polygons": [list(p) for p in m.polygons] or None,
                "area_px": mm["area_px"],
                "area_mm2": mm["area_mm2"],
                "length_px": mm["length_px"],
                "length_mm": mm["length_mm"],
                "width_mm": mm["width_mm"],
                "extent_mm": mm["extent_mm"],
                "severity_override": m.severity_override,
            }
        )
    return rows


def blank(row: dict[str, Any]) -> dict[str, Any]:
    """A box or keypoint row, given the mask columns (empty)."""
    return {**{c: None for c in MASK_COLUMNS if c != "kind"}, **row}


def _polygons(raw: Any, where: str) -> tuple[tuple[float, ...], ...]:
    if raw in (None, ""):
        return ()
    try:
        rings = raw if isinstance(raw, list) else [r.split() for r in str(raw).split(";")]
        return tuple(tuple(number(v, where, "polygons") for v in r) for r in rings)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: polygons = {str(raw)[:40]!r}: expected x y pairs") from None


def parse_row(o: dict[str, Any], folder: Path, kind: str) -> Mask:
    where = f"{folder / f'objects.{kind}'}: image {o['image_id']} object {o['object']}"
    try:
        x, y, w, h = (int(float(o[k])) for k in ("x", "y", "w", "h"))
    except (TypeError, ValueError, KeyError, OverflowError):
        raise FormatError(f"{where}: x, y, w, h of a mask must be integers") from None
    rle = o.get("rle")
    if not rle:
        raise FormatError(f"{where}: kind mask needs an rle column")
    check_rle({"size": [h, w], "counts": str(rle)}, (w, h), where)
    sev = o.get("severity") or None
    override = str(o.get("severity_override", "")).lower() in ("true", "1")
    return Mask(
        str(o["class"]),
        str(rle),
        x,
        y,
        w,
        h,
        sev,
        polygons=_polygons(o.get("polygons"), where),
        severity_override=override,
    )
