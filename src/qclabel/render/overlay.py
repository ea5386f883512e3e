"""Overlays (cursor, boxes, keypoints, skeleton, expected positions) as text cells.

The image frame is sent to the terminal once per view change. Everything drawn on
top of it lives in the text layer: an overlay is a mapping cell -> Glyph, and an edit
only sends the difference between two overlays (`diff`): the cells that gained or
changed a glyph, and the cells that lost one and must show the image again. What
that costs on the wire per graphics mode is computed in `render.wire`.

Box outlines never cover the box: in text modes (half-cell, kitty, unicode) their
glyphs sit in the cells just outside the cells showing any box pixel; where the
terminal shows pixels (sixel) they are `strokes` (render.strokes), a thin ring of
pixels just outside the box painted into the picture, and their glyphs are not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..core.model import OCCLUDED, VISIBLE, Box, KeypointSet
from .cellmap import Cell, pixel_cell
from .strokes import Stroke, box_stroke
from .viewport import Viewport


@dataclass(frozen=True)
class Glyph:
    char: str
    colour: str = "#ffffff"
    bold: bool = False
    outline: bool = False  # part of a box outline: a pixel renderer draws its stroke instead
    bg: str | None = None  # cell background (a mask's tinted half-cell); None: the picture's


class Overlay(dict[Cell, Glyph]):
    """cell -> Glyph, plus the box outlines as pixel strokes (for sixel)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strokes: list[Stroke] = []


CURSOR = "┼"
ANCHOR = "◆"
POINT_VISIBLE, POINT_OCCLUDED, EXPECTED = "●", "○", "◎"
SKELETON = "·"
_BOX_CHARS = {"tl": "┌", "tr": "┐", "bl": "└", "br": "┘", "h": "─", "v": "│"}
_SELECTED_CHARS = {"tl": "┏", "tr": "┓", "bl": "┗", "br": "┛", "h": "━", "v": "┃"}
_DRAFT_CHARS = {"tl": "┌", "tr": "┐", "bl": "└", "br": "┘", "h": "╌", "v": "╎"}
# Imported predictions: dashed and rounded, never mistaken for the operator's boxes.
_SUGGESTED_CHARS = {"tl": "╭", "tr": "╮", "bl": "╰", "br": "╯", "h": "┄", "v": "┆"}
_STYLES = {
    "normal": _BOX_CHARS,
    "selected": _SELECTED_CHARS,
    "draft": _DRAFT_CHARS,
    "suggested": _SUGGESTED_CHARS,
}
# Pixel strokes per style: (width in display px, dash length; 0 = solid).
STROKES = {"normal": (2, 0), "selected": (3, 0), "draft": (2, 4), "suggested": (2, 2)}


def _put(ov: Overlay, vp: Viewport, cell: Cell, glyph: Glyph) -> None:
    if vp.cell_in_frame(*cell):
        ov[cell] = glyph


def box_cells(vp: Viewport, box: Box) -> tuple[int, int, int, int]:
    """Cell columns/rows showing any pixel of the box: left, top, right, bottom."""
    left, top = vp.cell_of(box.x, box.y)
    right, bottom = vp.cell_of(box.x2 - 1e-6, box.y2 - 1e-6)
    return left, top, right, bottom


def outline_cells(vp: Viewport, box: Box) -> tuple[int, int, int, int]:
    """The ring of cells just outside `box_cells`; a side that would leave the frame
    (a box on the image border) stays on the box's own outermost cells."""
    left, top, right, bottom = box_cells(vp, box)
    (oc, orow), (fc, fr) = vp.offset, vp.frame_cells
    return (
        left - 1 if left - 1 >= oc else left,
        top - 1 if top - 1 >= orow else top,
        right + 1 if right + 1 < oc + fc else right,
        bottom + 1 if bottom + 1 < orow + fr else bottom,
    )


