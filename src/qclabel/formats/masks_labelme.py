"""labelme `polygon` and `mask` shapes as masks.

Shapes with the same `group_id` and label form one instance (as labelme's own
labelme2coco does); a shape without a group_id is an instance of its own. An instance of
polygons only keeps them as polygons; one with a `mask` shape (labelme >= 5.3: a base64
PNG of the region from points[0] to points[1], inclusive) is kept as its raster.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from ..core.mask import Mask, MaskError
from ..errors import FormatError

MASK_TYPES = ("polygon", "mask")


def _mask_region(shape: dict[str, Any], pts: list[Any], where: str) -> tuple[np.ndarray, int, int]:
    try:
        data = base64.b64decode(str(shape.get("mask", "")), validate=True)
        with Image.open(io.BytesIO(data)) as im:
            arr = np.asarray(im.convert("L")) > 0
    except (ValueError, OSError, Image.DecompressionBombError) as exc:
        raise FormatError(f"{where}: mask is not a base64 PNG: {exc}") from None
    if len(pts) != 2:
        raise FormatError(f"{where}: a mask shape needs 2 points (its corners)")
    x1, y1 = (int(v) for v in pts[0])
    x2, y2 = (int(v) for v in pts[1])
    if arr.shape != (y2 - y1 + 1, x2 - x1 + 1):
        raise FormatError(
            f"{where}: mask PNG is {arr.shape[1]}x{arr.shape[0]} but its "
            f"points span {x2 - x1 + 1}x{y2 - y1 + 1}"
        )
    return arr, x1, y1


def build(members: list[tuple[dict[str, Any], list[Any], str]], label: str) -> Mask:
    """One instance from its shapes (shape, points, where)."""
    rings = []
    rasters = []
    for shape, pts, where in members:
        if shape.get("shape_type") == "mask":
            rasters.append(_mask_region(shape, pts, where))
        elif len(pts) < 3:
            raise FormatError(f"{where}: a polygon needs at least 3 points, got {len(pts)}")
        else:
            rings.append(tuple(v for p in pts for v in p))
    where = members[0][2]
    try:
        mask = Mask.from_polygons(label, rings) if rings else None
        for arr, x, y in rasters:
            part = Mask.from_array(label, arr, x, y)
            mask = part if mask is None else mask.painted(part.region(), part.left, part.top)
    except MaskError as exc:
        raise FormatError(f"{where}: {exc}") from None
    return mask  # type: ignore[return-value]  # every group has a ring or a raster


def group_key(shape: dict[str, Any], label: str, n: int) -> tuple[Any, ...]:
    gid = shape.get("group_id")
    return (label, gid) if gid is not None else (label, f"shape{n}")
