"""Read one image file into a catalog record (metadata only; pixels stay on disk)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, ImageOps

from ..core.model import ImageRecord
from ..errors import ImageError

SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90 degrees
_BITS = {"1": 1, "L": 8, "P": 8, "RGB": 8, "RGBA": 8, "CMYK": 8, "I;16": 16, "I;16B": 16,
         "I;16L": 16, "I": 32, "F": 32, "LA": 8, "YCbCr": 8}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_record(path: Path, profile: str = "default", max_pixels: int = 250_000_000) -> ImageRecord:
    """Catalog record for a file; canonical width/height are after EXIF orientation."""
    path = Path(path)
    digest = file_sha256(path)
    try:
        with Image.open(path) as im:
            if im.width * im.height > max_pixels:
                raise ImageError(f"{path}: {im.width}x{im.height} exceeds the pixel limit "
                                 f"{max_pixels} (limits.max_pixels)")
            im.load()
            orientation = im.getexif().get(0x0112, 1) or 1
            w, h = (im.height, im.width) if orientation in SWAPS_AXES else im.size
            mode, fmt = im.mode, im.format or ""
            bands = len(im.getbands())
    except ImageError:
        raise
    except Exception as exc:  # Pillow raises many types for bad files
        raise ImageError(f"{path}: cannot read image: {exc}") from exc
    return ImageRecord(
        id=digest[:16], sha256=digest, source=str(path.resolve()), file=str(path.resolve()),
        width=w, height=h, bit_depth=_BITS.get(mode, 8), channels=bands, mode=mode,
        format=fmt, orientation=int(orientation), profile=profile,
        added=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def load_canonical(record: ImageRecord) -> Image.Image:
    """The canonical image at full resolution (EXIF orientation applied)."""
    im = Image.open(record.file)
    return ImageOps.exif_transpose(im) if record.orientation != 1 else im
