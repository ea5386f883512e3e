"""The labeling session behind every screen: queue, position, durable commits, undo.

No Textual in here, so the rules (what a queue holds, where a session resumes, that a
label is journaled and fsynced before anyone calls it saved) are unit-testable.

Resume: the image on screen is remembered per user in `labels/<user>.ui.json` (a
document in the project store, written atomically on every image change). Reopening
puts that image back in the queue, at its catalog position, and starts there.
"""

from __future__ import annotations

import time

import numpy as np
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..core import consistency, edits
from ..core.edits import Change, UndoStack
from ..core.model import Annotation, ImageRecord
from ..core.queue_filter import QueueSpec, Term, parse_queue
from ..project import Project
from ..store import AnnotatorSession
from ..store.catalog_queue import CatalogQueue, member, seq_ids, seqs_of, sorted_seqs
from . import queues

QUEUES = ("unlabeled", "mine", "flagged", "all", "plan")
POSITION_DOC = "position"
DONE = ("labeled", "flagged")


def queue_ids(
    project: Project,
    session: AnnotatorSession,
    name: str,
    spec: QueueSpec | None = None,
    own_seqs: dict[str, int] | None = None,
    done_seqs: "np.ndarray | None" = None,
) -> Sequence[str]:
    """Image ids of a queue, in catalog order (lazy: see store.catalog_queue).

    unlabeled: images this annotator has not labeled (skipped ones stay in it)
    mine:      images this annotator labeled or flagged
    flagged:   images anyone flagged as unsure
    all:       the whole catalog
    plan:      the images the QA plan gives this annotator to label, not yet labeled
    `spec`'s filters (core.queue_filter) apply too.
    """
    if name not in QUEUES:
        raise ValueError(f"queue must be one of {QUEUES}, not {name!r}")
    spec = (spec or QueueSpec(name)).with_name(name)
    if name == "plan":
        from ..qa.plan import queue_items

        ids = [i.image for i in queue_items(project, session.user) if i.role == "annotator"]
        return queues.filtered_list(project, session, ids, spec) if spec.terms else ids
    return queues.build_queue(project, session, spec, own_seqs, done_seqs)


def _valid(spec: object) -> bool:
    """A saved spec that still parses (a hand-edited or older ui file may not)."""
    try:
        parse_queue(spec if isinstance(spec, str) else None, QUEUES)
    except ValueError:
        return False
    return isinstance(spec, str)


