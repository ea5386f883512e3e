"""Read a catalog image's canonical pixels: what the display engine and exporters use.

    load_canonical(record, root)        -> PIL image, full resolution, oriented
    load_canonical_array(record, root)  -> numpy array at full bit depth

`record.file` holds the canonical pixels: the source itself when only EXIF orientation
applies (then `record.orientation` is the EXIF value still to apply), otherwise a
derived lossless file `canonical/<id>.png` (`.tif` for 16-bit) with orientation 1.
A relative `record.file` is relative to the project root.
Arrays are uint8 or uint16, (H, W) for grey and (H, W, 3) RGB for colour. The PIL
image of a 16-bit colour file is 8-bit RGB (Pillow has no 16-bit RGB mode): use the
array for full depth.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..core.model import ImageRecord
from ..errors import ImageError
from . import pixels

SWAPS_AXES = pixels.SWAPS_AXES


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical_path(record: ImageRecord, root: Path | str | None = None) -> Path:
    path = Path(record.file)
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    return path


def load_canonical(record: ImageRecord, root: Path | str | None = None) -> Image.Image:
    """The canonical image at full resolution (EXIF orientation applied)."""
    path = canonical_path(record, root)
    try:
        im: Image.Image = Image.open(path)
    except (OSError, Image.UnidentifiedImageError) as exc:
        raise ImageError(f"{path}: cannot open canonical image of {record.id}: {exc}") from None
    if record.orientation != 1:
        im = ImageOps.exif_transpose(im)
    return im


def load_canonical_array(record: ImageRecord, root: Path | str | None = None) -> np.ndarray:
    """The canonical pixels at full bit depth (uint16 for 16-bit images), oriented."""
    path = canonical_path(record, root)
    if not path.is_file():
        raise ImageError(f"{path}: canonical image of {record.id} not found")
    with pixels.open_image(path, max(record.width * record.height, 1)) as im:
        arr = pixels.read_pages(path, im, first_only=True)[0]
    return pixels.orient_array(arr, record.orientation)