def draw_box(ov: Overlay, vp: Viewport, box: Box, colour: str, style: str = "normal") -> None:
    """The outline around the box, never on it: glyphs in the ring of cells outside
    it (text modes) and a pixel stroke just outside its edge (sixel)."""
    chars = _STYLES[style]

    def g(k: str) -> Glyph:
        return Glyph(chars[k], colour, style == "selected", True)

    left, top, right, bottom = outline_cells(vp, box)
    # Only walk the visible part: a zoomed-in view must not loop over off-screen cells.
    c1, c2 = max(left, 0), min(right, vp.cols - 1)
    r1, r2 = max(top, 0), min(bottom, vp.rows - 1)
    for c in range(c1, c2 + 1):
        _put(ov, vp, (c, top), g("h"))
        _put(ov, vp, (c, bottom), g("h"))
    for r in range(r1, r2 + 1):
        _put(ov, vp, (left, r), g("v"))
        _put(ov, vp, (right, r), g("v"))
    for cell, k in (
        ((left, top), "tl"),
        ((right, top), "tr"),
        ((left, bottom), "bl"),
        ((right, bottom), "br"),
    ):
        _put(ov, vp, cell, g(k))
    strokes = getattr(ov, "strokes", None)
    if (
        strokes is not None
        and box.x2 > vp.x
        and box.x < vp.x + vp.w
        and box.y2 > vp.y
        and box.y < vp.y + vp.h
    ):
        width, dash = STROKES[style]
        strokes.append(box_stroke(vp, box, colour, width, dash))


def draw_cursor(ov: Overlay, vp: Viewport, x: int, y: int, colour: str = "#00ff00") -> None:
    _put(ov, vp, pixel_cell(vp, x, y), Glyph(CURSOR, colour, True))


def draw_anchor(ov: Overlay, vp: Viewport, x: int, y: int, colour: str = "#ffff00") -> None:
    _put(ov, vp, pixel_cell(vp, x, y), Glyph(ANCHOR, colour, True))


def line_cells(a: Cell, b: Cell) -> list[Cell]:
    """Bresenham between two cells, both ends included."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err, out = dx + dy, []
    while True:
        out.append((x0, y0))
        if (x0, y0) == (x1, y1) or len(out) > 4000:
            return out
        e2 = 2 * err
        if e2 >= dy:
            err, x0 = err + dy, x0 + sx
        if e2 <= dx:
            err, y0 = err + dx, y0 + sy


def draw_keypoints(
    ov: Overlay,
    vp: Viewport,
    kps: KeypointSet,
    skeleton: Iterable[tuple[str, str]],
    colour: str,
    current: str | None = None,
) -> None:
    """Skeleton first, then the points on top; v=0 points are not drawn."""
    placed = {p.name: p for p in kps.points if p.v in (OCCLUDED, VISIBLE)}
    for a, b in skeleton:
        if a in placed and b in placed:
            pa, pb = placed[a], placed[b]
            cells = line_cells(pixel_cell(vp, pa.x, pa.y), pixel_cell(vp, pb.x, pb.y))
            for cell in cells[1:-1]:
                _put(ov, vp, cell, Glyph(SKELETON, colour))
    for p in placed.values():
        char = POINT_VISIBLE if p.v == VISIBLE else POINT_OCCLUDED
        _put(ov, vp, pixel_cell(vp, p.x, p.y), Glyph(char, colour, p.name == current))


def draw_positions(
    ov: Overlay,
    vp: Viewport,
    positions: Iterable[tuple[str, float, float]],
    outcomes: dict[str, str],
    colours: dict[str, str],
) -> None:
    """Expected component positions of an assembly template, coloured by outcome."""
    for name, x, y in positions:
        colour = colours.get(outcomes.get(name, ""), "#ffffff")
        _put(ov, vp, pixel_cell(vp, x, y), Glyph(EXPECTED, colour, True))


@dataclass(frozen=True)
class Delta:
    """What one overlay change sends: new/changed glyphs, and cells to give back to
    the image (they held a glyph that is gone)."""

    drawn: dict[Cell, Glyph]
    restored: frozenset[Cell]

    @property
    def cells(self) -> int:
        return len(self.drawn) + len(self.restored)


def diff(old: dict[Cell, Glyph], new: dict[Cell, Glyph]) -> Delta:
    drawn = {c: g for c, g in new.items() if old.get(c) != g}
    restored = frozenset(c for c in old if c not in new)
    return Delta(drawn, restored)


def row_runs(cells: Iterable[Cell]) -> list[tuple[int, int, int]]:
    """Cells grouped into horizontal runs: (row, first col, last col)."""
    runs: list[tuple[int, int, int]] = []
    for col, row in sorted(cells, key=lambda c: (c[1], c[0])):
        if runs and runs[-1][0] == row and runs[-1][2] == col - 1:
            runs[-1] = (row, runs[-1][1], col)
        else:
            runs.append((row, col, col))
    return runs
