"""The CSV/JSONL schema: every column of images and objects files and what it means, as
written to schema.json next to an export and checked by the import."""

from __future__ import annotations

from typing import Any

from . import masks_tabular
from .dataset import Dataset

IMAGE_COLUMNS = {
    "image_id": "catalog id of the image (first 16 hex digits of its sha256)",
    "split": "train, val or test",
    "path": "image file, relative to this folder",
    "sha256": "SHA-256 of the source image file",
    "width": "canonical width in pixels (after EXIF orientation)",
    "height": "canonical height in pixels (after EXIF orientation)",
    "verdict": "pass, fail or empty",
    "defect_class": "image-level defect class, or empty",
    "class_index": "0-based taxonomy index of defect_class, or empty",
    "severity": "severity of the image-level defect class, or empty",
    "status": "final-label status: single, reviewed, agreed or adjudicated",
    "annotators": "annotators whose labels this is, ';'-separated",
    "labeled_at": "UTC time of the last label or decision on the image (ISO 8601)",
    "also": "further image-level classes (multi-label), ';'-separated, or empty",
}
SYNTHETIC_COLUMN = {
    "synthetic": "1: made by augmentation from the images in "
    "qclabel_version.json's synthetic list; 0: a real image"
}
OBJECT_COLUMNS = {
    "image_id": "image the object belongs to (images file)",
    "object": "1-based object number within the image",
    "kind": "box or keypoints",
    "class": "defect class",
    "class_index": "0-based taxonomy index of class",
    "severity": "severity of the box, or empty",
    "x": "left edge, pixels",
    "y": "top edge, pixels",
    "w": "width, pixels",
    "h": "height, pixels (box of the labeled points for keypoints)",
    "template": "keypoint template (kind keypoints), or empty",
    "keypoints": "x y v per template point, space-separated (v: 0 unlabeled, 1 occluded,"
    " 2 visible); a list in JSONL",
}


def schema(ds: Dataset, kind: str) -> dict[str, Any]:
    return {
        "format": f"qclabel-{kind}",
        "version": 1,
        "coordinates": "pixels of the canonical image (EXIF orientation applied), origin "
        "at the top-left corner of the top-left pixel",
        "classes": ds.classes,
        "keypoint_templates": {t.name: list(t.points) for t in ds.taxonomy.keypoint_templates},
        "files": {
            f"images.{kind}": image_columns(ds),
            f"objects.{kind}": {**OBJECT_COLUMNS, **masks_tabular.columns(ds)},
        },
    }


def image_columns(ds: Dataset) -> dict[str, str]:
    """The image columns; `synthetic` only when the dataset has augmented images."""
    return {**IMAGE_COLUMNS, **SYNTHETIC_COLUMN} if ds.has_synthetic else IMAGE_COLUMNS
