"""What box and keypoint mode share about suggestions (imported predictions): which one
is on offer, the side-panel lines, accepting all of it as one journaled change, and
rejecting it. Each mode says which part of the suggestion it handles and draws it."""

from __future__ import annotations

from typing import Any

from ...formats import suggestions as sg
from ..suggesting import KEYS_HINT, accept_edit, offered, reject_on, summary


class PixelSuggestions:
    PART = "boxes"  # the Annotation field this mode handles: "boxes" or "keypoints"
    NOUN = "boxes"

    def offered_suggestion(self) -> sg.Suggestion | None:
        s = offered(self.app.project, self.app.user, self.labeler.current, self.annotation())
        return s if s is not None and getattr(s.annotation, self.PART) else None

    def suggestion_lines(self) -> list[str]:
        s = self.offered_suggestion()
        return [f"suggested ({s.source}): {summary(s)}", KEYS_HINT] if s else []

    def new_suggested(self, s: sg.Suggestion) -> list[Any]:
        """The suggested items the operator does not have yet."""
        mine = set(getattr(self.annotation(), self.PART))
        return [item for item in getattr(s.annotation, self.PART) if item not in mine]

    def accept_suggestion(self) -> bool:
        """Accept everything suggested; False when nothing is on offer."""
        s = self.offered_suggestion()
        if s is None:
            return False
        new = self.new_suggested(s)
        if self.may_accept(new) and self.commit(
            accept_edit(s),
            what=f"accepted {len(new)} suggested {self.NOUN} from {s.source}",
            note=sg.accept_note(s),
        ):
            self.after_accept()
        self.redraw()
        return True

    def may_accept(self, new: list[Any]) -> bool:
        """Hook: refuse (and say why) before anything is written."""
        return True

    def after_accept(self) -> None:
        """Hook: reset the tool's state once the suggestion is labels."""

    def action_reject_suggestion(self) -> None:
        if reject_on(self, self.offered_suggestion()):
            self.redraw()
