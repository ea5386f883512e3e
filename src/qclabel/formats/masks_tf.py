"""TFRecord masks: `image/object/mask`, one PNG per object, as the TF Object Detection
API reads them (`instance_mask_type = PNG_MASKS`): a full-image 8-bit PNG with 1 on the
object's pixels. The key is written only when the dataset has masks; then every object
of an image has one (boxes and keypoint sets an all-zero PNG), so masks stay aligned
with `image/object/bbox/*` and `class/label`, where mask objects come last.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from .dataset import Dataset, ExportImage
from .masks_common import export_masks


def has_masks(ds: Dataset) -> bool:
    cached = getattr(ds, "_has_masks", None)
    if cached is None:
        cached = any(i.annotation.masks for i in ds.images)
        ds._has_masks = cached  # type: ignore[attr-defined]
    return cached


def mask_objects(ds: Dataset, image: ExportImage) -> list[tuple[Any, ...]]:
    """(class, (x, y, w, h), None) per mask, after the image's other objects."""
    return [(m.cls, m.bbox, None) for m in export_masks(ds, image)]


def png(arr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    return buf.tobytes()


def mask_pngs(ds: Dataset, image: ExportImage, others: int) -> list[bytes]:
    w, h = image.record.width, image.record.height
    blank = png(np.zeros((h, w), np.uint8)) if others else b""
    return [blank] * others + [png(m.full(w, h)) for m in export_masks(ds, image)]
