"""Base for the pixel tools (box, keypoint, assembly): a cursor in canonical-image
pixels, zoom around it, a jump grid, the loupe, and the text-layer overlay.

The cursor is an integer image pixel. Arrow keys / hjkl move it one display cell
(whatever that is in pixels at the current zoom), shift moves ten cells, ctrl one
image pixel. `g` + column letter + row letter jumps across the picture; `g` again
right after it reaches the exact pixel (screens/jumping.py). Zooming crops
the full-resolution image around the cursor, and the loupe shows the pixels under it,
so an edge can be put on an exact pixel at any zoom level.
"""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from ...core import edits
from ...core.boxedit import clamp_point
from ...core.model import Annotation, ImageRecord
from ...errors import QclabelError
from ...render import cellmap as cm
from ...render.loupe import full_pixels, loupe
from ...render.overlay import Overlay, draw_cursor
from ...render.viewport import Viewport
from ..widgets.loupe import Loupe
from ..widgets.panels import consistency_note
from ..widgets.overlay import OverlayImageView
from .history import UndoRedo
from .jumping import JumpKeys
from .pointer_keys import cursor_bindings
from .viewer import PREFETCH_AHEAD, ImageScreen


class PixelsReady(Message):
    def __init__(self, image_id: str, future: Future) -> None:
        super().__init__()
        self.image_id, self.future = image_id, future


