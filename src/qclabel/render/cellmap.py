"""Canonical-image pixels <-> terminal cells for the box and keypoint tools.

A view shows the canonical-image rectangle starting at (x0, y0) on a grid of
`cols` x `rows` cells; one cell spans `sx` image pixels across and `sy` down
(`sy = sx * cell_aspect`: a terminal cell is about twice as tall as wide). Zoom
level k halves `sx` k times, so from some level on one image pixel spans several
cells. Labels are never derived from cells: the cursor lives in integer image
pixels and cells only say where to draw it, which is what keeps boxes exact at
every zoom level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

MAX_ZOOM = 6  # 2**6: one pixel spans up to ~16 cells across at a 1200 px fit


@dataclass(frozen=True)
class CellMap:
    width: int          # canonical image size
    height: int
    cols: int           # cell grid of the image area
    rows: int
    sx: float           # image pixels per cell, across and down
    sy: float
    x0: float = 0.0     # canonical pixel at the grid's top-left corner
    y0: float = 0.0
    level: int = 0

    @property
    def view_w(self) -> float:
        return self.cols * self.sx

    @property
    def view_h(self) -> float:
        return self.rows * self.sy

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """The cell showing the centre of pixel x, y (may lie off-grid). Using the
        centre makes cell_of and pixel_of inverse once a pixel spans whole cells."""
        return (math.floor((x + 0.5 - self.x0) / self.sx),
                math.floor((y + 0.5 - self.y0) / self.sy))

    def visible(self, col: int, row: int) -> bool:
        return 0 <= col < self.cols and 0 <= row < self.rows

    def pixel_of(self, col: int, row: int) -> tuple[int, int]:
        """The image pixel under the centre of a cell (what a click or jump picks)."""
        return (math.floor(self.x0 + (col + 0.5) * self.sx),
                math.floor(self.y0 + (row + 0.5) * self.sy))

    def step(self) -> tuple[int, int]:
        """Pixels moved by one display cell (at least one pixel)."""
        return max(1, round(self.sx)), max(1, round(self.sy))

    def follow(self, x: int, y: int) -> "CellMap":
        """Pan so pixel x, y is on screen (keeps the view when it already is)."""
        x0, y0 = self.x0, self.y0
        if not x0 <= x < x0 + self.view_w - self.sx:
            x0 = x - self.view_w / 2
        if not y0 <= y < y0 + self.view_h - self.sy:
            y0 = y - self.view_h / 2
        return replace(self, x0=_clamp_origin(x0, self.view_w, self.width),
                       y0=_clamp_origin(y0, self.view_h, self.height))

    def pan(self, dcols: int, drows: int) -> "CellMap":
        return replace(self, x0=_clamp_origin(self.x0 + dcols * self.sx, self.view_w, self.width),
                       y0=_clamp_origin(self.y0 + drows * self.sy, self.view_h, self.height))


def _clamp_origin(origin: float, view: float, size: int) -> float:
    if view >= size:
        return 0.0
    return min(max(origin, 0.0), size - view)


def fit(width: int, height: int, cols: int, rows: int, cell_aspect: float = 2.0) -> CellMap:
    """Zoom level 0: the whole image in the grid, aspect kept."""
    sx = max(width / cols, height / (rows * cell_aspect))
    return CellMap(width, height, cols, rows, sx, sx * cell_aspect)


def zoomed(base: CellMap, level: int, centre: tuple[int, int]) -> CellMap:
    """Zoom level `level` (0 = fit) centred on an image pixel."""
    level = max(0, min(MAX_ZOOM, level))
    f = 2.0 ** level
    fit_map = fit(base.width, base.height, base.cols, base.rows, base.sy / base.sx)
    m = replace(fit_map, sx=fit_map.sx / f, sy=fit_map.sy / f, level=level)
    x0 = centre[0] + 0.5 - m.view_w / 2
    y0 = centre[1] + 0.5 - m.view_h / 2
    return replace(m, x0=_clamp_origin(x0, m.view_w, m.width),
                   y0=_clamp_origin(y0, m.view_h, m.height))


def view_frame(image: np.ndarray, cmap: CellMap, out_w: int, out_h: int) -> np.ndarray:
    """The display frame of a view: a crop of the full-resolution image scaled to
    out_w x out_h pixels. Magnified pixels are copied (nearest) so pixel edges stay
    sharp and can be counted; reduced views are area-averaged."""
    h, w = image.shape[:2]
    fx, fy = out_w / cmap.view_w, out_h / cmap.view_h
    if fx >= 1 and fy >= 1:
        # Sample each output pixel's centre: exact, so the n-th block is pixel x0 + n.
        xs = np.floor(cmap.x0 + (np.arange(out_w) + 0.5) / fx).astype(np.int64)
        ys = np.floor(cmap.y0 + (np.arange(out_h) + 0.5) / fy).astype(np.int64)
        out = image[np.clip(ys, 0, h - 1)][:, np.clip(xs, 0, w - 1)]
        out[(ys >= h) | (ys < 0)] = 0
        out[:, (xs >= w) | (xs < 0)] = 0
        return out
    x1, y1 = int(cmap.x0), int(cmap.y0)
    x2 = min(w, math.ceil(cmap.x0 + cmap.view_w))
    y2 = min(h, math.ceil(cmap.y0 + cmap.view_h))
    crop = image[y1:y2, x1:x2]
    cw = max(1, round((x2 - x1) * fx))
    ch = max(1, round((y2 - y1) * fy))
    small = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_AREA)
    out = np.zeros((out_h, out_w) + image.shape[2:], dtype=image.dtype)
    out[:min(ch, out_h), :min(cw, out_w)] = small[:out_h, :out_w]
    return out