@dataclass
class Labeler:
    """One annotator's labeling on one project (owns the undo stack)."""

    project: Project
    session: AnnotatorSession
    queue_name: str = "unlabeled"
    queue: Sequence[str] = field(default_factory=list)
    queue_terms: tuple[Term, ...] = ()  # filters on the queue (core.queue_filter)
    index: int = 0
    undo_stack: UndoStack = field(default_factory=UndoStack)
    started: float = field(default_factory=time.monotonic)
    labeled_here: set[str] = field(default_factory=set)
    _done: set[str] | None = field(default=None, repr=False)
    _done_for: Sequence[str] | None = field(default=None, repr=False)
    _own_seqs: dict[str, int] | None = field(default=None, repr=False)
    _done_seqs: tuple[object, np.ndarray] | None = field(default=None, repr=False)
    _own: tuple[object, dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def user(self) -> str:
        return self.session.user

    # -- queue and position ---------------------------------------------------------
    @property
    def queue_spec(self) -> QueueSpec:
        return QueueSpec(self.queue_name, self.queue_terms)

    def load_queue(self, spec: str, keep: str | None = None) -> None:
        """Rebuild the queue from a spec (a queue name and/or filters, see
        core.queue_filter; no name keeps the current one); `keep` (an image id) stays in
        it and becomes current. ValueError for a malformed spec."""
        parsed = parse_queue(spec, QUEUES)
        name = parsed.name or self.queue_name
        ids = queue_ids(self.project, self.session, name, parsed, None, self.done_seqs())
        catalog = self.project.store.catalog
        if keep and keep not in ids and keep in catalog:
            if isinstance(ids, CatalogQueue):
                ids = ids.with_seq(seqs_of(catalog, [keep])[keep])
            else:
                order = {i: n for n, i in enumerate(catalog.ids())}
                ids = sorted([*ids, keep], key=order.__getitem__)
        self.queue_name, self.queue_terms, self.queue = name, parsed.terms, ids
        self.index = ids.index(keep) if keep and keep in ids else 0
        self._done = None

    def resume(self, queue: str | None = None) -> None:
        """Start where this annotator left off; a `queue` spec without a queue name
        (only filters) keeps the queue used last."""
        pos = self._ui_doc().get(POSITION_DOC) or {}
        saved = parse_queue(pos.get("queue"), QUEUES) if _valid(pos.get("queue")) else None
        wanted = parse_queue(queue, QUEUES)
        if wanted.name is None and saved is not None and saved.name is not None:
            wanted = QueueSpec(saved.name, wanted.terms if queue else saved.terms)
        self.load_queue(str(wanted) or self.queue_name, keep=pos.get("image"))

    @property
    def current(self) -> str | None:
        return self.queue[self.index] if self.queue else None

    def record(self, image_id: str | None = None) -> ImageRecord | None:
        image_id = image_id or self.current
        return self.project.store.catalog.get(image_id) if image_id else None

    def move(self, delta: int) -> bool:
        new = min(max(0, self.index + delta), max(0, len(self.queue) - 1))
        changed = new != self.index
        self.index = new
        return changed

    def find(self, ref: str) -> list[int]:
        """Queue positions `ref` names: a position N (1-based), a file name or path
        tail, an image id or unique id prefix (core.naming)."""
        ref = ref.strip()
        if ref.isdigit() and 0 < int(ref) <= len(self.queue):
            return [int(ref) - 1]
        catalog = self.project.store.catalog  # names through its index, not every record
        hits = [r.id for r in catalog.named(ref)]
        if not hits and ref:
            hits = [
                i
                for (i,) in catalog.select(
                    "SELECT id FROM images WHERE id >= ? AND id < ?", (ref, ref + "\U0010ffff")
                )
            ]
        if isinstance(self.queue, CatalogQueue):
            return self.queue.positions(hits)
        wanted = set(hits)
        return [n for n, i in enumerate(self.queue) if i in wanted]

    def jump(self, ref: str) -> bool:
        """Go to the one image `ref` names (see `find`); False if none or several."""
        hits = self.find(ref)
        if len(hits) == 1:
            self.index = hits[0]
            return True
        return False

    def save_position(self) -> None:
        if self.current:
            self._ui_doc().put(POSITION_DOC, {"image": self.current, "queue": str(self.queue_spec)})

    def _ui_doc(self):
        return self.project.store.documents(f"labels/{self.user}.ui")

    # -- labels ---------------------------------------------------------------------
    def annotation(self, image_id: str | None = None) -> Annotation:
        image_id = image_id or self.current
        return self.session.annotation(image_id) if image_id else Annotation()

    def apply(
        self,
        image_id: str,
        *edit_fns: edits.Edit,
        note: str | None = None,
        group: str | None = None,
    ) -> Change:
        """Commit an edit durably (raises StoreWriteError, nothing changed), then make it
        undoable (consecutive edits of one `group` are one undo step). Returns the
        committed change. A change that breaks a consistency rule raises
        InconsistentLabel and saves nothing."""
        change = self._checked(edits.apply(image_id, self.annotation(image_id), *edit_fns))
        if change.after == change.before:
            return change
        self.session.commit(change, note=note)
        self.undo_stack.push(change, group)
        self._count(change)
        return change

    def apply_many(
        self, plan: list[tuple[str, list[edits.Edit]]], note: str | None = None
    ) -> list[Change]:
        """Commit several images' edits together (one fsync; all saved or none), each
        as its own journal event and its own undo step."""
        changes = [
            self._checked(edits.apply(image_id, self.annotation(image_id), *fns))
            for image_id, fns in plan
        ]
        changes = [c for c in changes if c.after != c.before]
        if changes:
            self.session.commit_many(changes, note=note)
        for change in changes:
            self.undo_stack.push(change)
            self._count(change)
        return changes

    def _checked(self, change: Change) -> Change:
        """The change with what the taxonomy fixes filled in (a single severity), or
        InconsistentLabel when it would break a blocking rule (core.consistency)."""
        tax = self.project.taxonomy
        after = consistency.complete(change.after, tax)
        if consistency.breaks_new(change.before, after, tax):
            rec = self.record(change.image)
            consistency.refuse_new(
                change.before, after, tax, Path(rec.file).name if rec else change.image
            )
        return Change(change.image, change.before, after)

    def undo(self) -> Change | None:
        return self._replay(self.undo_stack.undo(), "undo", self.undo_stack.redo)

    def redo(self) -> Change | None:
        return self._replay(self.undo_stack.redo(), "redo", self.undo_stack.undo)

    def _replay(self, change: Change | None, note: str, revert) -> Change | None:
        if change is None:
            return None
        try:
            self.session.commit(change, note=note)
        except Exception:
            revert()  # not on disk: the stacks go back to where they were
            raise
        self._count(change)
        return change

    def _count(self, change: Change) -> None:
        if self._own_seqs is not None and change.image not in self._own_seqs:
            self._own_seqs.update(seqs_of(self.project.store.catalog, [change.image]))
        if self._done is not None and change.image in self.queue:
            if change.after.state in DONE:
                self._done.add(change.image)
            else:
                self._done.discard(change.image)
        if change.after.is_labeled:
            self.labeled_here.add(change.image)
        else:
            self.labeled_here.discard(change.image)

    # -- figures for the status bar -----------------------------------------------------
    def own_seqs(self) -> dict[str, int]:
        """Catalog sequence numbers of the images this annotator has a label of: looked
        up once, then kept up to date by this labeler's own changes."""
        if self._own_seqs is None:
            self._own_seqs = seqs_of(self.project.store.catalog, self._mine())
        return self._own_seqs

    def _mine(self) -> dict[str, Any]:  # own_labels once per journal position
        tail = self.session.state.tail
        if self._own is None or self._own[0] != tail:
            self._own = (tail, queues.own_labels(self.session))
        return self._own[1]

    def done_seqs(self) -> np.ndarray:
        """Catalog positions of the images this annotator labeled or flagged, ascending:
        worked out once per journal position (the queue and its count both need them)."""
        tail = self.session.state.tail
        if self._done_seqs is None or self._done_seqs[0] != tail:
            done = queues.done_ids(self._mine())
            self._done_seqs = (tail, sorted_seqs(self.project.store.catalog, done))
        return self._done_seqs[1]

    def done_total(self) -> tuple[int, int]:
        """Images of the queue labeled or flagged: counted once per queue, then kept
        up to date by this labeler's own changes (`_count`), not recounted per key."""
        if self._done is None or self._done_for is not self.queue:
            if isinstance(self.queue, CatalogQueue):
                hit = self.queue.seqs[member(self.queue.seqs, self.done_seqs())]
                self._done = set(seq_ids(self.project.store.catalog, hit)) if hit.size else set()
            else:
                done = queues.done_ids(self._mine())
                queued = set(self.queue)
                self._done = {i for i in done if i in queued}
            self._done_for = self.queue
        return len(self._done), len(self.queue)

    def labels_per_hour(self, now: float | None = None) -> float:
        hours = max((now or time.monotonic()) - self.started, 1.0) / 3600
        return len(self.labeled_here) / hours
