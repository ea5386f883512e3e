"""The instance list of segmentation mode: tab selects the next mask, v cycles the selected
mask's severity (an override of the thresholds), x deletes it; each one journaled edit.
A mixin for SegmentScreen (it needs `masks`, `selected_mask`, `rules` and `_commit`)."""

from __future__ import annotations

from ...core import mask_edits as me


class MaskInstances:
    def action_cycle(self, step: int) -> None:
        ids = [m.id for m in self.masks]
        if not ids:
            self.selected = None
        elif self.selected not in ids:
            self.selected = ids[0] if step > 0 else ids[-1]
        else:
            i = ids.index(self.selected) + step
            self.selected = ids[i] if 0 <= i < len(ids) else None
        self.painting = None
        self.redraw()

    def action_severity(self) -> None:
        sel = self.selected_mask()
        if sel is None:
            self.say("select a mask first (tab)")
            return
        try:
            names = self.taxonomy.get(sel.cls).severity_names()
        except KeyError:
            return
        if not names:
            return
        # The next severity after the shown one; the one the thresholds give is no
        # override (the rules record an override only where it differs).
        cur = sel.severity
        nxt = names[(names.index(cur) + 1) % len(names)] if cur in names else names[0]
        self._commit(
            [me.set_mask_severity(sel.id, nxt, self.rules())],
            f"severity {nxt or 'from the thresholds'}",
        )
        self.redraw()

    def action_delete(self) -> None:
        sel = self.selected_mask()
        if sel is None:
            self.say("select a mask first (tab)")
            return
        if self._commit([me.delete_mask(sel.id)], f"deleted {sel.cls} mask"):
            self.selected = self.painting = None
        self.redraw()
