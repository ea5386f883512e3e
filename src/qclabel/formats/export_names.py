"""The file name each image gets in an export: its source file's name, made unique
within its split, with a .png extension when the pixels are re-encoded."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

from ..core.model import ImageRecord
from .image_files import PASSTHROUGH

if TYPE_CHECKING:
    from .dataset import ExportImage


def _renamed(images: list[ExportImage], every: list[ExportImage], pixels: str) -> list[ExportImage]:
    """`images` named as `_build_images` would name them for `pixels`: names are
    given over `every` labeled image of the dataset in order (left-out images too),
    so a name never depends on what was left out."""
    by_id = {i.record.id: i for i in images}
    used: dict[str, set[str]] = {}
    out: list[ExportImage] = []
    for every_image in every:
        rec = every_image.record
        name = _unique_name(rec, used.setdefault(every_image.split, set()), pixels)
        image = by_id.get(rec.id)
        if image is not None:
            out.append(image if image.name == name else replace(image, name=name))
    return out


def _unique_name(rec: ImageRecord, used: set[str], pixels: str = "keep") -> str:
    """The source file name; a stem already used in the split gets the image id added
    (consumers pair images and labels by stem), and never a stem used already: two
    images of one name would share one label file."""
    stem = os.path.splitext(os.path.basename(rec.source))[0] or rec.id
    if not stem.isascii():
        # bytes of a name that is not UTF-8 (lone surrogates) spelled out as the
        # catalog's index spells them (`\udcff`): JSON, XML and CSV need text
        stem = stem.encode("utf-8", "backslashreplace").decode()
    ext = os.path.splitext(rec.file)[1]
    # needs_reencode, without building a Path per image
    if (
        rec.orientation != 1
        or ext.lower() not in PASSTHROUGH
        or (pixels == "8bit" and rec.bit_depth > 8)
    ):
        ext = ".png"
    if stem in used:
        base, n = stem, 1
        stem = f"{base}_{rec.id[:8]}"
        while stem in used:  # taken too: a source file named so, or ids alike in 8 digits
            stem = f"{base}_{rec.id}" + (f"_{n}" if n > 1 else "")
            n += 1
    used.add(stem)
    return stem + ext
