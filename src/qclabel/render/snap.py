"""Tighten a rough box onto the defect it surrounds (edge snapping).

Keyboard boxes start coarse (one display cell is several image pixels at a full
view). Snapping takes the rough box plus a margin, finds the pixels that differ from
the local background (Otsu threshold on the difference to the border median), and
returns the bounding box of the connected regions the rough box touches. The
annotator sees the result and can still move any edge by one pixel.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from ..core.model import Box

MIN_REGION_PX = 4  # smaller regions are sensor noise, not defects
NOISE_SIGMAS = 5.0  # a defect differs from the background by more than this many sigma
MIN_CONTRAST = 8  # grey levels, for perfectly flat synthetic backgrounds


def _foreground(roi: np.ndarray) -> np.ndarray | None:
    """Pixels that differ from the window's background (its border), as a 0/255 mask,
    or None when nothing does. The threshold is Otsu's, but never below the
    background's own noise (robust sigma of the border): on a textured surface
    with no defect Otsu alone would split the texture."""
    roi16 = roi.astype(np.int16)
    border = np.concatenate([roi16[0], roi16[-1], roi16[:, 0], roi16[:, -1]])
    centre = float(np.median(border))
    sigma = 1.4826 * float(np.median(np.abs(border - centre)))
    diff = np.clip(np.abs(roi16 - centre), 0, 255).astype(np.uint8)
    floor = max(MIN_CONTRAST, NOISE_SIGMAS * sigma)
    if float(diff.max()) <= floor:
        return None
    otsu, _ = cv2.threshold(diff, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    _, mask = cv2.threshold(diff, max(otsu, floor), 255, cv2.THRESH_BINARY)
    return mask


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
    roi = grey[y1:y2, x1:x2]
    if roi.size < 9:
        return None
    mask = _foreground(roi)
    if mask is None:  # nothing stands out from the background noise
        return None
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    inner = labels[int(box.y) - y1 : int(box.y2) - y1, int(box.x) - x1 : int(box.x2) - x1]
    touched = {int(v) for v in np.unique(inner) if v != 0}
    rects = [stats[i] for i in touched if stats[i][cv2.CC_STAT_AREA] >= MIN_REGION_PX]
    if not rects:
        return None
    left = min(int(r[0]) for r in rects)
    top = min(int(r[1]) for r in rects)
    right = max(int(r[0] + r[2]) for r in rects)
    bottom = max(int(r[1] + r[3]) for r in rects)
    return replace(box, x=x1 + left, y=y1 + top, w=right - left, h=bottom - top)


def snap_at(
    grey: np.ndarray,
    x: int,
    y: int,
    cls: str,
    severity: str | None = None,
    radius: int = 24,
    max_radius: int | None = None,
) -> Box | None:
    """Box the defect at (or within `radius` of) pixel x, y: the region that differs
    from the local background, in a window that grows until the region fits inside it
    (a flat window also grows: the cursor may sit inside a large uniform defect)."""
    h, w = grey.shape[:2]
    reach, limit = radius, max_radius or radius * 16
    while True:
        x1, y1 = max(0, x - radius), max(0, y - radius)
        x2, y2 = min(w, x + radius + 1), min(h, y + radius + 1)
        found = _region_near(grey[y1:y2, x1:x2], x - x1, y - y1, reach)
        if found == "flat":
            if radius >= limit:
                return None
            radius *= 2
            continue
        if found is None:
            return None
        left, top, right, bottom = found
        clipped = (
            (left == 0 and x1 > 0)
            or (top == 0 and y1 > 0)
            or (right == x2 - x1 and x2 < w)
            or (bottom == y2 - y1 and y2 < h)
        )
        if not clipped or radius >= limit:
            return Box(cls, x1 + left, y1 + top, right - left, bottom - top, severity)
        radius *= 2


def _region_near(roi: np.ndarray, cx: int, cy: int, reach: int) -> Any:
    """Bounds (left, top, right, bottom; right/bottom exclusive) of the foreground
    region under the point, else of the nearest one within `reach` pixels; "flat"
    when nothing in the window stands out."""
    mask = _foreground(roi)
    if mask is None:
        return "flat"
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    label = int(labels[cy, cx])
    if label == 0:
        ys, xs = np.nonzero(labels)
        d2 = (xs - cx) ** 2 + (ys - cy) ** 2
        if xs.size == 0 or int(d2.min()) > reach * reach:
            return None
        k = int(np.argmin(d2))
        label = int(labels[ys[k], xs[k]])
    if stats[label][cv2.CC_STAT_AREA] < MIN_REGION_PX:
        return None
    left, top, bw, bh = (int(v) for v in stats[label][:4])
    return left, top, left + bw, top + bh
