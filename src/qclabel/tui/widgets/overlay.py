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

from rich.control import Control
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

from ...render.overlay import Cell, Glyph, Overlay, diff, row_runs
from .image_view import ImageView
from .sixel_layer import SixelLayer

_NULL = Style()


class OverlayImageView(SixelLayer, ImageView):
    def __init__(self, graphics: str, *, id: str | None = None, classes: str | None = None):
        super().__init__(graphics, id=id, classes=classes)
        self.overlay: Overlay = Overlay()
        self._patches: set[Cell] = set()  # sixel cells to paint again on the next render
        self.overlay_updates = 0
        self._base_key: tuple | None = None
        self._base: list[Strip] = []
        self.init_sixel_layer()

    def set_overlay(self, new: dict[Cell, Glyph]) -> int:
        """Swap the overlay and send only the changed cells. Returns their number."""
        if not isinstance(new, Overlay):
            new = Overlay(new)
        if self.graphics == "sixel":
            return self.set_sixel_overlay(new)
        delta = diff(self.overlay, new)
        self.overlay = new
        if not delta.cells:
            return 0
        self.overlay_updates += 1
        if self._write_cells(delta.drawn, delta.restored):
            return delta.cells
        cells = set(delta.drawn) | set(delta.restored)
        self.refresh(*(Region(c1, row, c2 - c1 + 1, 1) for row, c1, c2 in row_runs(cells)))
        return delta.cells

    def _write_cells(self, drawn: Overlay, restored: frozenset[Cell]) -> bool:
        """Text modes: a vacated cell gets its picture cell back, a drawn one its glyph."""
        driver = getattr(self.app, "_driver", None)
        if driver is None or self.frame is None or not self.screen.is_active:
            return False
        if self._base_key != self._key(Region(0, 0, *self.size)):
            return False  # the picture itself is not on screen yet: repaint normally
        origin, console, out = self.region, self.app.console, []
        for row, c1, c2 in row_runs(restored):
            out.append(Control.move_to(origin.x + c1, origin.y + row).segment.text)
            out.append(self._base[row].crop(c1, c2 + 1).render(console))
        for row, c1, c2 in row_runs(drawn):
            out.append(Control.move_to(origin.x + c1, origin.y + row).segment.text)
            glyphs = {c: drawn[(c, row)] for c in range(c1, c2 + 1)}
            out.append(_splice(self._base[row], 0, glyphs).crop(c1, c2 + 1).render(console))
        driver.write("".join(out))
        return True

    def show(self, frame) -> None:
        self._patches.clear()  # a new picture covers every cell anyway
        super().show(frame)

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = self._picture_lines(crop)
        by_row: dict[int, dict[int, Glyph]] = {}
        for (col, row), g in self.text_glyphs().items():
            by_row.setdefault(row, {})[col] = g
        for i, line in enumerate(lines):
            glyphs = by_row.get(crop.y + i)
            if glyphs:
                lines[i] = _splice(line, crop.x, glyphs)
        if self.graphics == "sixel" and self.frame is not None:
            self.add_sixel_layer(lines, crop)
        return lines

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
        style = Style(color=g.colour, bgcolor=g.bg or bg, bold=g.bold)
        out.append(Strip([Segment(g.char, style)], 1))
    return Strip.join(out)
