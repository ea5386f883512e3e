"""Integer image pixels <-> terminal cells for the box and keypoint tools.

Built on `render.Viewport` (the same mapping the displayed frame was made with, so an
overlay lands where the picture shows that pixel). Labels are never derived from
cells: the cursor lives in integer canonical pixels and cells only say where to draw
it, which keeps boxes exact at every zoom level. Zoom level k shows 1/2**k of the
image around the cursor; from some level on one image pixel spans several cells.
"""

from __future__ import annotations

import math

from .viewport import MIN_REGION, Viewport

Cell = tuple[int, int]


def pixel_cell(vp: Viewport, x: float, y: float) -> Cell:
    """The cell showing the centre of pixel x, y (may lie outside the frame). Using
    the centre makes this the inverse of `cell_pixel` once a pixel spans whole cells."""
    return vp.cell_of(x + 0.5, y + 0.5)


def cell_pixel(vp: Viewport, col: int, row: int) -> tuple[int, int]:
    """The image pixel under the centre of a cell (what a click or a jump picks),
    clamped to the image."""
    cx, cy = vp.cell_center(col, row)
    return (
        min(max(math.floor(cx), 0), vp.image_w - 1),
        min(max(math.floor(cy), 0), vp.image_h - 1),
    )


def visible(vp: Viewport, cell: Cell) -> bool:
    return vp.cell_in_frame(*cell)


def px_per_cell(vp: Viewport) -> tuple[float, float]:
    sx, sy = vp.scale
    return vp.cell_w / sx, vp.cell_h / sy


def step(vp: Viewport) -> tuple[int, int]:
    """Pixels moved by one display cell (at least one pixel)."""
    px, py = px_per_cell(vp)
    return max(1, round(px)), max(1, round(py))


def follow(vp: Viewport, x: int, y: int) -> Viewport:
    """Pan so pixel x, y is on screen; the view stays put when it already is."""
    if vp.x <= x < vp.x + vp.w and vp.y <= y < vp.y + vp.h:
        return vp
    return vp.zoomed(1.0, (x + 0.5, y + 0.5))


def level_of(vp: Viewport) -> int:
    return max(0, round(math.log2(max(vp.zoom, 1.0))))


def max_level(vp: Viewport) -> int:
    return max(0, math.floor(math.log2(max(vp.image_w, vp.image_h) / MIN_REGION)))


def zoom_to(vp: Viewport, level: int, centre: tuple[int, int]) -> Viewport:
    """Zoom level `level` (0 = whole image) centred on an image pixel."""
    level = max(0, min(level, max_level(vp)))
    if level == 0:
        return vp.fitted()
    return vp.fitted().zoomed(2.0**level, (centre[0] + 0.5, centre[1] + 0.5))
