"""Editing the selected box in box mode: arrows move the box or one edge (`e` picks which),
`v` cycles its severity, delete, duplicate, and copy the previous image's boxes. Each
change is one journaled, undoable label change; a run of nudges is one undo step.
A mixin for BoxScreen (it needs `selected_box`, `_add`, `_replace` and `commit`)."""

from __future__ import annotations

from ...core import boxedit, edits
from ...core.model import Box

EDIT_TARGETS = (None, "move", "left", "top", "right", "bottom")


class BoxEditing:
    def action_edit_target(self) -> None:
        if self.selected_box() is None:
            self.say("select a box first (tab)")
            return
        i = EDIT_TARGETS.index(self.edit_target)
        self.edit_target = EDIT_TARGETS[(i + 1) % len(EDIT_TARGETS)]
        what = {None: "the cursor", "move": "the box"}.get(
            self.edit_target, f"the {self.edit_target} edge"
        )
        self.say(f"arrows now move {what}")
        self.redraw()

    def action_nudge(self, dx: int, dy: int, unit: str) -> None:
        sel = self.selected_box()
        if self.edit_target is None or sel is None:
            super().action_nudge(dx, dy, unit)
            return
        sx, sy = self.step_px(unit)
        rec = self.record
        if self.edit_target == "move":
            new = boxedit.move_box(sel, dx * sx, dy * sy, rec.width, rec.height)
        elif self.edit_target in ("left", "right"):
            new = boxedit.move_edge(sel, self.edit_target, dx * sx, rec.width, rec.height)
        else:
            new = boxedit.move_edge(sel, self.edit_target, dy * sy, rec.width, rec.height)
        if new != sel:  # a run of nudges of one edge (or the move) is one undo step
            self._replace(
                new,
                f"{self.edit_target} -> {new.x:g},{new.y:g} {new.w:g}x{new.h:g}",
                group=f"nudge {sel.id} {self.edit_target}",
            )

    def action_severity(self) -> None:
        sel = self.selected_box()
        cls = sel.cls if sel else self.current_class
        try:
            names = [None] + self.taxonomy.get(cls).severity_names()
        except KeyError:
            names = [None]
        cur = sel.severity if sel else self.severity
        nxt = names[(names.index(cur) + 1) % len(names)] if cur in names else names[0]
        if sel is not None:
            self._replace(
                Box(sel.cls, sel.x, sel.y, sel.w, sel.h, nxt, sel.id), f"severity {nxt or 'none'}"
            )
        else:
            self.severity = nxt
            self.redraw()

    def action_delete(self) -> None:
        sel = self.selected_box()
        if sel is None:
            self.say("select a box first (tab)")
            return
        if self.commit(edits.delete_box(sel.id), what=f"deleted {sel.cls}"):
            self.selected, self.edit_target = None, None
        self.redraw()

    def action_duplicate(self) -> None:
        sel, rec = self.selected_box(), self.record
        if sel is None:
            self.say("select a box first (tab)")
            return
        self._add(
            boxedit.duplicate(sel, rec.width, rec.height), f"duplicated {sel.cls}", select=True
        )

    def action_copy_previous(self) -> None:
        lab, rec = self.labeler, self.record
        if rec is None or lab.index == 0:
            self.say("no previous image")
            return
        prev = lab.annotation(lab.queue[lab.index - 1]).boxes
        if not prev:
            self.say("the previous image has no boxes")
            return
        copies = boxedit.copy_boxes(prev, rec.width, rec.height)
        if self.commit(
            edits.set_boxes(self.boxes + copies),
            what=f"copied {len(copies)} boxes from the previous image",
        ):
            self.selected = None
        self.redraw()
