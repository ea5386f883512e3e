"""Suggested keypoints (imported predictions) in keypoint mode: drawn as hollow
diamonds on a dashed skeleton in the suggestion colour, so they never look like the
operator's own points; `enter` (with no instance being placed) accepts every suggested
keypoint set as one journaled, undoable change, `backspace` rejects them for this
operator."""

from __future__ import annotations

from ...formats import suggestions as sg
from ...render.cellmap import pixel_cell
from ...render.overlay import Glyph, Overlay, line_cells
from ...render.viewport import Viewport
from ..suggesting import KEYS_HINT, accept_edit, offered, reject_on, summary

SUGGESTED_POINT, SUGGESTED_BONE = "◇", "┄"
COLOUR = "#ff00ff"   # magenta: the colour suggestions have in every side panel


class KeypointSuggestions:
    """Mixin for `KeypointScreen` (uses its labeler, template, commit, say, redraw)."""

    def offered_suggestion(self) -> sg.Suggestion | None:
        s = offered(self.app.project, self.app.user, self.labeler.current, self.annotation())
        return s if s is not None and s.annotation.keypoints else None

    def placing(self) -> bool:
        """An instance is being placed: a new one was started, or the selected one
        still has points to go. Then `enter` places a point, it does not accept."""
        t = self.template
        if t is None:
            return False
        return self.instance_id == "" or (self.instance() is not None
                                          and self.point_index < len(t.points))

    def draw_suggestion(self, ov: Overlay, vp: Viewport) -> None:
        s = self.offered_suggestion()
        if s is None:
            return
        skeletons = {t.name: t.skeleton for t in self.taxonomy.keypoint_templates}
        mine = set(self.annotation().keypoints)
        for kps in s.annotation.keypoints:
            if kps not in mine:
                _draw(ov, vp, kps, skeletons.get(kps.template, ()))

    def suggestion_lines(self) -> list[str]:
        s = self.offered_suggestion()
        return [f"suggested ({s.source}): {summary(s)}", KEYS_HINT] if s else []

    def accept_suggestion(self) -> bool:
        """Accept every suggested keypoint set; False when nothing is on offer."""
        s = self.offered_suggestion()
        if s is None:
            return False
        n = sum(k not in set(self.annotation().keypoints) for k in s.annotation.keypoints)
        if self.commit(accept_edit(s), what=f"accepted {n} suggested keypoint sets from "
                       f"{s.source}", note=sg.accept_note(s)):
            # The accepted points are complete: a second enter must not move point 1.
            self.instance_id = None
            self.point_index = len(self.template.points) if self.template else 0
        self.redraw()
        return True

    def action_reject_suggestion(self) -> None:
        if reject_on(self, self.offered_suggestion()):
            self.redraw()


def _draw(ov: Overlay, vp: Viewport, kps, skeleton) -> None:
    placed = {p.name: p for p in kps.points if p.v > 0}
    for a, b in skeleton:
        if a in placed and b in placed:
            cells = line_cells(pixel_cell(vp, placed[a].x, placed[a].y),
                               pixel_cell(vp, placed[b].x, placed[b].y))
            for cell in cells[1:-1]:
                if vp.cell_in_frame(*cell):
                    ov[cell] = Glyph(SUGGESTED_BONE, COLOUR)
    for p in placed.values():
        cell = pixel_cell(vp, p.x, p.y)
        if vp.cell_in_frame(*cell):
            ov[cell] = Glyph(SUGGESTED_POINT, COLOUR)
