"""The box and keypoint tools on a final label: the same screens annotators use, driven
by a `qa.final_draft.FinalDraft` instead of the app's labeler, so every edit becomes an
adjudication. F10 (or ctrl+x) returns to the adjudication queue."""

from __future__ import annotations

from textual.binding import Binding

from ...qa.final_draft import FinalDraft
from .box import BoxScreen
from .keypoint import KeypointScreen

DONE = [Binding("f10,ctrl+x", "done", "Back to adjudication", id="adjudicate_tools.done")]


class FinalBoxScreen(BoxScreen):
    HELP_TITLE = "boxes (final label)"
    BINDINGS = DONE

    def __init__(self, draft: FinalDraft) -> None:
        self.draft = draft
        super().__init__()

    @property
    def labeler(self) -> FinalDraft:
        return self.draft

    def action_done(self) -> None:
        self.dismiss(self.draft.decisions)


class FinalKeypointScreen(KeypointScreen):
    HELP_TITLE = "keypoints (final label)"
    BINDINGS = DONE

    def __init__(self, draft: FinalDraft) -> None:
        self.draft = draft
        super().__init__()

    @property
    def labeler(self) -> FinalDraft:
        return self.draft

    def action_done(self) -> None:
        self.dismiss(self.draft.decisions)
