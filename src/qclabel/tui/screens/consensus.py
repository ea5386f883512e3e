"""Sending the image on screen to consensus review from a labeling screen: the
annotator is unsure the taxonomy covers the case, so the adjudicators decide.

The request is a `consensus` event in the annotator's own journal
(`qa.decisions.request_consensus`), saved before the screen says so; the labels of the
image are untouched.
"""

from __future__ import annotations

from ...errors import QclabelError
from ...qa.decisions import request_consensus
from .dialogs import PromptScreen


class ConsensusRequest:
    """Mixin for a labeling screen with a `labeler` and `say` (its Screen subclass
    declares the binding: Textual reads BINDINGS from Screen classes only)."""

    def action_request_consensus(self) -> None:
        image = self.labeler.current
        if image is None:
            self.say("no image to send to consensus review")
            return

        def done(note: str | None) -> None:
            if note is None:  # escape: nothing sent, nothing to say
                return
            try:  # an empty note is refused by request_consensus, like in the CLI
                request_consensus(self.app.project, self.app.session, image, note)
            except QclabelError as exc:
                self.say(f"NOT saved: {exc}", error=True)
                return
            self.say(f"sent to consensus review: {note.strip()}")

        self.app.push_screen(
            PromptScreen(
                "Why does this image need consensus review? (Enter sends, Esc cancels)",
                "e.g. a defect the taxonomy does not name",
            ),
            done,
        )
