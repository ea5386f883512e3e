"""The image view with a text-layer overlay (cursor, boxes, keypoints, positions).

The picture is sent once per frame by `ImageView`; the overlay is spliced into the
rendered lines as glyph cells. Changing the overlay refreshes only the cells that
changed (`render.overlay.diff`), so Textual writes a few cells instead of the picture:
- half-cell / unicode: the picture is text; a vacated cell gets its half-block back.
- kitty: the picture is placeholder characters; a vacated cell gets its placeholder.
- sixel: a vacated cell gets a sixel patch of just its pixels (encoded on demand
  from the frame), so the picture is never re-sent for an overlay change.
"""

from __future__ import annotations

from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual_image._sixel import image_to_sixels

from ...render.overlay import Cell, Glyph, Overlay, diff, row_runs
from .image_view import ImageView

_NULL = Style()


class OverlayImageView(ImageView):
    def __init__(self, graphics: str, *, id: str | None = None, classes: str | None = None):
        super().__init__(graphics, id=id, classes=classes)
        self.overlay: Overlay = {}
        self._patches: set[Cell] = set()   # sixel cells to give back to the picture
        self.overlay_updates = 0
        self._base_key: tuple | None = None
        self._base: list[Strip] = []

    def set_overlay(self, new: Overlay) -> int:
        """Swap the overlay; refresh only the changed cells. Returns their number."""
        delta = diff(self.overlay, new)
        self.overlay = dict(new)
        if not delta.cells:
            return 0
        if self.graphics == "sixel":
            self._patches |= set(delta.restored)
        cells = set(delta.drawn) | set(delta.restored)
        self.refresh(*(Region(c1, row, c2 - c1 + 1, 1) for row, c1, c2 in row_runs(cells)))
        self.overlay_updates += 1
        return delta.cells

    def show(self, frame) -> None:
        self._patches.clear()  # a new picture covers every cell anyway
        super().show(frame)

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = self._picture_lines(crop)
        by_row: dict[int, dict[int, Glyph]] = {}
        for (col, row), g in self.overlay.items():
            by_row.setdefault(row, {})[col] = g
        for i, line in enumerate(lines):
            glyphs = by_row.get(crop.y + i)
            if glyphs:
                lines[i] = _splice(line, crop.x, glyphs)
        if self._patches and self.graphics == "sixel" and self.frame is not None:
            self._add_patches(lines, crop)
        return lines

    def _picture_lines(self, crop: Region) -> list[Strip]:
        """The picture's lines without overlay. Text-layer pictures are rendered once
        per frame and size: an overlay change must not redo the half-cell conversion
        of the whole picture (Textual asks for every line on any refresh)."""
        if self.graphics == "sixel":
            return super().render_lines(crop)
        key = (id(self.frame), self.message_text, crop, self.size)
        if key != self._base_key:
            self._base, self._base_key = super().render_lines(crop), key
        return list(self._base)

    # -- sixel patches -------------------------------------------------------------------
    def _add_patches(self, lines: list[Strip], crop: Region) -> None:
        cw, ch = self.frame.viewport.cell_w, self.frame.viewport.cell_h
        (oc, orow) = self.frame.viewport.offset
        origin = self.screen.find_widget(self).visible_region
        for row, c1, c2 in row_runs(self._patches):
            i = row - crop.y
            if not 0 <= i < len(lines):
                continue
            box = ((c1 - oc) * cw, (row - orow) * ch, (c2 + 1 - oc) * cw, (row + 1 - orow) * ch)
            sixel = image_to_sixels(self.frame.picture.crop(box))
            back = Control.move_to(origin.x + crop.x, origin.y + row).segment.text
            lines[i] = Strip([
                Segment(Control.move_to(origin.x + c1, origin.y + row).segment.text, _NULL),
                Segment(sixel, _NULL, control=((ControlType.CURSOR_FORWARD, 0),)),
                Segment(back, _NULL), *lines[i]], lines[i].cell_length)
        self._patches.clear()


def _splice(line: Strip, x0: int, glyphs: dict[int, Glyph]) -> Strip:
    """Replace single cells of a rendered line by glyphs, keeping each cell's
    background (the picture's colour in half-cell mode)."""
    cols = sorted(c - x0 for c in glyphs if 0 <= c - x0 < line.cell_length)
    if not cols:
        return line
    cuts = sorted({p for c in cols for p in (c, c + 1)} | {line.cell_length})
    pieces = line.divide(cuts)
    starts = [0] + cuts[:-1]
    out = []
    for start, piece in zip(starts, pieces):
        g = glyphs.get(start + x0) if start in cols else None
        if g is None:
            out.append(piece)
            continue
        bg = next((s.style.bgcolor for s in piece if s.style and s.style.bgcolor), None)
        style = Style(color=g.colour, bgcolor=bg, bold=g.bold)
        out.append(Strip([Segment(g.char, style)], 1))
    return Strip.join(out)
