"""Edit one image's final label with the ordinary labeling tools.

`FinalDraft` has the shape of the labeling app's `Labeler` (one image in its queue,
`annotation`, `apply`, `undo`, `redo`), so the box and keypoint screens can work on it
unchanged. It starts from annotator A's or B's labels; every edit is an adjudication
(a journaled `final` event with source "edited" and the adjudicator's note), so the
final label on disk is always the last thing the adjudicator did - nothing waits in
memory to be lost.
"""

from __future__ import annotations

from ..core import edits
from ..core.edits import Change, UndoStack
from ..core.model import EMPTY, Annotation, ImageRecord
from ..project import Project
from ..store import AnnotatorSession
from .decisions import adjudicate


class FinalDraft:
    queue_name = "adjudication"

    def __init__(
        self,
        project: Project,
        session: AnnotatorSession,
        image: str,
        start: Annotation,
        start_side: str,
        note: str | None = None,
    ):
        self.project, self.session = project, session
        self.queue, self.index = [image], 0
        self.draft = start
        self.note = note or f"edited from {start_side}'s labels"
        self.undo_stack = UndoStack()
        self.decisions = 0

    @property
    def user(self) -> str:
        return self.session.user

    @property
    def current(self) -> str:
        return self.queue[0]

    def record(self, image_id: str | None = None) -> ImageRecord:
        return self.project.store.catalog.get(image_id or self.current)

    def annotation(self, image_id: str | None = None) -> Annotation:
        return self.draft if (image_id or self.current) == self.current else EMPTY

    # One image only: navigation is a no-op the tools report as "end of queue".
    def move(self, delta: int) -> bool:
        return False

    def jump(self, ref: str) -> bool:
        return False

    def load_queue(self, name: str, keep: str | None = None) -> None:
        """Nothing to reload: the queue is this one image."""

    def save_position(self) -> None:
        """The adjudication queue keeps no position."""

    def done_total(self) -> tuple[int, int]:
        return (1 if self.decisions else 0), 1

    def labels_per_hour(self, now: float | None = None) -> float:
        return 0.0

    def apply(
        self,
        image_id: str,
        *edit_fns: edits.Edit,
        note: str | None = None,
        group: str | None = None,
    ) -> Change:
        change = edits.apply(image_id, self.draft, *edit_fns)
        change = Change(image_id, change.before, self._decide(change.after))
        self.undo_stack.push(change, group)
        return change

    def undo(self) -> Change | None:
        change = self.undo_stack.undo()
        if change is not None:
            self._decide(change.after)
        return change

    def redo(self) -> Change | None:
        change = self.undo_stack.redo()
        if change is not None:
            self._decide(change.after)
        return change

    def _decide(self, annotation: Annotation) -> Annotation:
        """Record it as the final label; returns it as recorded (with what the taxonomy
        fills in, such as a class's only severity)."""
        event = adjudicate(
            self.project, self.session, self.current, "edited", annotation, self.note
        )
        self.draft = Annotation.from_dict(event["after"]["annotation"])
        self.decisions += 1
        return self.draft
