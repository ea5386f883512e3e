"""The overlay over a sixel picture (a mixin of `OverlayImageView`).

A text glyph over sixel pixels replaces its whole cell, so only the small marks are
text (cursor, anchor, points, ruler letters; drawn on the cell's mean colour so they
read as marks, not black bars). Box outlines are pixel strokes (render.strokes): every
cell a stroke crosses is sent as a sixel patch of the picture with the stroke painted
in, so the pixels inside and around a box stay the picture's own.

What a cell shows is its key: a text glyph, or the stroke pieces in it (none = the
plain picture). An overlay change sends exactly the cells whose key changed; a full
repaint of the picture (new frame, resize, a dialog closed) draws every patch and
glyph again right after the picture, which Textual writes last.
"""

from __future__ import annotations

import numpy as np
from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

from ...render.overlay import Cell, Glyph, Overlay, row_runs
from ...render.strokes import Rect, cell_pieces, patch, rect_runs

_NULL = Style()


class SixelLayer:
    def init_sixel_layer(self) -> None:
        self._keys: dict[Cell, object] = {}
        self._sent_frame: int | None = None  # id of the frame last sent whole

    def text_glyphs(self) -> dict[Cell, Glyph]:
        """Glyphs drawn as text: every glyph in text modes; over sixel, all but box
        outlines (those are pixel strokes)."""
        if self.graphics != "sixel":
            return self.overlay
        return {c: g for c, g in self.overlay.items() if not g.outline}

    def _pieces(self, overlay: Overlay) -> dict:
        if self.frame is None:
            return {}
        return cell_pieces(getattr(overlay, "strokes", ()), self.frame.viewport)

    def _cell_keys(self, overlay: Overlay) -> dict[Cell, object]:
        keys: dict[Cell, object] = {c: ("p", p) for c, p in self._pieces(overlay).items()}
        keys.update({c: ("g", g) for c, g in overlay.items() if not g.outline})
        return keys

    # -- changes -------------------------------------------------------------------------
    def set_sixel_overlay(self, new: Overlay) -> int:
        keys = self._cell_keys(new)
        before = self._keys
        changed = {c for c in keys.keys() | before.keys() if keys.get(c) != before.get(c)}
        self.overlay, self._keys = new, keys
        if not changed:
            return 0
        self.overlay_updates += 1
        if self.frame is None or self._sent_frame != id(self.frame):
            return len(changed)  # the whole picture is on its way, with every patch
        if not self._write_sixel(changed, before):
            self._patches |= changed
            self.refresh(*(Region(c1, row, c2 - c1 + 1, 1) for row, c1, c2 in row_runs(changed)))
        return len(changed)

    def _write_sixel(self, changed: set[Cell], before: dict[Cell, object]) -> bool:
        driver = getattr(self.app, "_driver", None)
        if driver is None or not self.screen.is_active:
            return False
        driver.write(self._layer(changed, self.region.x, self.region.y, before))
        return True

    def _layer(self, cells: set[Cell], x0: int, y0: int, before: dict[Cell, object] | None) -> str:
        """Patches for `cells` without a text glyph, then the glyphs. `before`: what
        those cells show now (None: unknown). A cell that showed the picture with or
        without strokes gets only the pixels that change (a transparent patch); one
        that showed a text glyph, or an unknown one, gets all its pixels."""
        text, pieces = self.text_glyphs(), self._pieces(self.overlay)
        full, sparse = [], []
        for c in cells:
            if c not in text:
                old = None if before is None else before.get(c, ("p", ()))
                (sparse if old is not None and old[0] == "p" else full).append(c)
        old_pieces = {c: k[1] for c, k in (before or {}).items() if k[0] == "p"}
        out = []
        for rects, old in ((rect_runs(full), None), (rect_runs(sparse), old_pieces)):
            for rect in rects:
                out.append(Control.move_to(x0 + rect[0], y0 + rect[1]).segment.text)
                out.append(self._patch(rect, pieces, old))
        for col, row in sorted(c for c in cells if c in text):
            out.append(Control.move_to(x0 + col, y0 + row).segment.text)
            out.append(self._sixel_glyph(text[(col, row)], col, row))
        return "".join(out)

    def _patch(self, rect: Rect, pieces: dict, old: dict | None = None) -> str:
        return patch(self.frame.picture, self.frame.viewport, rect, pieces, old)

    def _sixel_glyph(self, g: Glyph, col: int, row: int) -> str:
        return _sgr(g, self._cell_colour(col, row)) + g.char + "\x1b[0m"

    def _cell_colour(self, col: int, row: int) -> tuple[int, int, int]:
        vp = self.frame.viewport
        (oc, orow), cw, ch = vp.offset, vp.cell_w, vp.cell_h
        cell = self.frame.picture.crop(
            ((col - oc) * cw, (row - orow) * ch, (col + 1 - oc) * cw, (row + 1 - orow) * ch)
        )
        mean = np.asarray(cell.convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(axis=0)
        return tuple(int(v) for v in mean)

    # -- full repaints -------------------------------------------------------------------
    def add_sixel_layer(self, lines: list[Strip], crop: Region) -> None:
        if self._patches:
            self._add_patches(lines, crop)
        if lines and any(seg.control and seg.text is self.frame.sixel for seg in lines[-1]):
            self._sent_frame = id(self.frame)
            lines[-1] = self._after_picture(lines[-1], crop)

    def _after_picture(self, line: Strip, crop: Region) -> Strip:
        """The full sixel is drawn last (after the text of every line), so it would
        cover the overlay: draw every patch and glyph again after it."""
        origin = self.screen.find_widget(self).visible_region
        cells = {c for c in self._cell_keys(self.overlay) if crop.contains(*c)}
        if not cells:
            return line
        out = self._layer(cells, origin.x, origin.y, {})  # on the fresh picture
        out += Control.move_to(origin.right, origin.bottom - 1).segment.text
        return Strip(
            [*line, Segment(out, _NULL, control=((ControlType.CURSOR_FORWARD, 0),))],
            line.cell_length,
        )

    def _add_patches(self, lines: list[Strip], crop: Region) -> None:
        """Fallback when a change could not be written directly: paint those cells in
        the next render, at the start of their lines (before Textual's text)."""
        origin = self.screen.find_widget(self).visible_region
        pieces, text = self._pieces(self.overlay), self.text_glyphs()
        for row, c1, c2 in row_runs(c for c in self._patches if c not in text):
            i = row - crop.y
            if not 0 <= i < len(lines):
                continue
            back = Control.move_to(origin.x + crop.x, origin.y + row).segment.text
            lines[i] = Strip(
                [
                    Segment(Control.move_to(origin.x + c1, origin.y + row).segment.text, _NULL),
                    Segment(
                        self._patch((c1, row, c2, row), pieces),
                        _NULL,
                        control=((ControlType.CURSOR_FORWARD, 0),),
                    ),
                    Segment(back, _NULL),
                    *lines[i],
                ],
                lines[i].cell_length,
            )
        self._patches.clear()


def _sgr(g: Glyph, bg: tuple[int, int, int]) -> str:
    r, gr, b = (int(g.colour[i : i + 2], 16) for i in (1, 3, 5))
    return ("\x1b[1m" if g.bold else "") + f"\x1b[38;2;{r};{gr};{b}m" + "\x1b[48;2;%d;%d;%dm" % bg
