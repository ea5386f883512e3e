"""Whole-image COCO RLE from a mask's region, and pasting a region into an image: what
exports and the mask editor need at catalog-image size, without decoding full images."""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as cocomask


def paste(out: np.ndarray, region: np.ndarray, x: int, y: int) -> None:
    """Copy `region` into `out` at (x, y), cutting what falls outside (in place)."""
    h, w = out.shape[:2]
    rx0, ry0 = max(0, -x), max(0, -y)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + region.shape[1]), min(h, y + region.shape[0])
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = region[ry0 : ry0 + y1 - y0, rx0 : rx0 + x1 - x0]


def whole_image_rle(
    region: np.ndarray, left: int, top: int, width: int, height: int
) -> dict[str, Any]:
    """COCO RLE of the whole image from a region, without building the image (an export
    of 100k masks must not allocate 100k full images): each region column, padded with
    a zero above and below, gives its runs' starts and ends by one diff, and a column's
    offset in the image turns them into whole-image positions."""
    region = np.asarray(region, bool)
    h, w = region.shape
    if left < 0 or top < 0 or left + w > width or top + h > height:
        cut = np.zeros((height, width), bool)
        paste(cut, region, left, top)
        result: dict[str, Any] = cocomask.encode(np.asfortranarray(cut, dtype=np.uint8))
        return result
    padded = np.zeros((w, h + 2), np.int8)
    padded[:, 1:-1] = region.T
    edges = np.flatnonzero(np.diff(padded.ravel())) + 1  # starts, ends alternate
    col, row = np.divmod(edges, h + 2)
    pos = (col + left).astype(np.int64) * height + top + row - 1
    starts, ends = pos[0::2], pos[1::2]
    # A run ending at a column's foot and one starting at the next column's head join.
    keep = np.ones(len(starts), bool)
    joined = ends[:-1] == starts[1:]
    keep[1:] &= ~joined
    ends = ends[np.append(~joined, True)]
    starts = starts[keep]
    bounds = np.empty(2 * len(starts) + 2, np.int64)
    bounds[0], bounds[-1] = 0, height * width
    bounds[1:-1:2], bounds[2:-1:2] = starts, ends
    counts = np.diff(bounds).tolist()
    rle: dict[str, Any] = cocomask.frPyObjects(
        {"size": [height, width], "counts": counts}, height, width
    )
    return rle
