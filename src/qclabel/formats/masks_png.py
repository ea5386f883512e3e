"""Per-image PNG masks beside any export (`--mask-png`), for segmentation models such as
U-Nets: `masks/<split>/<stem>.png`, one 8-bit grey PNG per exported image (images
without masks get an all-zero one), each pixel the 1-based taxonomy index of its class
(0 = background), overlaps flattened by core.mask_layers' documented rules.
`masks/classes.txt` lists the classes, line n = index n.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from ..core.mask_layers import label_maps
from .dataset import Dataset
from .masks_common import export_masks


def write(ds: Dataset, out: Path) -> int:
    root = out / "masks"
    for split in ds.splits:
        (root / split).mkdir(parents=True, exist_ok=True)
    for image in ds.images:
        classes, _ = label_maps(
            export_masks(ds, image), ds.taxonomy, image.record.width, image.record.height
        )
        ok, buf = cv2.imencode(".png", classes, [cv2.IMWRITE_PNG_COMPRESSION, 6])
        (root / image.split / f"{image.stem}.png").write_bytes(buf.tobytes())
    (root / "classes.txt").write_text("background\n" + "".join(f"{c}\n" for c in ds.classes))
    return len(ds.images)
