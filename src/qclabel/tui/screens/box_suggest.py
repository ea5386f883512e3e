"""Suggested boxes (imported predictions) in box mode: drawn dashed with rounded
corners in the class colour, so they never look like the operator's own boxes;
`enter` (with no box being drawn or edited) accepts all of them as one journaled,
undoable change, `backspace` rejects them for this operator."""

from __future__ import annotations

from ...core.model import Box
from ...render.overlay import Overlay, draw_box
from ...render.viewport import Viewport
from .suggest_base import PixelSuggestions


class BoxSuggestions(PixelSuggestions):
    """Mixin for `BoxScreen` (uses its labeler, commit, colour, say and redraw)."""

    PART, NOUN = "boxes", "boxes"

    def draw_suggestion(self, ov: Overlay, vp: Viewport) -> None:
        s = self.offered_suggestion()
        if s is None:
            return
        for b in self.new_suggested(s):
            draw_box(ov, vp, b, self.colour(b.cls), "suggested")

    def may_accept(self, new: list[Box]) -> bool:
        return all(self._allowed(b) for b in new)  # the class minimum applies to models too

    def after_accept(self) -> None:
        self.selected = None
