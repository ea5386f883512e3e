"""The jump grid: `g`, a column letter, a row letter puts the cursor anywhere on the
picture in three keys. The frame is divided into up to 26 x 26 slots; letters are
shown along the top and left edges of the frame while a jump is being typed."""

from __future__ import annotations

from string import ascii_lowercase

from .cellmap import Cell
from .overlay import Glyph, Overlay
from .viewport import Viewport

LETTERS = ascii_lowercase
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
    ov: Overlay = {}
    for i in range(ncol):
        ov[(slot_cell(vp, i, 0)[0], orow)] = Glyph(LETTERS[i], COLUMN_COLOUR, True)
    for j in range(nrow):
        ov[(oc, slot_cell(vp, 0, j)[1])] = Glyph(LETTERS[j], ROW_COLOUR, True)
    return ov


def index(vp: Viewport, letter: str, axis: int) -> int | None:
    """Slot index of a typed letter on axis 0 (columns) or 1 (rows), None if invalid."""
    limit = divisions(vp)[axis]
    return LETTERS.index(letter) if letter and letter in LETTERS[:limit] else None
