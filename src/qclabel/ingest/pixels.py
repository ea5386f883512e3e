"""Decode image files to numpy arrays at full bit depth; write canonical files.

Canonical pixels are always one of four layouts: uint8 grey (H, W), uint8 RGB (H, W, 3),
uint16 grey, uint16 RGB. Other modes are converted on the way in (CMYK, YCbCr, palette,
1-bit, alpha dropped) or refused with a reason (float, 32-bit integer, LAB, ...).
Pillow reads everything except 16-bit colour, which it silently truncates to 8 bit:
those files are decoded with OpenCV instead.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageError
from . import pngread, pngwrite

FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP", "MPO")
_TO_GREY = {"1", "L", "LA", "La"}
_TO_RGB = {"RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "P", "PA"}
_TO_U16 = {"I;16", "I;16L", "I;16B", "I;16N"}
SUPPORTED_MODES = tuple(sorted(_TO_GREY | _TO_RGB | _TO_U16 | {"I"}))
# EXIF orientation -> numpy steps that undo it (same result as ImageOps.exif_transpose).
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}
SWAPS_AXES = {5, 6, 7, 8}


def open_image(path: Path, max_pixels: int, packed: pngread.Repacked | None = None) -> Image.Image:
    """Open lazily (header only) and check format and pixel count before decoding.
    `packed` is the same file as `pngread.repacked` gives it (faster to decode)."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(packed.file() if packed is not None else path)
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path}: image too large (decompression bomb?): {exc}") from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{path}: not a readable image (damaged, or not JPEG, PNG, BMP, TIFF or WebP)"
        ) from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot open: {exc.strerror or exc}") from None
    if im.format not in FORMATS:
        im.close()
        raise ImageError(
            f"{path}: format {im.format} is not supported (expected JPEG, PNG, BMP, TIFF or WebP)"
        )
    if im.width * im.height > max_pixels:
        im.close()
        raise ImageError(
            f"{path}: image too large (decompression bomb?): {im.width}x"
            f"{im.height} = {im.width * im.height} pixels exceeds "
            f"limits.max_pixels = {max_pixels}"
        )
    return im


def is_16bit_colour(path: Path, im: Image.Image) -> bool:
    """Colour with 16 bits per sample, which Pillow would truncate to 8 bit."""
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))  # type: ignore[attr-defined]  # a TiffImageFile
        return len(bits) >= 3 and bits[0] == 16
    if im.format == "PNG" and im.mode in ("RGB", "RGBA"):
        with open(path, "rb") as fh:
            head = fh.read(26)
        return len(head) == 26 and head[24] == 16  # IHDR bit depth
    return False


def frame_to_array(im: Image.Image, path: Path) -> np.ndarray:
    """The current frame as a canonical-layout array (decodes the pixels)."""
    mode = im.mode
    try:
        if mode in _TO_GREY:
            return np.asarray(im if mode == "L" else im.convert("L"))
        if mode in _TO_RGB:
            return np.asarray(im if mode == "RGB" else im.convert("RGB"))
        if mode in _TO_U16:
            return np.asarray(im).astype(np.uint16, copy=False)
        if mode == "I":
            return _int32_to_u16(np.asarray(im), path)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: truncated or corrupt image data: {exc}") from None
    raise ImageError(
        f"{path}: colour mode {mode} is not supported (supported: {', '.join(SUPPORTED_MODES)})"
    )


def _int32_to_u16(arr: np.ndarray, path: Path) -> np.ndarray:
    # Mode I holds 16-bit data from some writers; real 32-bit data cannot be kept losslessly.
    if arr.size and (arr.min() < 0 or arr.max() > 65535):
        raise ImageError(
            f"{path}: colour mode I (32-bit integer) with values outside "
            f"0..65535 is not supported; convert to 16 bit"
        )
    return arr.astype(np.uint16)


def _cv2_pages(path: Path, first_only: bool) -> list[np.ndarray]:
    data = np.fromfile(path, dtype=np.uint8)
    if first_only:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        pages = [] if img is None else [img]
    else:
        ok, found = cv2.imdecodemulti(data, cv2.IMREAD_UNCHANGED)
        pages = list(found) if ok else []
    if not pages:
        raise ImageError(f"{path}: truncated or corrupt 16-bit colour image data")
    return [_bgr_to_rgb(p) for p in pages]


def _bgr_to_rgb(a: np.ndarray) -> np.ndarray:
    if a.ndim == 3 and a.shape[2] == 4:
        return cv2.cvtColor(a, cv2.COLOR_BGRA2RGB)
    if a.ndim == 3:
        return cv2.cvtColor(a, cv2.COLOR_BGR2RGB)
    return a


def page_count(im: Image.Image) -> int:
    """Pages that are images of their own: TIFF pages only (a phone's MPO JPEG holds
    a preview as its second frame, an animated WebP is not an inspection source)."""
    return getattr(im, "n_frames", 1) if im.format == "TIFF" else 1


def read_pages(path: Path, im: Image.Image, first_only: bool = False) -> list[np.ndarray]:
    """Decode every page (or only the first) of an opened image, source orientation."""
    if is_16bit_colour(path, im):
        return _cv2_pages(path, first_only)
    n = 1 if first_only else page_count(im)
    pages = []
    for i in range(n):
        if i:
            im.seek(i)
        pages.append(frame_to_array(im, path))
    return pages


def orient_array(arr: np.ndarray, orientation: int) -> np.ndarray:
    step = _ORIENT.get(orientation)
    return np.ascontiguousarray(step(arr)) if step else arr


def layout(arr: np.ndarray) -> tuple[str, int, int]:
    """(mode name, bit depth, channels) of a canonical array."""
    bits = 16 if arr.dtype == np.uint16 else 8
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    mode = (
        ("L" if channels == 1 else "RGB") if bits == 8 else ("I;16" if channels == 1 else "RGB;16")
    )
    return mode, bits, channels


def encode_canonical(arr: np.ndarray, reproducible: bool = False) -> tuple[str, bytes]:
    """Lossless encoding: ('.png', data) for 8 bit, ('.tif', data) for 16 bit.
    `reproducible`: the same pixels always give the same bytes (`pngwrite`)."""
    if arr.dtype == np.uint8:
        # up-filtered PNG deflated by ISA-L: the codec choice is measured in the README
        return ".png", pngwrite.encode_png(arr, reproducible)
    bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR) if arr.ndim == 3 else arr
    ok, buf = cv2.imencode(".tif", bgr)
    if not ok:
        raise ImageError(f"cannot encode a {arr.shape} {arr.dtype} canonical image")
    return ".tif", buf.tobytes()


def write_file(dest: Path, data: bytes | list[bytes], tmp_dir: Path | None = None) -> None:
    """Write via a temp name and rename, so a killed run never leaves half a file.
    `data` may be a list of pieces, written in order. The temp file goes to `tmp_dir`
    (same file system) when given, else beside `dest`."""
    name = f"{dest.name}.{os.getpid()}.tmp"
    tmp = tmp_dir / name if tmp_dir is not None else dest.with_name(f".{name}")
    try:
        with open(tmp, "wb") as fh:  # a piece larger than the buffer is written directly
            for piece in [data] if isinstance(data, bytes) else data:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
