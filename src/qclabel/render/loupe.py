"""The loupe: the full-resolution pixels around the cursor, one terminal cell pair per
image pixel, so a box edge can be put on the right pixel even when the main view
shows ten pixels per cell.

Pure numpy; the widget turns the result into coloured cells (text layer, no image
protocol, so a cursor move re-sends only the loupe's cells).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.model import Box, ImageRecord
from .decode import apply_window, auto_window, decode_region
from .viewport import Viewport

RADIUS = 6  # 13 x 13 pixels: 26 columns x 13 rows


@dataclass(frozen=True)
class LoupeView:
    """(2r+1)^2 RGB pixels centred on the cursor, and which of them are box edges."""

    x: int
    y: int
    radius: int
    rgb: np.ndarray  # (2r+1, 2r+1, 3) uint8; outside the image = black
    inside: np.ndarray  # bool mask: pixel exists in the image
    edges: np.ndarray  # bool mask: pixel lies on an edge of a given box

    def pixel(self, dx: int, dy: int) -> tuple[int, ...]:
        r = self.radius
        return tuple(int(v) for v in self.rgb[r + dy, r + dx])


def to_rgb8(pixels: np.ndarray, window: tuple[float, float] | None = None) -> np.ndarray:
    """Full-resolution pixels as 8-bit RGB (16-bit data windowed like the main view)."""
    if pixels.dtype != np.uint8:
        pixels = apply_window(pixels, *(window or auto_window(pixels)))
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return pixels[:, :, :3]


def loupe(
    rgb: np.ndarray, x: int, y: int, radius: int = RADIUS, boxes: tuple[Box, ...] = ()
) -> LoupeView:
    h, w = rgb.shape[:2]
    n = 2 * radius + 1
    out = np.zeros((n, n, 3), np.uint8)
    xs, ys = np.arange(x - radius, x + radius + 1), np.arange(y - radius, y + radius + 1)
    inx, iny = (xs >= 0) & (xs < w), (ys >= 0) & (ys < h)
    inside = iny[:, None] & inx[None, :]
    sub = rgb[np.clip(ys, 0, h - 1)][:, np.clip(xs, 0, w - 1)]
    out[inside] = sub[inside]
    edges = np.zeros((n, n), bool)
    for b in boxes:
        edges |= _edge_mask(b, xs, ys)
    return LoupeView(x, y, radius, out, inside, edges)


def _edge_mask(b: Box, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pixels on the box's outermost rows and columns (the pixels the box includes)."""
    left, top, right, bottom = round(b.x), round(b.y), round(b.x2) - 1, round(b.y2) - 1
    in_x = (xs >= left) & (xs <= right)
    in_y = (ys >= top) & (ys <= bottom)
    on_x = (xs == left) | (xs == right)
    on_y = (ys == top) | (ys == bottom)
    ring: np.ndarray = (in_y[:, None] & on_x[None, :] & in_x[None, :]) | (
        on_y[:, None] & in_x[None, :]
    )
    return ring


def full_pixels(record: ImageRecord, root: Path | None) -> np.ndarray:
    """The canonical image at full resolution as 8-bit RGB (loupe and edge snapping)."""
    w, h = record.width, record.height
    src = decode_region(record, root, Viewport(w, h, w, h, 1, 1))
    return to_rgb8(src.array, record.window)
