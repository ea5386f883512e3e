"""Rows and training targets for `qclabel.api`, built by the CSV exporter's own row
code, so a DataFrame and `objects.csv` cannot drift apart."""

from __future__ import annotations

from typing import Any

import numpy as np

from .formats import masks_tabular
from .formats.dataset import Dataset, ExportImage
from .formats.masks_common import export_masks
from .formats.tabular import IMAGE_COLUMNS, OBJECT_COLUMNS, _image_row, _object_rows


def image_rows(ds: Dataset) -> tuple[list[dict[str, Any]], list[str]]:
    rows = []
    for image in ds.images:
        row = _image_row(ds, image)
        row["path"] = str(ds.source_path(image.record))  # the project's file, not a copy
        rows.append(row)
    return rows, list(IMAGE_COLUMNS)


def object_rows(ds: Dataset) -> tuple[list[dict[str, Any]], list[str]]:
    mask_cols = masks_tabular.columns(ds)
    out: list[dict[str, Any]] = []
    for image in ds.images:
        rows = _object_rows(ds, image)
        if mask_cols:
            rows = [masks_tabular.blank(r) for r in rows]
            rows += masks_tabular.mask_rows(ds, image, len(rows) + 1)
        out += rows
    return out, list({**OBJECT_COLUMNS, **mask_cols})


def labels_of(ds: Dataset, image: ExportImage) -> dict[str, Any]:
    row = _image_row(ds, image)
    row["path"] = str(ds.source_path(image.record))
    boxes = ds.boxes(image)
    row["boxes"] = np.array([(b.x, b.y, b.x2, b.y2) for b in boxes], dtype=np.float32).reshape(
        -1, 4
    )
    row["labels"] = np.array([ds.class_id(b.cls, image) for b in boxes], dtype=np.int64)
    row["box_severities"] = [b.severity for b in boxes]
    row["box_ids"] = [b.id for b in boxes]
    row["keypoints"] = [_keypoints(ds, image, k) for k in image.annotation.keypoints]
    w, h = image.record.width, image.record.height
    masks = export_masks(ds, image)
    row["masks"] = (
        np.stack([m.full(w, h).astype(bool) for m in masks])
        if masks
        else np.zeros((0, h, w), dtype=bool)
    )
    row["mask_labels"] = np.array([ds.class_id(m.cls, image) for m in masks], dtype=np.int64)
    row["mask_severities"] = [m.severity for m in masks]
    return row


def _keypoints(ds: Dataset, image: ExportImage, kps: Any) -> dict[str, Any]:
    cls = ds.keypoint_class(kps, image)
    w, h = image.record.width, image.record.height
    # Unlabeled points are (0, 0, 0), as in COCO; labeled ones are clipped to the image.
    pts = [
        (min(max(p.x, 0), w), min(max(p.y, 0), h), p.v) if p.v else (0, 0, 0) for p in kps.points
    ]
    return {
        "id": kps.id,
        "template": kps.template,
        "class": cls,
        "class_index": ds.class_id(cls, image),
        "points": np.array(pts, dtype=np.float32).reshape(-1, 3),
    }
