"""Tighten a rough box onto the defect it surrounds (edge snapping).

Keyboard boxes start coarse (one display cell is several image pixels at a full
view). Snapping takes the rough box plus a margin, finds the pixels that differ from
the local background (Otsu threshold on the difference to the border median), and
returns the bounding box of the connected regions the rough box touches. The
annotator sees the result and can still move any edge by one pixel.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from ..core.model import Box

MIN_REGION_PX = 2  # ignore single-pixel noise


def to_grey(image: np.ndarray) -> np.ndarray:
    """8-bit single channel; 16-bit data is scaled by its own range."""
    if image.ndim == 3:
        image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
    if image.dtype != np.uint8:
        lo, hi = float(image.min()), float(image.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        image = ((image.astype(np.float32) - lo) * scale).astype(np.uint8)
    return image


def snap_box(grey: np.ndarray, box: Box, margin: int | None = None) -> Box | None:
    """The tight box of the defect under `box`, or None when nothing stands out."""
    h, w = grey.shape[:2]
    margin = margin if margin is not None else max(2, round(max(box.w, box.h) * 0.25))
    x1, y1 = max(0, int(box.x) - margin), max(0, int(box.y) - margin)
    x2, y2 = min(w, int(box.x2) + margin), min(h, int(box.y2) + margin)
    roi = grey[y1:y2, x1:x2].astype(np.int16)
    if roi.size < 9:
        return None
    border = np.concatenate([roi[0], roi[-1], roi[:, 0], roi[:, -1]])
    diff = np.abs(roi - int(np.median(border))).astype(np.uint8)
    if int(diff.max()) < 8:  # flat: no edge to snap to
        return None
    _, mask = cv2.threshold(diff, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    inner = labels[int(box.y) - y1:int(box.y2) - y1, int(box.x) - x1:int(box.x2) - x1]
    touched = {int(v) for v in np.unique(inner) if v != 0}
    rects = [stats[i] for i in touched if stats[i][cv2.CC_STAT_AREA] >= MIN_REGION_PX]
    if not rects:
        return None
    left = min(int(r[0]) for r in rects)
    top = min(int(r[1]) for r in rects)
    right = max(int(r[0] + r[2]) for r in rects)
    bottom = max(int(r[1] + r[3]) for r in rects)
    return replace(box, x=x1 + left, y=y1 + top, w=right - left, h=bottom - top)
