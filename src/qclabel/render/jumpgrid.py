"""The jump grid: `g`, a column letter, a row letter puts the cursor anywhere on the
picture in three keys. The frame is divided into up to 25 x 25 slots (every letter
but q); letters are shown along the top and left edges of the frame while a jump is being typed."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from string import ascii_lowercase

from .cellmap import Cell, pixel_cell
from .overlay import Glyph, Overlay
from .viewport import Viewport

LETTERS = ascii_lowercase.replace("q", "")  # q always quits, even during a jump
COLUMN_COLOUR, ROW_COLOUR = "#ffff00", "#00ffff"


def divisions(vp: Viewport) -> tuple[int, int]:
    fc, fr = vp.frame_cells
    return min(len(LETTERS), fc), min(len(LETTERS), fr)


def slot_cell(vp: Viewport, i: int, j: int) -> Cell:
    """The cell at the centre of slot (column i, row j)."""
    (oc, orow), (fc, fr) = vp.offset, vp.frame_cells
    ncol, nrow = divisions(vp)
    return oc + int((i + 0.5) * fc / ncol), orow + int((j + 0.5) * fr / nrow)


def rulers(vp: Viewport) -> Overlay:
    ncol, nrow = divisions(vp)
    (oc, orow) = vp.offset
    ov: Overlay = {}  # type: ignore[assignment]  # plain cells: no pixel strokes
    for i in range(ncol):
        ov[(slot_cell(vp, i, 0)[0], orow)] = Glyph(LETTERS[i], COLUMN_COLOUR, True)
    for j in range(nrow):
        ov[(oc, slot_cell(vp, 0, j)[1])] = Glyph(LETTERS[j], ROW_COLOUR, True)
    return ov


def index(vp: Viewport, letter: str, axis: int) -> int | None:
    """Slot index of a typed letter on axis 0 (columns) or 1 (rows), None if invalid."""
    limit = divisions(vp)[axis]
    return LETTERS.index(letter) if letter and letter in LETTERS[:limit] else None


# -- fine stages: a jump continued inside an area of canonical pixels -------------------
# A slot of the grid above covers several pixels when the picture is fitted. A fine
# stage zooms until each pixel spans at least one cell and divides the slot again (one
# letter per pixel when it is at most 25 pixels across): two more letters land on the
# exact pixel, whatever the zoom was.


@dataclass(frozen=True)
class Area:
    """Canonical pixels [x0, x1) x [y0, y1) that a fine stage divides into slots."""

    x0: int
    y0: int
    x1: int
    y1: int
    most: tuple[int, ...] = (len(LETTERS), len(LETTERS))  # letters the stage view has room for

    @property
    def exact(self) -> bool:
        return self.x1 - self.x0 <= 1 and self.y1 - self.y0 <= 1

    @property
    def centre(self) -> tuple[int, int]:
        return (self.x0 + self.x1 - 1) // 2, (self.y0 + self.y1 - 1) // 2

    def divisions(self) -> tuple[int, int]:
        return min(self.most[0], self.x1 - self.x0), min(self.most[1], self.y1 - self.y0)

    def slot(self, i: int, j: int) -> "Area":
        ncol, nrow = self.divisions()
        (x0, x1), (y0, y1) = _part(self.x0, self.x1, ncol, i), _part(self.y0, self.y1, nrow, j)
        return Area(x0, y0, x1, y1)

    def index(self, letter: str, axis: int) -> int | None:
        limit = self.divisions()[axis]
        return LETTERS.index(letter) if letter and letter in LETTERS[:limit] else None


def _part(lo: int, hi: int, n: int, i: int) -> tuple[int, int]:
    return lo + (hi - lo) * i // n, lo + (hi - lo) * (i + 1) // n


def slot_area(vp: Viewport, i: int, j: int) -> Area:
    """The canonical pixels under slot (i, j) of the picture's grid (the slot's share
    of the frame, fractional cells included)."""
    (fc, fr), (sx, sy) = vp.frame_cells, vp.scale
    ncol, nrow = divisions(vp)
    px_w, px_h = vp.cell_w / sx, vp.cell_h / sy  # canonical px per cell
    x0, x1 = (vp.x + k * fc / ncol * px_w for k in (i, i + 1))
    y0, y1 = (vp.y + k * fr / nrow * px_h for k in (j, j + 1))
    ax0, ay0 = _clamp(math.floor(x0 + 1e-6), vp.image_w), _clamp(math.floor(y0 + 1e-6), vp.image_h)
    ax1 = max(ax0 + 1, min(vp.image_w, math.ceil(x1 - 1e-6)))
    ay1 = max(ay0 + 1, min(vp.image_h, math.ceil(y1 - 1e-6)))
    return Area(ax0, ay0, ax1, ay1)


def _clamp(v: int, size: int) -> int:
    return min(max(v, 0), size - 1)


def pixel_window(vp: Viewport) -> tuple[int, int]:
    """The most canonical pixels (across, down) the cell area shows with every pixel
    at least one cell wide and one cell tall."""
    k = max(vp.cell_w, vp.cell_h)
    return max(1, vp.cols * vp.cell_w // k), max(1, vp.rows * vp.cell_h // k)


def stage_view(vp: Viewport, area: Area) -> Viewport:
    """The view for a fine stage: the area with as much context as fits at one cell
    (or more) per pixel, so each of its letters gets its own cell."""
    ww, wh = pixel_window(vp)
    w = min(vp.image_w, max(area.x1 - area.x0, ww))
    h = min(vp.image_h, max(area.y1 - area.y0, wh))
    cx, cy = (area.x0 + area.x1) // 2, (area.y0 + area.y1) // 2
    x = min(max(0, cx - w // 2), vp.image_w - w)
    y = min(max(0, cy - h // 2), vp.image_h - h)
    return replace(vp, x=x, y=y, w=w, h=h)


def corner_area(vp: Viewport, x: int, y: int) -> Area:
    """Where the opposite corner of a box anchored at pixel x, y is picked: up to 25
    pixels right and down from it (shifted back at the image's right/bottom edge)."""
    ww, wh = pixel_window(vp)
    nx, ny = min(len(LETTERS), ww, vp.image_w), min(len(LETTERS), wh, vp.image_h)
    x0, y0 = min(x, vp.image_w - nx), min(y, vp.image_h - ny)
    return Area(x0, y0, x0 + nx, y0 + ny)


def area_rulers(vp: Viewport, area: Area) -> Overlay:
    """Letters beside the area: columns on the row above it, rows on the column to
    its left (the frame's edge when the area touches it)."""
    ncol, nrow = area.divisions()
    (oc, orow), (fc, fr) = vp.offset, vp.frame_cells
    left, top = pixel_cell(vp, area.x0, area.y0)
    right, bottom = pixel_cell(vp, area.x1 - 1, area.y1 - 1)
    # Beside the area; on its far side when it touches the frame's edge (the corner
    # cell must not carry a column and a row letter at once).
    top = top - 1 if top > orow else min(bottom + 1, orow + fr - 1)
    left = left - 1 if left > oc else min(right + 1, oc + fc - 1)
    ov: Overlay = {}  # type: ignore[assignment]  # plain cells: no pixel strokes
    for i in range(ncol):
        col = pixel_cell(vp, *area.slot(i, 0).centre)[0]
        if vp.cell_in_frame(col, top):
            ov[(col, top)] = Glyph(LETTERS[i], COLUMN_COLOUR, True)
    for j in range(nrow):
        row = pixel_cell(vp, *area.slot(0, j).centre)[1]
        if vp.cell_in_frame(left, row):
            ov[(left, row)] = Glyph(LETTERS[j], ROW_COLOUR, True)
    return ov


def widened(area: Area, vp: Viewport) -> Area:
    """The area a fine stage divides after a landing in `area`: up to twice the slot
    around it, because an operator types the letter nearest to the target, and near a
    slot's edge that may be the neighbouring slot's. It stays within one letter per
    pixel (25, and what the cell area shows at a cell per pixel) when the slot does, so
    the next two letters are exact."""
    if area.exact:
        return area
    ww, wh = pixel_window(vp)
    x0, x1 = _widen(area.x0, area.x1, min(len(LETTERS), ww), vp.image_w)
    y0, y1 = _widen(area.y0, area.y1, min(len(LETTERS), wh), vp.image_h)
    wide = Area(x0, y0, x1, y1)
    # An axis wider than one letter per pixel allows gets one letter per two cells of
    # the stage's frame, so neighbouring letters never share a cell.
    fc, fr = stage_view(vp, wide).frame_cells
    most = tuple(
        n if size <= n else max(1, min(n, cells // 2))
        for size, n, cells in (
            (x1 - x0, min(len(LETTERS), ww), fc),
            (y1 - y0, min(len(LETTERS), wh), fr),
        )
    )
    return replace(wide, most=most)


def _widen(lo: int, hi: int, limit: int, size: int) -> tuple[int, int]:
    want = min(size, max(hi - lo, min(2 * (hi - lo), limit)))
    start = min(max(0, (lo + hi) // 2 - want // 2), size - want)
    return start, start + want
