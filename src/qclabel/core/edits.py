"""Undoable edits: the only way labels change.

An edit is a pure function Annotation -> Annotation. Applying it yields a Change
(image, before, after); the store journals the change, and undo simply commits the
inverse change (after -> before), so undo is itself audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from .model import CHECK_OUTCOMES, NOT_LABELED, VERDICTS, Annotation, Box, Keypoint, KeypointSet

Edit = Callable[[Annotation], Annotation]


@dataclass(frozen=True)
class Change:
    image: str
    before: Annotation
    after: Annotation

    def inverted(self) -> "Change":
        return Change(self.image, self.after, self.before)


class UndoStack:
    """Per-session undo/redo of committed changes (not persisted: a restart starts clean).

    Consecutive changes pushed with the same `group` (e.g. nudges of one box edge) are
    one undo step: each was journaled as it happened, undo reverts them together."""

    def __init__(self) -> None:
        self._done: list[Change] = []
        self._undone: list[Change] = []
        self._group: str | None = None  # the group of the last pushed change

    def push(self, change: Change, group: str | None = None) -> None:
        last = self._done[-1] if self._done else None
        if (
            group is not None
            and group == self._group
            and last is not None
            and last.image == change.image
            and last.after == change.before
        ):
            self._done[-1] = Change(change.image, last.before, change.after)
        else:
            self._done.append(change)
        self._group = group
        self._undone.clear()

    def undo(self) -> Change | None:
        """The change that reverts the last one, or None. Caller commits it."""
        if not self._done:
            return None
        change = self._done.pop()
        self._undone.append(change)
        self._group = None  # a nudge after an undo starts a new step
        return change.inverted()

    def redo(self) -> Change | None:
        if not self._undone:
            return None
        change = self._undone.pop()
        self._done.append(change)
        self._group = None
        return change

    @property
    def can_undo(self) -> bool:
        return bool(self._done)


def set_verdict(verdict: str | None) -> Edit:
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")

    def edit(a: Annotation) -> Annotation:
        # A pass clears any defect class: a passed part has no defect.
        if verdict == "pass":
            return replace(
                a, verdict=verdict, defect_class=None, severity=None, also=(), skipped=False
            )
        return replace(a, verdict=verdict, skipped=False)

    return edit


def set_class(defect_class: str | None, severity: str | None = None) -> Edit:
    def edit(a: Annotation) -> Annotation:
        verdict = "fail" if defect_class else a.verdict
        return replace(
            a, defect_class=defect_class, severity=severity, verdict=verdict, skipped=False
        )

    return edit


def toggle_also(defect_class: str) -> Edit:
    """Add a further image class (multi-label), or take it away if it is there. On an
    image without a main class it becomes the main class. The image fails."""

    def edit(a: Annotation) -> Annotation:
        if a.defect_class is None:
            return replace(a, defect_class=defect_class, verdict="fail", skipped=False)
        if defect_class == a.defect_class:
            return a  # already the main class
        also = (
            tuple(c for c in a.also if c != defect_class)
            if defect_class in a.also
            else a.also + (defect_class,)
        )
        return replace(a, also=also, verdict="fail", skipped=False)

    return edit


def set_severity(severity: str | None) -> Edit:
    return lambda a: replace(a, severity=severity)


def set_flag(note: str | None) -> Edit:
    """Flag as unsure with a note (None clears the flag)."""
    return lambda a: replace(a, flag=note)


def skip() -> Edit:
    return lambda a: replace(a, skipped=True)


def add_box(box: Box) -> Edit:
    return lambda a: replace(a, boxes=a.boxes + (box,), skipped=False)


def replace_box(box: Box) -> Edit:
    def edit(a: Annotation) -> Annotation:
        if not any(b.id == box.id for b in a.boxes):
            raise KeyError(box.id)
        return replace(a, boxes=tuple(box if b.id == box.id else b for b in a.boxes))

    return edit


def delete_box(box_id: str) -> Edit:
    return lambda a: replace(a, boxes=tuple(b for b in a.boxes if b.id != box_id))


def set_boxes(boxes: tuple[Box, ...]) -> Edit:
    return lambda a: replace(a, boxes=tuple(boxes), skipped=False)


def put_keypoints(kps: KeypointSet) -> Edit:
    """Add the set, or replace the one with the same id."""

    def edit(a: Annotation) -> Annotation:
        rest = tuple(k for k in a.keypoints if k.id != kps.id)
        return replace(a, keypoints=rest + (kps,), skipped=False)

    return edit


def delete_keypoints(set_id: str) -> Edit:
    return lambda a: replace(a, keypoints=tuple(k for k in a.keypoints if k.id != set_id))


def empty_keypoints(template: str, names: tuple[str, ...], cls: str | None = None) -> KeypointSet:
    return KeypointSet(template, tuple(Keypoint(n, 0.0, 0.0, NOT_LABELED) for n in names), cls)


def set_check(position: str, outcome: str) -> Edit:
    if outcome not in CHECK_OUTCOMES:
        raise ValueError(f"outcome must be one of {CHECK_OUTCOMES}, not {outcome!r}")

    def edit(a: Annotation) -> Annotation:
        rest = tuple(c for c in a.checks if c[0] != position)
        return replace(a, checks=rest + ((position, outcome),), skipped=False)

    return edit


def apply(image: str, before: Annotation, *edits: Edit) -> Change:
    after = before
    for e in edits:
        after = e(after)
    return Change(image, before, after)
