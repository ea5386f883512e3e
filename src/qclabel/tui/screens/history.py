"""Undo/redo for every screen that labels through `self.labeler`.

Undo commits the inverse change through the session, so it is journaled like any label;
when the change belongs to another image the screen jumps there so the user sees it.
"""

from __future__ import annotations

from typing import Callable

from ...core.edits import Change
from ...core.naming import image_name
from ...errors import QclabelError


class UndoRedo:
    def action_undo(self) -> None:
        self._history(self.labeler.undo, "undone")

    def action_redo(self) -> None:
        self._history(self.labeler.redo, "redone")

    def _history(self, step: Callable[[], Change | None], verb: str) -> None:
        try:
            change = step()
        except QclabelError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return
        if change is None:
            self.say(f"nothing to {verb[:-2]}")
            return
        rec = self.labeler.record(change.image)
        self.say(f"{verb}: {image_name(rec) if rec else change.image}")
        self.history_changed()
        lab = self.labeler
        if change.image != lab.current:
            # Go back to that image in the queue as it is: rebuilding the queue would
            # drop the images labeled since (from `unlabeled`), so the counter would
            # jump and `b` could no longer reach them.
            if change.image in lab.queue:
                lab.index = lab.queue.index(change.image)
            else:
                lab.load_queue(lab.queue_name, keep=change.image)
            self.show_image()
        else:
            self.refresh_after_history()

    def history_changed(self) -> None:
        """Hook: labels changed under the screen (undo/redo)."""

    def refresh_after_history(self) -> None:
        """Hook: redraw what shows the current image's labels."""
