"""Decode an image region at display size, and window high-bit images to 8 bit.

Decoding is the floor of the keypress-to-frame latency, so it never produces more
pixels than the frame needs: JPEGs are decoded with DCT scaling (`Image.draft`), the
crop and resize run in OpenCV (INTER_AREA; both release the GIL, so prefetch threads
really run in parallel with the UI).

16-bit images are kept as 16 bit until the window (centre, width) maps them to 8 bit:
Pillow's own conversion clips at 255 and shows them white.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from ..core.model import ImageRecord
from ..errors import ImageError
from ..ingest import reader
from .viewport import Viewport

SWAPS_AXES = {5, 6, 7, 8}
AUTO_PERCENTILES = (0.5, 99.5)  # auto window ignores hot/dead pixels at the extremes


@dataclass(frozen=True)
class SourcePixels:
    """The viewport's region at frame size, before windowing (uint8, uint16 or float32)."""

    array: np.ndarray
    high_bit: bool

    @property
    def grey(self) -> bool:
        return self.array.ndim == 2


def resolve_file(record: ImageRecord, root: Path | None) -> Path:
    return reader.canonical_path(record, root)


def decode_region(record: ImageRecord, root: Path | None, vp: Viewport) -> SourcePixels:
    """The viewport's source region resized to the frame size."""
    path = resolve_file(record, root)
    try:
        arr = _decode_full(record, path, vp)
    except ImageError:
        raise
    except Exception as exc:  # Pillow and OpenCV raise many types for bad files
        raise ImageError(f"{path}: cannot decode image: {exc}") from exc
    arr = _crop_resize(arr, vp)
    return SourcePixels(arr, high_bit=arr.dtype != np.uint8)


def _decode_full(record: ImageRecord, path: Path, vp: Viewport) -> np.ndarray:
    """The whole canonical image, reduced by DCT scaling when the frame allows it."""
    if not path.exists():
        raise ImageError(f"{path}: image file not found (catalog image {record.id})")
    with Image.open(path) as im:
        if im.format == "JPEG":
            sx, sy = vp.scale
            need = (max(1, round(vp.image_w * sx)), max(1, round(vp.image_h * sy)))
            if record.orientation in SWAPS_AXES:
                need = need[::-1]
            im.draft("L" if im.mode == "L" else "RGB", need)
            return _to_array(ImageOps.exif_transpose(im) if record.orientation != 1 else im)
    return _normalise(reader.load_canonical_array(replace(record, file=str(path))))


def _normalise(arr: np.ndarray) -> np.ndarray:
    """2-D grey or 3-channel colour; uint8, uint16 or float32."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    elif arr.ndim == 3 and arr.shape[2] > 3:
        arr = arr[:, :, :3]  # alpha is not part of an inspection image
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if arr.dtype in (np.uint8, np.uint16):
        return arr
    return arr.astype(np.float32)


def _to_array(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(im).astype(np.uint16, copy=False)
    if im.mode in ("I", "F"):
        return np.asarray(im).astype(np.float32)
    if im.mode in ("L", "RGB"):
        return np.asarray(im)
    if im.mode in ("1", "LA"):
        return np.asarray(im.convert("L"))
    return np.asarray(im.convert("RGB"))


def _crop_resize(arr: np.ndarray, vp: Viewport) -> np.ndarray:
    """Crop the region (scaled to the decoded size) and resize to the frame size."""
    fy, fx = arr.shape[0] / vp.image_h, arr.shape[1] / vp.image_w
    x0, y0 = int(round(vp.x * fx)), int(round(vp.y * fy))
    x1 = max(x0 + 1, int(round((vp.x + vp.w) * fx)))
    y1 = max(y0 + 1, int(round((vp.y + vp.h) * fy)))
    crop = arr[y0:y1, x0:x1]
    fw, fh = vp.frame_size
    if crop.shape[1] == fw and crop.shape[0] == fh:
        return np.ascontiguousarray(crop)
    shrinking = fw < crop.shape[1]
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_NEAREST  # zoomed in: show real pixels
    return cv2.resize(np.ascontiguousarray(crop), (fw, fh), interpolation=interp)


def auto_window(arr: np.ndarray) -> tuple[float, float]:
    """(centre, width) covering the 0.5-99.5 percentile range of the pixel values."""
    lo, hi = np.percentile(arr[::4, ::4] if arr.size > 1 << 16 else arr, AUTO_PERCENTILES)
    width = max(float(hi - lo), 1.0)
    return (float(lo) + width / 2, width)


def apply_window(arr: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map [centre - width/2, centre + width/2] linearly onto 0..255 (uint8)."""
    width = max(float(width), 1e-6)
    lo = center - width / 2
    out = (arr.astype(np.float32) - lo) * (255.0 / width)
    result: np.ndarray = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return result


def to_picture(src: SourcePixels, window: tuple[float, float] | None) -> Image.Image:
    """8-bit PIL picture for the encoders: mode L for greyscale (never posterised by a
    colour quantiser), RGB otherwise."""
    arr = src.array
    if src.high_bit:
        arr = apply_window(arr, *(window or auto_window(arr)))
    if arr.ndim == 3 and _is_grey_rgb(arr):
        arr = arr[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(arr), "L" if arr.ndim == 2 else "RGB")


def _is_grey_rgb(arr: np.ndarray) -> bool:
    """True for colour files that hold a grey image (common for camera JPEGs)."""
    a = arr[::3, ::3].astype(np.int16)
    return bool(
        np.abs(a[..., 0] - a[..., 1]).max() <= 2 and np.abs(a[..., 1] - a[..., 2]).max() <= 2
    )
