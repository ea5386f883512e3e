"""The image view with a text-layer overlay (cursor, boxes, keypoints, positions).

The picture is sent once per frame by `ImageView`; the overlay is spliced into the
rendered lines as glyph cells, so any repaint Textual does shows it. An overlay
change (`render.overlay.diff`) is written as exactly the changed cells:
- half-cell / unicode: the picture is text; a vacated cell gets its half-block back.
- kitty: the picture is placeholder characters; a vacated cell gets its placeholder.
- sixel: a vacated cell gets a sixel patch of just its pixels (encoded on demand
  from the frame), so the picture is never re-sent for an overlay change.
Those cells are written directly to the driver rather than through
`refresh(region)`: Textual's partial update writes each dirty line of a widget from
the widget's left edge up to the last dirty cell (`ChopsUpdate.render_segments`
crops only the end), which for the picture means up to a whole picture row per
changed cell — 25 KB per box edit in half-cell mode, measured. When a direct write
is not possible (picture not rendered yet, another screen on top) it falls back to
`refresh(region)`.
"""

from __future__ import annotations

import numpy as np
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
        """Swap the overlay and send only the changed cells. Returns their number."""
        delta = diff(self.overlay, new)
        self.overlay = dict(new)
        if not delta.cells:
            return 0
        self.overlay_updates += 1
        if self._write_cells(delta.drawn, delta.restored):
            return delta.cells
        if self.graphics == "sixel":
            self._patches |= set(delta.restored)
        cells = set(delta.drawn) | set(delta.restored)
        self.refresh(*(Region(c1, row, c2 - c1 + 1, 1) for row, c1, c2 in row_runs(cells)))
        return delta.cells

    def _write_cells(self, drawn: Overlay, restored: frozenset[Cell]) -> bool:
        driver = getattr(self.app, "_driver", None)
        if driver is None or self.frame is None or not self.screen.is_active:
            return False
        full = Region(0, 0, *self.size)
        if self.graphics != "sixel" and self._base_key != self._key(full):
            return False  # the picture itself is not on screen yet: repaint normally
        origin, console, out = self.region, self.app.console, []
        for row, c1, c2 in row_runs(restored):
            out.append(Control.move_to(origin.x + c1, origin.y + row).segment.text)
            if self.graphics == "sixel":
                out.append(self._patch(row, c1, c2))
            else:
                out.append(self._base[row].crop(c1, c2 + 1).render(console))
        for row, c1, c2 in row_runs(drawn):
            out.append(Control.move_to(origin.x + c1, origin.y + row).segment.text)
            if self.graphics == "sixel":
                out.append("".join(self._sixel_glyph(drawn[(c, row)], c, row)
                                   for c in range(c1, c2 + 1)))
                continue
            glyphs = {c: drawn[(c, row)] for c in range(c1, c2 + 1)}
            out.append(_splice(self._base[row], 0, glyphs).crop(c1, c2 + 1).render(console))
        driver.write("".join(out))
        return True

    def _sixel_glyph(self, g: Glyph, col: int, row: int) -> str:
        """A glyph over a sixel picture replaces the cell's pixels: give it the cell's
        mean colour as background so an outline reads as a line, not a black bar."""
        return _sgr(g, self._cell_colour(col, row)) + g.char + "\x1b[0m"

    def _cell_colour(self, col: int, row: int) -> tuple[int, int, int]:
        vp = self.frame.viewport
        (oc, orow), cw, ch = vp.offset, vp.cell_w, vp.cell_h
        cell = self.frame.picture.crop(((col - oc) * cw, (row - orow) * ch,
                                        (col + 1 - oc) * cw, (row + 1 - orow) * ch))
        mean = np.asarray(cell.convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(axis=0)
        return tuple(int(v) for v in mean)

    def _patch(self, row: int, c1: int, c2: int) -> str:
        """A sixel of the picture's pixels under cells c1..c2 of one row."""
        vp = self.frame.viewport
        (oc, orow), cw, ch = vp.offset, vp.cell_w, vp.cell_h
        box = ((c1 - oc) * cw, (row - orow) * ch, (c2 + 1 - oc) * cw, (row + 1 - orow) * ch)
        return image_to_sixels(self.frame.picture.crop(box))

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
        if self.graphics == "sixel" and self.frame is not None:
            if self._patches:
                self._add_patches(lines, crop)
            if lines and self._has_full_picture(lines[-1]):
                lines[-1] = self._glyphs_after_picture(lines[-1], crop)
        return lines

    def _has_full_picture(self, line: Strip) -> bool:
        return any(seg.control and seg.text is self.frame.sixel for seg in line)

    def _glyphs_after_picture(self, line: Strip, crop: Region) -> Strip:
        """The full sixel is drawn last (after the text of every line), so it would
        cover the glyphs spliced into the lines: draw them again after it."""
        origin = self.screen.find_widget(self).visible_region
        out = []
        for (col, row), g in sorted(self.overlay.items()):
            if crop.contains(col, row):
                out.append(Control.move_to(origin.x + col, origin.y + row).segment.text
                           + self._sixel_glyph(g, col, row))
        if not out:
            return line
        out.append(Control.move_to(origin.right, origin.bottom - 1).segment.text)
        return Strip([*line, Segment("".join(out), _NULL,
                                     control=((ControlType.CURSOR_FORWARD, 0),))],
                     line.cell_length)

    def _picture_lines(self, crop: Region) -> list[Strip]:
        """The picture's lines without overlay. Text-layer pictures are rendered once
        per frame and size: an overlay change must not redo the half-cell conversion
        of the whole picture (Textual asks for every line on any refresh)."""
        if self.graphics == "sixel":
            return super().render_lines(crop)
        key = self._key(crop)
        if key != self._base_key:
            self._base, self._base_key = super().render_lines(crop), key
        return list(self._base)

    def _key(self, crop: Region) -> tuple:
        return (id(self.frame), self.message_text, crop, self.size)

    # -- sixel patches -------------------------------------------------------------------
    def _add_patches(self, lines: list[Strip], crop: Region) -> None:
        origin = self.screen.find_widget(self).visible_region
        for row, c1, c2 in row_runs(self._patches):
            i = row - crop.y
            if not 0 <= i < len(lines):
                continue
            back = Control.move_to(origin.x + crop.x, origin.y + row).segment.text
            lines[i] = Strip([
                Segment(Control.move_to(origin.x + c1, origin.y + row).segment.text, _NULL),
                Segment(self._patch(row, c1, c2), _NULL,
                        control=((ControlType.CURSOR_FORWARD, 0),)),
                Segment(back, _NULL), *lines[i]], lines[i].cell_length)
        self._patches.clear()


def _sgr(g: Glyph, bg: tuple[int, int, int]) -> str:
    r, gr, b = (int(g.colour[i:i + 2], 16) for i in (1, 3, 5))
    return (("\x1b[1m" if g.bold else "") + f"\x1b[38;2;{r};{gr};{b}m"
            + "\x1b[48;2;%d;%d;%dm" % bg)


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
