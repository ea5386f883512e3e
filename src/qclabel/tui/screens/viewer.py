"""Base for screens that show one image at a time: frames, prefetch, zoom, pan,
window/level. Subclasses add the labeling keys.

The picture changes only when a ready frame is swapped in. If the frame is not ready
yet, the view says "loading" rather than leaving the previous picture up: a label key
pressed then must never look like it applies to the old image.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from ...core.model import ImageRecord
from ...core.naming import image_name
from ...errors import QclabelError
from ...render import Frame, Viewport
from ..widgets.image_view import ImageView

PREFETCH_AHEAD, PREFETCH_BEHIND = 3, 1
ZOOM_STEP, PAN_STEP = 2.0, 0.25


class FrameReady(Message):
    def __init__(self, token: int, future: Future) -> None:
        super().__init__()
        self.token, self.future = token, future


class ImageScreen(Screen):
    BINDINGS = [
        Binding("z", "zoom(2.0)", "Zoom in", id="view.zoom_in"),
        Binding("minus", "zoom(0.5)", "Zoom out", id="view.zoom_out"),
        Binding("equals_sign", "fit", "Fit", id="view.fit", show=False),
        Binding("h", "pan(-1, 0)", "Pan left", id="view.pan_left", show=False),
        Binding("l", "pan(1, 0)", "Pan right", id="view.pan_right", show=False),
        Binding("k", "pan(0, -1)", "Pan up", id="view.pan_up", show=False),
        Binding("j", "pan(0, 1)", "Pan down", id="view.pan_down", show=False),
        Binding("left_square_bracket", "level(-1)", "Level down", id="view.level_down", show=False),
        Binding("right_square_bracket", "level(1)", "Level up", id="view.level_up", show=False),
        Binding(
            "left_curly_bracket",
            "width(0.8)",
            "Window narrower",
            id="view.window_narrow",
            show=False,
        ),
        Binding(
            "right_curly_bracket", "width(1.25)", "Window wider", id="view.window_wide", show=False
        ),
        Binding("w", "auto_window", "Reset window", id="view.window_auto", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.viewport: Viewport | None = None
        self.window: tuple[float, float] | None = None
        self.frame: Frame | None = None
        self._token = 0

    @property
    def labeler(self):
        """The user's queue and session (the adjudication tools put a draft here)."""
        return self.app.labeler

    @property
    def taxonomy(self):
        return self.app.project.taxonomy

    @property
    def image_view(self) -> ImageView:
        return self.query_one("#image", ImageView)

    # -- layout: the picture on the left, a side column, message, status, footer ------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield self.make_image_view()
            with Vertical(id="side"):
                yield from self.side_widgets()
        yield Static(id="message")
        yield Static(id="statusbar")
        yield Footer()

    def make_image_view(self) -> ImageView:
        return ImageView(self.app.graphics, id="image")

    def side_widgets(self) -> Iterable[Widget]:
        return ()

    def current_record(self) -> ImageRecord | None:
        raise NotImplementedError

    def prefetch_records(self) -> list[ImageRecord]:
        return []

    def on_image_view_resized(self, event: ImageView.Resized) -> None:
        if self.viewport is not None:
            self.viewport = self.viewport.resized(event.cols, event.rows)
        self.show_image(keep_view=True)

    # -- frames ----------------------------------------------------------------------
    def fit_viewport(self, rec: ImageRecord) -> Viewport:
        cols, rows = self.image_view.cells
        return Viewport.fit(rec.width, rec.height, cols, rows, *self.app.cell_px)

    def show_image(self, keep_view: bool = False) -> None:
        """Show the current record's frame (ready now, or when its future completes)."""
        rec = self.current_record()
        self._token += 1
        if rec is None:
            self.frame = None
            self.image_view.show_message(self.empty_text())
            self.after_image_change()
            return
        cols, rows = self.image_view.cells
        if cols <= 0 or rows <= 0:
            return  # not laid out yet; the resize event will call again
        if not keep_view or self.viewport is None or self.viewport.image_w != rec.width:
            self.viewport, self.window = self.fit_viewport(rec), None
        fut = self.app.frames.request(rec, self.viewport, self.window)
        if fut.done():
            self._take(fut)
            # The encoders hold the GIL: start encoding ahead only once this frame is
            # on screen, so the keypress path never waits behind the next image's encode.
            self.call_after_refresh(self.prefetch)
        else:
            self.image_view.show_message(f"loading {image_name(rec)} ...")
            token = self._token
            fut.add_done_callback(lambda f: self.post_message(FrameReady(token, f)))
        self.after_image_change()

    def on_frame_ready(self, event: FrameReady) -> None:
        if event.token == self._token:
            self._take(event.future)
            self.call_after_refresh(self.prefetch)  # not before: see show_image

    def _take(self, fut: Future) -> None:
        try:
            frame = fut.result()
        except QclabelError as exc:
            self.frame = None
            self.image_view.show_message(str(exc))
            return
        self.frame = frame
        if frame.high_bit and self.window is None:
            self.window = frame.window
        self.image_view.show(frame)
        self.after_frame()

    def prefetch(self) -> None:
        cols, rows = self.image_view.cells
        items = [
            (r, Viewport.fit(r.width, r.height, cols, rows, *self.app.cell_px))
            for r in self.prefetch_records()
        ]
        self.app.frames.prefetch(items)

    def after_image_change(self) -> None:
        """Hook: update side panel and status bar."""

    def after_frame(self) -> None:
        """Hook: a new frame is on screen."""

    def empty_text(self) -> str:
        return "no images"

    # -- zoom, pan, window --------------------------------------------------------------
    def action_zoom(self, factor: float) -> None:
        if self.viewport is not None:
            self.viewport = self.viewport.zoomed(factor)
            self.show_image(keep_view=True)

    def action_fit(self) -> None:
        if self.viewport is not None:
            self.viewport = self.viewport.fitted()
            self.show_image(keep_view=True)

    def action_pan(self, dx: int, dy: int) -> None:
        if self.viewport is not None and self.viewport.zoom > 1:
            self.viewport = self.viewport.panned(dx * PAN_STEP, dy * PAN_STEP)
            self.show_image(keep_view=True)

    def _windowed(self) -> bool:
        if self.frame is None or not self.frame.high_bit:
            self.notify("window/level applies to 16-bit images", timeout=2)
            return False
        return True

    def action_level(self, direction: int) -> None:
        if self._windowed():
            c, w = self.window or self.frame.window
            self.window = (c + direction * w * 0.1, w)
            self.show_image(keep_view=True)

    def action_width(self, factor: float) -> None:
        if self._windowed():
            c, w = self.window or self.frame.window
            self.window = (c, max(1.0, w * factor))
            self.show_image(keep_view=True)

    def action_auto_window(self) -> None:
        if self._windowed():
            self.window = None
            self.show_image(keep_view=True)

    def view_status(self) -> str:
        parts = []
        if self.viewport is not None and self.viewport.zoom > 1.001:
            parts.append(f"zoom x{self.viewport.zoom:.1f}")
        if self.frame is not None and self.frame.high_bit and self.window:
            parts.append(f"window {self.window[0]:.0f}/{self.window[1]:.0f}")
        return "  ".join(parts)
