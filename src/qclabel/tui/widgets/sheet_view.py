"""The contact sheet: a page of thumbnails with one caption row under each.

The picture part of a page is drawn once per page (one sixel frame, or half-cell
text); moving the cursor or marking a cell repaints only the caption rows involved
(`refresh(region)`), which never contain the sixel, so nothing is re-sent.

The sixel rides at the end of the page's last picture line (the anchor). Textual writes
only the dirty spans of the lines `render_lines` returns, and the crop it passes is the
bounding box of everything dirty: caption refreshes on a page's top and bottom rows
(keys coalesced on a busy machine) get a crop of the whole sheet, yet only caption rows
go out. The anchor line is dirty exactly when the picture's cells are written again (a
new page, a resize, the screen shown again, any full repaint), so the picture goes out
with them, after them (lines are written top to bottom), and never with captions alone.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ...render.sheet import SheetLayout

_NULL = Style()


class SheetView(Widget):
    DEFAULT_CSS = "SheetView { width: 1fr; height: 1fr; }"

    class Resized(Message):
        def __init__(self, cols: int, rows: int) -> None:
            super().__init__()
            self.cols, self.rows = cols, rows

    def __init__(self, graphics: str, *, id: str | None = None):
        super().__init__(id=id)
        self.graphics = graphics
        self.layout_: SheetLayout | None = None
        self.captions: list[Text] = []
        self.cursor = 0
        self.sixel: str | None = None
        self._thumb_lines: dict[int, list[Segment]] = {}
        self.sent = 0  # pages set: one sixel picture or one block of thumbnail rows each

    def on_resize(self) -> None:
        self.post_message(self.Resized(self.size.width, self.size.height))

    def set_page(
        self,
        layout: SheetLayout,
        cells: list[np.ndarray | None],
        sixel: str | None,
        captions: list[Text],
        cursor: int,
    ) -> None:
        self.layout_, self.sixel, self.captions, self.cursor = layout, sixel, captions, cursor
        self._thumb_lines = {} if sixel else self._build_thumb_lines(layout, cells)
        self.sent += 1
        self.refresh()

    def set_captions(self, captions: list[Text], cursor: int, changed: set[int]) -> None:
        self.captions, self.cursor = captions, cursor
        if self.layout_ is None:
            return
        for i in changed:
            c, r = self.layout_.slot_origin(i)
            self.refresh(Region(c, r + self.layout_.thumb_h, self.layout_.slot_w, 1))

    def _build_thumb_lines(self, lay: SheetLayout, cells) -> dict[int, list[Segment]]:
        """Half-cell segments of every thumbnail row (slot_w - 1 cells + a gap)."""
        lines: dict[int, list[Segment]] = {}
        for y in range(lay.rows * lay.slot_h):
            r, k = divmod(y, lay.slot_h)
            if k >= lay.thumb_h:
                continue
            segs: list[Segment] = []
            for c in range(lay.cols):
                i = r * lay.cols + c
                arr = cells[i] if i < len(cells) else None
                segs += (
                    _halfcell_segment(arr[k])
                    if arr is not None
                    else [Segment(" " * (lay.slot_w - 1))]
                )
                segs.append(Segment(" "))
            lines[y] = segs
        return lines

    def _line(self, y: int, width: int, bg: Style) -> Strip:
        lay = self.layout_
        if lay is None:
            return Strip.blank(width, bg)
        r, k = divmod(y, lay.slot_h)
        if r >= lay.rows:
            return Strip.blank(width, bg)
        if k < lay.thumb_h:
            segs = self._thumb_lines.get(y)
            return Strip(segs).extend_cell_length(width, bg) if segs else Strip.blank(width, bg)
        segs = []
        for c in range(lay.cols):
            i = r * lay.cols + c
            text = self.captions[i] if i < len(self.captions) else Text("")
            text = text.copy()
            text.truncate(lay.slot_w - 1, pad=True)
            if i == self.cursor:
                text.stylize("reverse bold")
            segs += list(text.render(self.app.console)) + [Segment(" ")]
        return Strip(segs).extend_cell_length(width, bg).crop(0, width)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Explicit colours: a terminal's default foreground may be black (xterm).
        bg = self.rich_style
        width = self.size.width
        lines = [
            self._line(y, width, bg).crop(crop.x, crop.right).apply_style(bg)
            for y in range(crop.y, crop.bottom)
        ]
        anchor = self._anchor()
        if (
            self.sixel
            and anchor is not None
            and crop.y <= anchor < crop.bottom
            and crop.right >= width
            and self.screen.is_active
        ):
            visible = self.screen.find_widget(self).visible_region
            k = anchor - crop.y
            lines[k] = Strip(
                [*lines[k], *_sixel_segments(self.sixel, visible, anchor)], lines[k].cell_length
            )
        return lines

    def _anchor(self) -> int | None:
        """The page's last picture line, inside the widget (see the module's doc)."""
        lay = self.layout_
        if lay is None or lay.rows == 0:
            return None
        y = (lay.rows - 1) * lay.slot_h + lay.thumb_h - 1
        return y if y < self.size.height else self.size.height - 1


def _halfcell_segment(row: np.ndarray) -> list[Segment]:
    """One text row of half-blocks: top pixel as foreground, bottom as background."""
    return [
        Segment("▀", Style(color=Color.from_rgb(*t), bgcolor=Color.from_rgb(*b)))
        for t, b in row.tolist()
    ]


def _sixel_segments(sixel: str, visible: Region, line: int) -> list[Segment]:
    """Draw from the widget's top-left corner, then put the cursor back where the
    compositor left it: just past the end of the anchor line."""
    return [
        Segment(Control.move_to(visible.x, visible.y).segment.text, _NULL),
        Segment(sixel, _NULL, control=((ControlType.CURSOR_FORWARD, 0),)),
        Segment(Control.move_to(visible.right, visible.y + line).segment.text, _NULL),
    ]
