"""Image files of an export: copied byte for byte, hard-linked, or re-encoded as the
canonical pixels (EXIF orientation applied; 16-bit windowed to 8 bits on request).
Module-level functions, so process pools and Dask can run them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.model import ImageRecord
from ..errors import FormatError, QclabelError

# Files the consumers decode directly; anything else is re-encoded losslessly as PNG.
PASSTHROUGH = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
# keep: images at their own bit depth; 8bit: 16-bit images windowed to 8 bits (the
# image's window/level, as the annotator first sees it) and written as PNG.
PIXEL_MODES = ("keep", "8bit")


def needs_reencode(record: ImageRecord, pixels: str = "keep") -> bool:
    """EXIF-rotated sources are written as their canonical pixels, since every width and
    height we write is canonical, and so are high-bit images windowed to 8 bits; other
    files are copied byte for byte."""
    return (
        record.orientation != 1
        or Path(record.file).suffix.lower() not in PASSTHROUGH
        or (pixels == "8bit" and record.bit_depth > 8)
    )


def is_derived(record: ImageRecord) -> bool:
    """Ingest wrote the canonical pixels to a file of its own (crop, stitch, 16-bit
    colour...): `sha256` is then the source's, not this file's."""
    return (
        Path(record.file).name != Path(record.source).name and not Path(record.file).is_absolute()
    )


def place_image(
    record_dict: dict[str, Any], root: str, dest: str, link: str, pixels: str = "keep"
) -> None:
    """One image into the export (a module-level function, so process pools and Dask
    can run it)."""
    record = ImageRecord.from_dict(record_dict)
    out = Path(dest)
    out.parent.mkdir(parents=True, exist_ok=True)
    if needs_reencode(record, pixels):
        out.write_bytes(canonical_png(record, Path(root), pixels))
        return
    data = read_source(record, Path(root))  # verifies the hash either way
    if link == "hardlink":
        try:
            os.link(_source(record, Path(root)), out)
            return
        except OSError:
            pass  # another filesystem: fall back to a copy
    out.write_bytes(data)


def _source(record: ImageRecord, root: Path) -> Path:
    p = Path(record.file)
    return p if p.is_absolute() else root / p


def read_source(record: ImageRecord, root: Path) -> bytes:
    path = _source(record, root)
    try:
        data = path.read_bytes()
    except OSError as exc:
        hint = (
            ("; if the images moved, `qclabel images relink DIR OLD NEW` re-points the catalog")
            if isinstance(exc, FileNotFoundError)
            else ""
        )
        raise FormatError(
            f"{path}: cannot read image {record.id}: {exc.strerror or exc}{hint}"
        ) from exc
    if not is_derived(record) and hashlib.sha256(data).hexdigest() != record.sha256:
        raise FormatError(
            f"{path}: sha256 differs from the catalog ({record.sha256[:12]}"
            "...): the image changed after it was labeled"
        )
    return data


def canonical_png(record: ImageRecord, root: Path, pixels: str = "keep") -> bytes:
    """Canonical pixels (EXIF orientation applied) as PNG at full bit depth, or for
    `pixels="8bit"` windowed to 8 bits with the image's window (the profile's, else
    the automatic one the labeling screen starts with)."""
    import cv2
    from ..ingest import load_canonical_array

    try:
        arr = load_canonical_array(record, root)
    except QclabelError as exc:
        raise FormatError(f"cannot export image {record.id}: {exc}") from exc
    if pixels == "8bit" and arr.dtype != np.uint8:
        from ..render.decode import apply_window, auto_window

        arr = apply_window(arr, *(record.window or auto_window(arr)))
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", arr)
    if not ok:
        raise FormatError(f"{record.file}: cannot encode image {record.id} as PNG")
    return buf.tobytes()
