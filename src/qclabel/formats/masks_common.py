"""What every mask writer and reader shares: the masks of an export image, RLE checks.

`export_masks` gives an image's masks clipped to the canonical image with their class
checked against the taxonomy (as `Dataset.boxes` does for boxes). `check_rle` refuses an
RLE whose runs do not add up to its size before pycocotools decodes it: pycocotools
writes past its buffer on such input, and other tools' exports have shipped them.
"""

from __future__ import annotations

import math
from typing import Any

from ..core.mask import Mask, MaskError, polygon_bounds
from ..errors import FormatError
from .dataset import Dataset, ExportImage

# The default `limits.max_pixels` of a catalog image: a mask larger than any image is
# an attack on the decoder's memory, not a label.
MAX_MASK_PIXELS = 250_000_000


def export_masks(ds: Dataset, image: ExportImage) -> list[Mask]:
    w, h = image.record.width, image.record.height
    out = []
    for m in image.annotation.masks:
        ds.class_id(m.cls, image)
        clipped = m.clipped(w, h)
        if clipped is not None:
            out.append(clipped)
    return out


def rle_counts(counts: str) -> list[int]:
    """The run lengths of a compressed COCO RLE string (pycocotools' rleFrString)."""
    out: list[int] = []
    p = 0
    while p < len(counts):
        x = k = 0
        more = True
        while more:
            if p >= len(counts):
                raise ValueError("counts string ends inside a number")
            c = ord(counts[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"character {counts[p]!r} is not RLE")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(out) > 2:
            x += out[-2]
        out.append(x)
    return out


def check_rle(rle: Any, size: tuple[int, int] | None, where: str) -> dict[str, Any]:
    """A COCO RLE dict, checked: `size` [h, w] equal to the image's (width, height),
    runs non-negative and adding up to h * w. Returns it with str counts as bytes."""
    if (
        not isinstance(rle, dict)
        or not isinstance(rle.get("size"), list)
        or len(rle["size"]) != 2
        or not all(isinstance(v, int) for v in rle["size"])
    ):
        raise FormatError(
            f"{where}: segmentation = {str(rle)[:60]!r}: expected polygons or "
            "an RLE {size: [h, w], counts}"
        )
    h, w = rle["size"]
    if h <= 0 or w <= 0 or h * w > MAX_MASK_PIXELS:
        raise FormatError(
            f"{where}: RLE size [{h}, {w}]: expected a positive size of at "
            f"most {MAX_MASK_PIXELS} pixels"
        )
    if size is not None and (w, h) != tuple(size):
        raise FormatError(
            f"{where}: RLE size [{h}, {w}] disagrees with the {size[0]}x{size[1]} image"
        )
    counts = rle.get("counts")
    try:
        runs = counts if isinstance(counts, list) else rle_counts(str(counts))
        ok = all(isinstance(v, int) and v >= 0 for v in runs) and sum(runs) == h * w
    except ValueError as exc:
        raise FormatError(f"{where}: RLE counts cannot be read: {exc}") from None
    if not ok:
        raise FormatError(
            f"{where}: RLE runs add up to {sum(map(int, runs))} pixels, not "
            f"the {h}x{w} = {h * w} of its size (or a run is negative)"
        )
    if isinstance(counts, list):
        return {"size": [h, w], "counts": counts}
    return {"size": [h, w], "counts": str(counts).encode("ascii")}


def mask_from_rle(cls: str, rle: Any, size: tuple[int, int] | None, where: str) -> Mask:
    try:
        return Mask.from_rle(cls, check_rle(rle, size, where))
    except MaskError as exc:
        raise FormatError(f"{where}: {exc}") from None


def mask_from_polygons(cls: str, polygons: Any, where: str) -> Mask:
    ok = (
        isinstance(polygons, list)
        and polygons
        and all(
            isinstance(p, list)
            and len(p) >= 6
            and len(p) % 2 == 0
            and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in p
            )
            for p in polygons
        )
    )
    if not ok:
        raise FormatError(
            f"{where}: segmentation polygons need at least 3 points each "
            "as [x1, y1, x2, y2, ...] finite numbers"
        )
    x0, y0, x1, y1 = polygon_bounds(polygons)
    if (x1 - x0) * (y1 - y0) > MAX_MASK_PIXELS:
        raise FormatError(
            f"{where}: polygon spans {x1 - x0}x{y1 - y0} pixels, more than "
            f"the {MAX_MASK_PIXELS} any image may have"
        )
    try:
        return Mask.from_polygons(cls, polygons)
    except MaskError as exc:
        raise FormatError(f"{where}: {exc}") from None