class PointerScreen(UndoRedo, JumpKeys, ImageScreen):
    BINDINGS = (
        cursor_bindings()
        + [
            Binding("g", "jump_grid", "Jump", id="pointer.jump"),
            Binding("z", "zoom_level(1)", "Zoom in", id="pointer.zoom_in"),
            Binding("minus", "zoom_level(-1)", "Zoom out", id="pointer.zoom_out"),
            Binding("equals_sign", "zoom_level(-99)", "Fit", id="pointer.fit", show=False),
            Binding("n", "image(1)", "Next image", id="pointer.next"),
            Binding("b", "image(-1)", "Prev image", id="pointer.back"),
            Binding("u", "undo", "Undo", id="pointer.undo"),
            Binding("r", "redo", "Redo", id="pointer.redo"),
            Binding("ctrl+o", "toggle_outlines", "Outlines on/off", id="pointer.outlines"),
        ]
        + [b for b in ImageScreen.BINDINGS if b.id and b.id.startswith("view.w")]
    )

    def __init__(self) -> None:
        super().__init__()
        self.cursor: tuple[int, int] = (0, 0)
        self.image_id: str | None = None
        self.reset_jump()
        self.rgb: np.ndarray | None = None  # full-resolution pixels of the image
        self.outlines_hidden = False  # ctrl+o: the bare picture (cursor stays)

    # -- layout ------------------------------------------------------------------------
    def make_image_view(self) -> OverlayImageView:
        return OverlayImageView(self.app.graphics, id="image")

    def side_widgets(self):
        return (Loupe(id="loupe"), Static(id="tool"))

    @property
    def record(self) -> ImageRecord | None:
        return self.labeler.record()

    def annotation(self) -> Annotation:
        return self.labeler.annotation()

    def current_record(self) -> ImageRecord | None:
        return self.labeler.record()

    def prefetch_records(self) -> list[ImageRecord]:
        lab = self.labeler
        return [lab.record(i) for i in lab.queue[lab.index + 1 : lab.index + 1 + PREFETCH_AHEAD]]

    def say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#message", Static)
        msg.set_class(error, "error")
        msg.update(text)

    # -- image changes -------------------------------------------------------------------
    def after_image_change(self) -> None:
        rec = self.record
        if rec is not None and rec.id != self.image_id:
            self.image_id = rec.id
            self.cursor = (rec.width // 2, rec.height // 2)
            self.rgb = None
            self.reset_tool()
            self._load_pixels(rec)
            if self.frame is not None and self.frame.image_id == rec.id:
                # A prefetched frame was shown before this hook ran: replay its hook.
                self.app.background(self.labeler.save_position)
                self.after_frame()
                return
        self.app.background(self.labeler.save_position)
        self.redraw()

    def after_frame(self) -> None:
        self.redraw()

    def _load_pixels(self, rec: ImageRecord) -> None:
        """Full-resolution pixels for the loupe and edge snapping, off the UI thread."""
        fut = self.app.frames.submit(lambda: full_pixels(rec, self.app.project.root))
        fut.add_done_callback(lambda f: self.post_message(PixelsReady(rec.id, f)))

    def on_pixels_ready(self, event: "PixelsReady") -> None:
        if event.image_id == self.image_id and event.future.exception() is None:
            self.rgb = event.future.result()
            self.redraw()

    def load_pixels_now(self) -> np.ndarray | None:
        """Block for the pixels (tests, and snapping before the worker finished)."""
        rec = self.record
        if self.rgb is None and rec is not None:
            self.rgb = full_pixels(rec, self.app.project.root)
        return self.rgb

    # -- drawing -------------------------------------------------------------------------
    @property
    def shown_viewport(self) -> Viewport | None:
        """The mapping of the picture on screen (overlays must match it, not the one
        being loaded); None while the current image's picture is not shown."""
        frame, rec = self.query_one("#image", OverlayImageView).frame, self.record
        if frame is None or rec is None or frame.image_id != rec.id:
            return None
        return frame.viewport

    def redraw(self) -> None:
        vp = self.shown_viewport
        view = self.query_one("#image", OverlayImageView)
        if vp is None or self.record is None:
            view.set_overlay({})
        else:
            ov = Overlay()
            if not self.outlines_hidden:
                self.draw_tool(ov, vp)
            draw_cursor(ov, vp, *self.cursor)
            self.jump_rulers(ov, vp)
            view.set_overlay(ov)
        self.query_one("#loupe", Loupe).show(
            loupe(self.rgb, *self.cursor, boxes=self.loupe_boxes())
            if self.rgb is not None
            else None
        )
        self.query_one("#tool", Static).update(self.tool_text())
        self.query_one("#statusbar", Static).update(self.status_text())

    def status_text(self) -> str:
        lab = self.labeler
        done, total = lab.done_total()
        x, y = self.cursor
        note = consistency_note(lab.annotation(), self.taxonomy)
        return (
            f"{lab.index + 1}/{len(lab.queue)}  done {done}/{total}  "
            f"x {x} y {y}  {self.view_status()}"
            + (f"  {note}" if note else "")
            + ("  outlines off (ctrl+o)" if self.outlines_hidden else "")
        )

    # hooks for the tools
    def reset_tool(self) -> None: ...

    def draw_tool(self, ov: Overlay, vp: Viewport) -> None: ...

    def tool_text(self) -> str:
        return ""

    def loupe_boxes(self) -> tuple:
        return ()

    def cursor_moved(self) -> None:
        """Hook: the cursor moved (a tool that drags something follows it)."""

    # -- cursor ----------------------------------------------------------------------------
    def step_px(self, unit: str) -> tuple[int, int]:
        # The view the keys act in is `self.viewport` (set the moment an image or zoom
        # changes), not the picture still on screen: a key typed while the next picture
        # loads then does what it does once that picture is there.
        if unit == "pixel" or self.viewport is None:
            return (1, 1)
        sx, sy = cm.step(self.viewport)
        return (sx * 10, sy * 10) if unit == "ten" else (sx, sy)

    def action_nudge(self, dx: int, dy: int, unit: str) -> None:
        sx, sy = self.step_px(unit)
        self.move_cursor(self.cursor[0] + dx * sx, self.cursor[1] + dy * sy)

    def move_cursor(self, x: int, y: int) -> None:
        rec = self.record
        if rec is None:
            return
        self.cursor = clamp_point(x, y, rec.width, rec.height)
        self.cursor_moved()
        if self.viewport is not None:
            followed = cm.follow(self.viewport, *self.cursor)
            if followed != self.viewport:
                self.viewport = followed
                self.show_image(keep_view=True)
                return
        self.redraw()

    def action_toggle_outlines(self) -> None:
        self.outlines_hidden = not self.outlines_hidden
        self.redraw()

    def action_zoom_level(self, delta: int) -> None:
        if self.viewport is None:
            return
        level = cm.level_of(self.viewport) + delta
        self.viewport = cm.zoom_to(self.viewport, level, self.cursor)
        self.show_image(keep_view=True)

    def on_key(self, event: events.Key) -> None:
        if event.key not in self.app.keys_of("pointer.jump", "g"):
            self.refine = None  # `g` continues a jump only right after its landing
        if self.jumping is None or not self.jump_key(event):
            self.tool_key(event)

    def tool_key(self, event: events.Key) -> None:
        """Hook: keys that are data (class hotkeys), before the bindings."""

    # -- mouse: a click puts the cursor on the pixel under the pointer --------------------------
    def on_mouse_up(self, event: events.MouseUp) -> None:
        pixel = self.pixel_at(event)
        if pixel is not None:
            self.move_cursor(*pixel)

    def pixel_at(self, event: events.MouseEvent) -> tuple[int, int] | None:
        view = self.query_one("#image", OverlayImageView)
        offset = event.get_content_offset(view)
        vp = self.shown_viewport
        if offset is None or vp is None or not vp.cell_in_frame(offset.x, offset.y):
            return None
        return cm.cell_pixel(vp, offset.x, offset.y)

    # -- images and history ------------------------------------------------------------------
    def action_image(self, delta: int) -> None:
        if self.labeler.move(delta):
            self.say("")
            self.show_image()
        else:
            self.say("end of queue" if delta > 0 else "start of queue")

    def commit(
        self, *edit_fns: edits.Edit, what: str, note: str | None = None, group: str | None = None
    ) -> bool:
        """Journal the change (fsync) before saying saved. False if it failed.
        Consecutive commits of one `group` undo as one step."""
        image = self.labeler.current
        try:
            self.labeler.apply(image, *edit_fns, note=note, group=group)
        except QclabelError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return False
        self.say(f"saved: {what}")
        return True

    def refresh_after_history(self) -> None:
        self.redraw()

    def history_changed(self) -> None:
        """Hook: labels changed under the tool (undo/redo): drop stale selections."""
