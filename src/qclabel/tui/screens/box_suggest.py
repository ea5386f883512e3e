"""Suggested boxes (imported predictions) in box mode: drawn dashed with rounded
corners in the class colour, so they never look like the operator's own boxes;
`enter` (with no box being drawn or edited) accepts all of them as one journaled,
undoable change, `backspace` rejects them for this operator."""

from __future__ import annotations

from ...formats import suggestions as sg
from ...render.overlay import Overlay, draw_box
from ...render.viewport import Viewport
from ..suggesting import KEYS_HINT, accept_edit, offered, reject_on, summary


class BoxSuggestions:
    """Mixin for `BoxScreen` (uses its labeler, commit, colour, say and redraw)."""

    def offered_suggestion(self) -> sg.Suggestion | None:
        s = offered(self.app.project, self.app.user, self.labeler.current, self.annotation())
        return s if s is not None and s.annotation.boxes else None

    def draw_suggestion(self, ov: Overlay, vp: Viewport) -> None:
        s = self.offered_suggestion()
        if s is None:
            return
        mine = set(self.boxes)
        for b in s.annotation.boxes:
            if b not in mine:
                draw_box(ov, vp, b, self.colour(b.cls), "suggested")

    def suggestion_lines(self) -> list[str]:
        s = self.offered_suggestion()
        return [f"suggested ({s.source}): {summary(s)}", KEYS_HINT] if s else []

    def accept_suggestion(self) -> bool:
        """Accept every suggested box; False when nothing is on offer."""
        s = self.offered_suggestion()
        if s is None:
            return False
        new = [b for b in s.annotation.boxes if b not in set(self.boxes)]
        if not all(self._allowed(b) for b in new):  # the class minimum applies to models too
            self.redraw()
            return True
        n = len(new)
        if self.commit(accept_edit(s), what=f"accepted {n} suggested boxes from {s.source}",
                       note=sg.accept_note(s)):
            self.selected = None
        self.redraw()
        return True

    def action_reject_suggestion(self) -> None:
        if reject_on(self, self.offered_suggestion()):
            self.redraw()
