"""The image widget: shows one display frame from `qclabel.render`.

The renderer is forced (never left to textual-image's import-time guess): half-cell
and unicode frames arrive as ready-made cells, sixel as the string the prefetch threads
encoded; kitty uses textual-image's TGP renderable. Only kitty imports
`textual_image.renderable`, whose import probes the terminal: a forced half-cell or
unicode mode never sends the probe (it shows up in tmux's title bar).

Sixel is sent once per frame. textual-image's own sixel widget recomposes a child on
every image change and re-emits on each of the ~3 repaints that follow; this widget
keeps a fixed size (so an image change is one `refresh()` and one `render_lines`) and
counts what it sends (`sent`), which the tests and benchmarks assert on. Text-layer
updates elsewhere on the screen do not repaint it.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.control import Control
from rich.padding import Padding
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ...render.frames import Frame
from .encoded_strip import EncodedStrip

_NULL = Style()


def colour_system(console) -> str:
    """The colour system Textual renders in (no system detected: truecolor, as
    `Strip.render` does)."""
    return console.color_system or "truecolor"


class ImageView(Widget):
    """A fixed-size area showing one frame, centred as its viewport says."""

    DEFAULT_CSS = "ImageView { width: 1fr; height: 1fr; }"

    class Resized(Message):
        """The cell area changed: the owner builds frames for the new size."""

        def __init__(self, view: "ImageView", cols: int, rows: int) -> None:
            super().__init__()
            self.view, self.cols, self.rows = view, cols, rows

    def __init__(self, graphics: str, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.graphics = graphics
        self.frame: Frame | None = None
        self.message_text = ""
        self.sent = 0  # frames written to the terminal (sixel) or rendered (text modes)
        self._renderable = None  # kitty: the TGP renderable of the current frame
        self._strips: dict[int, Strip] | None = None  # text rows of the frame (kitty too)
        self._kitty_id: int | None = None  # the terminal image of the current frame

    # -- API for screens ------------------------------------------------------------
    def show(self, frame: Frame | None) -> None:
        if frame is self.frame:
            return
        self._drop_cached()
        self.frame, self.message_text = frame, ""
        self.refresh()

    def show_message(self, text: str) -> None:
        """A line of text instead of a picture (missing file, decode error, end of queue)."""
        self._drop_cached()
        self.frame, self.message_text = None, text
        self.refresh()

    def _drop_cached(self) -> None:
        if self._renderable is not None:
            self._renderable.renderable.cleanup()  # kitty: delete the old image
        if self._kitty_id is not None:
            from .kitty_upload import delete_upload

            delete_upload(self._kitty_id)
        self._renderable, self._strips, self._kitty_id = None, None, None

    @property
    def cells(self) -> tuple[int, int]:
        return (self.content_size.width, self.content_size.height)

    def on_mount(self) -> None:
        frames = getattr(self.app, "frames", None)
        if frames is not None:  # half-cell rows are encoded ahead in these colours
            frames.colours = colour_system(self.app.console)

    def on_resize(self) -> None:
        self.post_message(self.Resized(self, *self.cells))

    # -- text-layer renderers ---------------------------------------------------------
    def render(self):
        if self.frame is None:
            return self.message_text
        if self.graphics != "kitty":
            return ""  # sixel and text rows are drawn in render_lines / render_line
        if self._renderable is None:
            vp = self.frame.viewport
            cols, rows = vp.frame_cells
            from .kitty_upload import PreEncodedTGP  # kitty only: its import probes

            inner = PreEncodedTGP(
                self.frame.picture, self.frame.kitty, self.frame.kitty_size, width=cols, height=rows
            )
            self._renderable = Padding(inner, (vp.offset[1], 0, 0, vp.offset[0]))
            self.sent += 1
        return self._renderable

    def render_line(self, y: int) -> Strip:
        """One line as the screen shows it. Textual asks for single lines on mouse hit
        tests; a picture drawn by `render_lines` (pre-built text rows, sixel: every
        renderer but kitty) must answer from there, never through `render()`, so a
        click neither builds a kitty upload nor sees an empty line."""
        if self.frame is not None and (self.graphics != "kitty" or self._kitty_ready()):
            return self.render_lines(Region(0, y, self.size.width, 1))[0]
        return super().render_line(y)

    # -- sixel: inject the pre-encoded frame -------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        if self.frame is not None and (
            self.frame.cells is not None or self.frame.halfcell is not None or self._kitty_ready()
        ):
            return self._cell_lines(crop)
        if self.graphics != "sixel" or self.frame is None or not self.frame.sixel:
            return super().render_lines(crop)
        style = Style(bgcolor=self.background_colors[1].rich_color)
        blank = Segment(" " * crop.width, style)
        lines = [Strip([blank], crop.width) for _ in range(crop.height)]
        if not self.screen.is_active or not self._covers_frame(crop) or self._stale():
            return lines
        lines[-1] = Strip([blank, *self._sixel_segments()], crop.width)
        self.sent += 1
        return lines

    def _cell_lines(self, crop: Region) -> list[Strip]:
        """The pre-built text rows, placed at the viewport's offset, in the widget's
        colours (half-cells carry their own)."""
        base = self.rich_style
        width = self.content_size.width
        if self._strips is None:  # the frame's strips, built once per frame
            self._strips = self._build_strips(base, width)
            self.sent += 1
        blank = Strip.blank(width, base)
        return [
            self._strips.get(y, blank).crop(crop.x, crop.right) for y in range(crop.y, crop.bottom)
        ]

    def _kitty_ready(self) -> bool:
        """Kitty with the upload the prefetch built for the terminal's cell size: the
        widget sends it and draws the placeholder rows itself (textual-image's
        renderable, the fallback, costs 40-100 ms of Rich rendering at the key)."""
        frame = self.frame
        if self.graphics != "kitty" or frame is None or frame.kitty is None:
            return False
        from textual_image._terminal import get_cell_size

        cell = get_cell_size()
        cols, rows = frame.viewport.frame_cells
        return frame.kitty_size == (cols * cell.width, rows * cell.height)

    def _kitty_strips(self, base: Style, width: int, pad: list[Segment]) -> dict[int, Strip]:
        from .kitty_upload import id_style, placeholder_rows, send_upload

        (cols, rows), (oc, orow) = self.frame.viewport.frame_cells, self.frame.viewport.offset
        if self._kitty_id is None:
            self._kitty_id = send_upload(self.frame.kitty, cols, rows)
        style = base + id_style(self._kitty_id)
        tail = [Segment(" " * (width - oc - cols), base)] if width > oc + cols else []
        return {
            orow + r: Strip(pad + [Segment(text, style)] + tail, max(width, oc + cols))
            for r, text in enumerate(placeholder_rows(cols, rows, self._kitty_id >> 24))
        }

    def _build_strips(self, base: Style, width: int) -> dict[int, Strip]:
        oc, orow = self.frame.viewport.offset
        pad = [Segment(" " * oc, base)] if oc > 0 else []
        if self.frame.kitty is not None:
            return self._kitty_strips(base, width, pad)
        rows = self.frame.halfcell
        if rows is None:  # unicode shades: the widget's colours apply
            return {
                orow + r: Strip(pad + row).apply_style(base).extend_cell_length(width, base)
                for r, row in enumerate(self.frame.cells)
            }
        console = self.app.console
        tail_len = width - oc - rows.pairs.shape[1]
        tail = [Segment(" " * tail_len, base)] if tail_len > 0 else []
        head, end = Strip(pad).render(console), Strip(tail).render(console)
        cell_length = max(width, oc + rows.pairs.shape[1])

        def build(r: int) -> Callable[[], list[Segment]]:
            return lambda: pad + rows.segments(r) + tail

        return {
            orow + r: EncodedStrip(build(r), cell_length, head + ansi + end)
            for r, ansi in enumerate(rows.rows(colour_system(console)))
        }

    def _stale(self) -> bool:
        """A frame made for another widget size (a resize is in progress): its
        replacement is being built; sending this one would cost a frame for nothing."""
        vp = self.frame.viewport
        return (vp.cols, vp.rows) != self.cells

    def _covers_frame(self, crop: Region) -> bool:
        (oc, orow), (fc, fr) = self.frame.viewport.offset, self.frame.viewport.frame_cells
        return crop.contains_region(Region(oc, orow, fc, fr))

    def _sixel_segments(self) -> list[Segment]:
        visible = self.screen.find_widget(self).visible_region
        oc, orow = self.frame.viewport.offset
        return [
            Segment(Control.move_to(visible.x + oc, visible.y + orow).segment.text, _NULL),
            Segment(self.frame.sixel, _NULL, control=((ControlType.CURSOR_FORWARD, 0),)),
            # Textual continues the last line after this strip: put the cursor back there.
            Segment(Control.move_to(visible.right, visible.bottom - 1).segment.text, _NULL),
        ]
