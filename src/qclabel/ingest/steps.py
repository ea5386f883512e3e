"""The steps every unit of ingest work shares: decode one source file (with its
metadata), the profile steps after orientation or combination, the canonical file, and
the catalog record."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..core.model import ImageRecord
from ..errors import ImageError
from . import ops, pixels, pngread
from .metadata import read_dpi, read_exif
from .profiles import Profile

TEMP_DIR = ".ingest-tmp"  # the canonical files' temp names, under the project root


def decode(
    path: str, max_pixels: int, first_only: bool, orient: bool, lazy: bool = False
) -> tuple[list[np.ndarray], dict[Any, Any]]:
    """(pages, metadata). With `lazy`, a single-page 8-bit grey/RGB file is only
    decoded to prove it is whole (it will be its own canonical file) and its page is
    a zero-memory placeholder with the oriented shape: copying 5 MP into numpy would
    cost as much again as the decode. A plain 8-bit PNG is read through `pngread`."""
    packed = pngread.repacked(Path(path), max_pixels)
    pixels_only = packed is not None and packed.pixels_only
    with pixels.open_image(Path(path), max_pixels, packed) as im:
        try:  # EXIF of a PNG sits after the pixels: reading it can hit the damage too
            meta: dict[str, Any] = {
                # no chunk EXIF or XMP could come from: Pillow's EXIF is empty
                "exif": {"orientation": 1} if pixels_only else read_exif(im),
                "dpi": read_dpi(im),
                "format": im.format,
                "source_mode": im.mode,
                "lazy": False,
            }
            meta["orientation"] = meta["exif"]["orientation"] if orient else 1
            if pixels.is_16bit_colour(Path(path), im):
                meta["source_mode"] = "RGB;16"
            if lazy and meta["source_mode"] in ("L", "RGB") and pixels.page_count(im) == 1:
                if not pixels_only:  # else pngread's inflate and checks proved it whole
                    im.load()
                meta["lazy"] = True
                return [_placeholder(im, meta["orientation"])], meta
            page = packed.decode(_shape(im)) if packed is not None and pixels_only else None
            pages = [page] if page is not None else pixels.read_pages(Path(path), im, first_only)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError(f"{path}: truncated or corrupt image data: {exc}") from None
    return [pixels.orient_array(p, meta["orientation"]) for p in pages], meta


def _shape(im: Image.Image) -> tuple[int, ...]:
    w, h = im.size
    return (h, w) if im.mode == "L" else (h, w, 3)


def _placeholder(im: Image.Image, orientation: int) -> np.ndarray:
    shape = _shape(im)
    if orientation in pixels.SWAPS_AXES:
        shape = (shape[1], shape[0], *shape[2:])
    return np.broadcast_to(np.uint8(0), shape)


def finish(
    arr: np.ndarray, profile: Profile, fields: dict[Any, Any], name: str
) -> tuple[np.ndarray, float]:
    """Profile steps after orientation/combination, in their documented order."""
    rect = profile.get("roi_by_station", {}).get(fields.get("station", "")) or profile.get("roi")
    if rect:
        arr = ops.crop(arr, rect, name)
    if profile.get("colour") == "grey-world":
        arr = ops.grey_world(arr)
    if profile.get("normalize"):
        arr = ops.normalize(arr, profile.get("normalize"))
    scale = 1.0
    if profile.get("max_size"):
        arr, scale = ops.fit_max_size(arr, profile.get("max_size"))
    return arr, scale


def make_record(
    task: dict[Any, Any],
    arr: np.ndarray,
    meta: dict[Any, Any],
    *,
    image_id: str,
    digest: str,
    file: str,
    orientation: int,
    scale: float,
    fields: dict[Any, Any],
    page: int,
) -> ImageRecord:
    profile: Profile = task["profile"]
    mode, bits, channels = pixels.layout(arr)
    mm = profile.get("mm_per_px")
    return ImageRecord(
        id=image_id,
        sha256=digest,
        source=task["paths"][0],
        file=file,
        width=int(arr.shape[1]),
        height=int(arr.shape[0]),
        bit_depth=bits,
        channels=channels,
        mode=mode,
        format=meta["format"] or "",
        orientation=orientation,
        profile=profile.name,
        profile_hash=profile.hash,
        mm_per_px=round(mm / scale, 9) if mm else None,
        window=ops.display_window(arr, profile.get("window")),
        fields=fields,
        exif=meta["exif"],
        dpi=meta["dpi"],
        source_mode=meta["source_mode"],
        sources=list(task["paths"]) if len(task["paths"]) > 1 else [],
        page=page,
        added=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def store_path(task: dict[Any, Any], path: str) -> str:
    """Relative to the project root when the file lies inside it."""
    root = os.path.abspath(task["root"])
    absolute = os.path.abspath(path)
    return os.path.relpath(absolute, root) if absolute.startswith(root + os.sep) else absolute


def write_canonical(
    task: dict[Any, Any], image_id: str, arr: np.ndarray, written: list[Path]
) -> str:
    ext, data = pixels.encode_canonical(arr)
    dest = Path(task["root"]) / "canonical" / f"{image_id}{ext}"
    dest.parent.mkdir(exist_ok=True)
    pixels.write_file(dest, data, Path(task["root"]) / TEMP_DIR)
    written.append(dest)
    return f"canonical/{image_id}{ext}"
