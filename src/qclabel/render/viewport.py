"""Viewport: which canonical-image pixels are shown in which terminal cells.

A viewport is a rectangle of the canonical image (the source region, integer pixels)
fitted into a grid of terminal cells, aspect ratio kept, centred. The frame is the
source region resized to exactly `frame_size` display pixels, so the mapping between a
cell and the canonical pixels under it is exact in both directions; overlays (box
corners, keypoints, the cursor) use it to land on the right pixel.

Zoom and pan change only the source region: the renderer crops the full-resolution
image, so a zoomed view costs the same to send as a fitted one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

MIN_REGION = 8  # canonical px: zooming further shows nothing useful


@dataclass(frozen=True)
class Viewport:
    image_w: int
    image_h: int
    cols: int
    rows: int
    cell_w: int = 1
    cell_h: int = 2
    x: int = 0
    y: int = 0
    w: int = 0  # 0 = whole image
    h: int = 0

    def __post_init__(self) -> None:
        if self.image_w <= 0 or self.image_h <= 0:
            raise ValueError(f"image size must be positive, not {self.image_w}x{self.image_h}")
        if self.w <= 0 or self.h <= 0:
            object.__setattr__(self, "w", self.image_w - self.x)
            object.__setattr__(self, "h", self.image_h - self.y)
        object.__setattr__(self, "cols", max(1, self.cols))
        object.__setattr__(self, "rows", max(1, self.rows))

    @classmethod
    def fit(
        cls, image_w: int, image_h: int, cols: int, rows: int, cell_w: int = 1, cell_h: int = 2
    ) -> "Viewport":
        return cls(image_w, image_h, cols, rows, cell_w, cell_h)

    # -- geometry of the frame -------------------------------------------------------
    @property
    def region(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)

    @property
    def frame_size(self) -> tuple[int, int]:
        """Display pixels of the frame: the region scaled to fit the cell area."""
        avail_w, avail_h = self.cols * self.cell_w, self.rows * self.cell_h
        s = min(avail_w / self.w, avail_h / self.h)
        return (
            max(1, min(avail_w, math.floor(self.w * s + 1e-9))),
            max(1, min(avail_h, math.floor(self.h * s + 1e-9))),
        )

    @property
    def frame_cells(self) -> tuple[int, int]:
        fw, fh = self.frame_size
        return (math.ceil(fw / self.cell_w), math.ceil(fh / self.cell_h))

    @property
    def offset(self) -> tuple[int, int]:
        """Cell (col, row) of the frame's top-left corner inside the cell area (centred)."""
        fc, fr = self.frame_cells
        return ((self.cols - fc) // 2, (self.rows - fr) // 2)

    @property
    def scale(self) -> tuple[float, float]:
        """Display pixels per canonical pixel, horizontally and vertically."""
        fw, fh = self.frame_size
        return (fw / self.w, fh / self.h)

    @property
    def zoom(self) -> float:
        return max(self.image_w / self.w, self.image_h / self.h)

    def key(self) -> tuple[int, ...]:
        return (
            self.image_w,
            self.image_h,
            self.cols,
            self.rows,
            self.cell_w,
            self.cell_h,
            self.x,
            self.y,
            self.w,
            self.h,
        )

    # -- mapping -----------------------------------------------------------------------
    def cell_rect(self, col: int, row: int) -> tuple[float, float, float, float]:
        """Canonical rectangle (x0, y0, x1, y1) under a cell (may extend past the frame)."""
        (sx, sy), (oc, orow) = self.scale, self.offset
        px0, py0 = (col - oc) * self.cell_w, (row - orow) * self.cell_h
        return (
            self.x + px0 / sx,
            self.y + py0 / sy,
            self.x + (px0 + self.cell_w) / sx,
            self.y + (py0 + self.cell_h) / sy,
        )

    def cell_center(self, col: int, row: int) -> tuple[float, float]:
        x0, y0, x1, y1 = self.cell_rect(col, row)
        return ((x0 + x1) / 2, (y0 + y1) / 2)

    def cell_of(self, cx: float, cy: float) -> tuple[int, int]:
        """The cell showing canonical point (cx, cy)."""
        (sx, sy), (oc, orow) = self.scale, self.offset
        return (
            oc + math.floor((cx - self.x) * sx / self.cell_w + 1e-9),
            orow + math.floor((cy - self.y) * sy / self.cell_h + 1e-9),
        )

    def cell_in_frame(self, col: int, row: int) -> bool:
        (oc, orow), (fc, fr) = self.offset, self.frame_cells
        return oc <= col < oc + fc and orow <= row < orow + fr

    # -- zoom and pan --------------------------------------------------------------------
    def zoomed(self, factor: float, center: tuple[float, float] | None = None) -> "Viewport":
        """Zoom by `factor` (> 1 = closer) around a canonical point (default: centre)."""
        cx, cy = center or (self.x + self.w / 2, self.y + self.h / 2)
        w = min(self.image_w, max(MIN_REGION, round(self.w / factor)))
        h = min(self.image_h, max(MIN_REGION, round(self.h / factor)))
        if factor < 1 and w >= self.image_w and h >= self.image_h:
            return self.fitted()
        return self._placed(round(cx - w / 2), round(cy - h / 2), w, h)

    def panned(self, dx: float, dy: float) -> "Viewport":
        """Move the region by a fraction of its own size (0.25 = a quarter)."""
        return self._placed(
            self.x + round(dx * self.w), self.y + round(dy * self.h), self.w, self.h
        )

    def fitted(self) -> "Viewport":
        return replace(self, x=0, y=0, w=self.image_w, h=self.image_h)

    def resized(
        self, cols: int, rows: int, cell_w: int | None = None, cell_h: int | None = None
    ) -> "Viewport":
        return replace(
            self, cols=cols, rows=rows, cell_w=cell_w or self.cell_w, cell_h=cell_h or self.cell_h
        )

    def _placed(self, x: int, y: int, w: int, h: int) -> "Viewport":
        x = min(max(0, x), self.image_w - w)
        y = min(max(0, y), self.image_h - h)
        return replace(self, x=x, y=y, w=w, h=h)
