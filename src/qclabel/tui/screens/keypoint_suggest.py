"""Suggested keypoints (imported predictions) in keypoint mode: drawn as hollow
diamonds on a dashed skeleton in the suggestion colour, so they never look like the
operator's own points; `enter` (with no instance being placed) accepts every suggested
keypoint set as one journaled, undoable change, `backspace` rejects them for this
operator."""

from __future__ import annotations

from ...render.cellmap import pixel_cell
from ...render.overlay import Glyph, Overlay, line_cells
from ...render.viewport import Viewport
from .suggest_base import PixelSuggestions

SUGGESTED_POINT, SUGGESTED_BONE = "◇", "┄"
COLOUR = "#ff00ff"  # magenta: the colour suggestions have in every side panel


class KeypointSuggestions(PixelSuggestions):
    """Mixin for `KeypointScreen` (uses its labeler, template, commit, say, redraw)."""

    PART, NOUN = "keypoints", "keypoint sets"

    def placing(self) -> bool:
        """An instance is being placed: a new one was started, or the selected one
        still has points to go. Then `enter` places a point, it does not accept."""
        t = self.template
        if t is None:
            return False
        return self.instance_id == "" or (
            self.instance() is not None and self.point_index < len(t.points)
        )

    def draw_suggestion(self, ov: Overlay, vp: Viewport) -> None:
        s = self.offered_suggestion()
        if s is None:
            return
        skeletons = {t.name: t.skeleton for t in self.taxonomy.keypoint_templates}
        for kps in self.new_suggested(s):
            _draw(ov, vp, kps, skeletons.get(kps.template, ()))

    def after_accept(self) -> None:
        # The accepted points are complete: a second enter must not move point 1.
        self.instance_id = None
        self.point_index = len(self.template.points) if self.template else 0


def _draw(ov: Overlay, vp: Viewport, kps, skeleton) -> None:
    placed = {p.name: p for p in kps.points if p.v > 0}
    for a, b in skeleton:
        if a in placed and b in placed:
            cells = line_cells(
                pixel_cell(vp, placed[a].x, placed[a].y), pixel_cell(vp, placed[b].x, placed[b].y)
            )
            for cell in cells[1:-1]:
                if vp.cell_in_frame(*cell):
                    ov[cell] = Glyph(SUGGESTED_BONE, COLOUR)
    for p in placed.values():
        cell = pixel_cell(vp, p.x, p.y)
        if vp.cell_in_frame(*cell):
            ov[cell] = Glyph(SUGGESTED_POINT, COLOUR)
