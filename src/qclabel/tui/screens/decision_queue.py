"""What the reviewer's and the adjudicator's screens share: a queue of images to
decide on, one picture with overlays, side panels, a message line and a note per image.
Subclasses say which panels they show and how to name the current image."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from ..widgets.overlay import OverlayImageView
from .dialogs import PromptScreen
from .viewer import ImageScreen


class DecisionQueueScreen(ImageScreen):
    SIDE_PANELS: tuple[str, ...] = ("labels",)
    NOTE_PROMPT = ("Note (Enter keeps it)", "")

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[Any] = []
        self.index = 0
        self.notes: dict[str, str] = {}

    def make_image_view(self) -> OverlayImageView:
        return OverlayImageView(self.app.graphics, id="image")

    def side_widgets(self):
        return [Static(id=panel) for panel in self.SIDE_PANELS]

    def current_image(self) -> str | None:
        """The catalog id of the image on screen."""
        raise NotImplementedError

    def redraw(self) -> None:
        """Draw the overlays of the current image."""

    def after_image_change(self) -> None:
        self.refresh_panels()
        self.redraw()

    def after_frame(self) -> None:
        self.redraw()

    def say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#message", Static)
        msg.set_class(error, "error")
        msg.update(text)

    def action_move(self, delta: int) -> None:
        if 0 <= self.index + delta < len(self.queue):
            self.index += delta
            self.say("")
            self.show_image()
        else:
            self.say("end of queue" if delta > 0 else "start of queue")

    def action_note(self) -> None:
        image = self.current_image()
        if image is None:
            return

        def done(note: str | None) -> None:
            if note is not None:
                self.notes[image] = note.strip()
                self.refresh_panels()

        title, placeholder = self.NOTE_PROMPT
        self.app.push_screen(PromptScreen(title, placeholder, self.notes.get(image, "")), done)
