"""The box and keypoint tools on a final label: the same screens annotators use, driven
by a `qa.final_draft.FinalDraft` instead of the app's labeler, so every edit becomes an
adjudication. F10 (or ctrl+x) returns to the adjudication queue."""

from __future__ import annotations

from textual.binding import Binding

from ...qa.final_draft import FinalDraft
from .box import BoxScreen
from .keypoint import KeypointScreen

DONE = [Binding("f10,ctrl+x", "done", "Back to adjudication", id="adjudicate_tools.done")]


class _OnDraft:
    """The pixel tools, pointed at the adjudicator's draft instead of a journal: every
    edit becomes part of the final label, handed back when the tool is done. (Each
    screen still declares BINDINGS itself: Textual reads them from Screen subclasses
    only, not from mixins.)"""

    def __init__(self, draft: FinalDraft) -> None:
        self.draft = draft
        super().__init__()

    @property
    def labeler(self) -> FinalDraft:
        return self.draft

    def action_done(self) -> None:
        self.dismiss(self.draft.decisions)


class FinalBoxScreen(_OnDraft, BoxScreen):
    HELP_TITLE = "boxes (final label)"
    BINDINGS = DONE


class FinalKeypointScreen(_OnDraft, KeypointScreen):
    HELP_TITLE = "keypoints (final label)"
    BINDINGS = DONE
