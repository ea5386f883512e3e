"""Segmentation mode: masks painted and traced by keyboard, on the pixel tools' image
screen (cursor, zoom, loupe, window/level, jump grid; screens/pointer.py).

Tools (segment_tools.py): o polygon, i brush, e eraser, c flood fill, m box -> mask.
The instance list shows every mask's class, severity, area and length (mm with a
calibration); tab selects, x deletes, v cycles the severity (an override), a class key
re-classes only the selected mask (otherwise it picks the class of the next one);
the instance list's keys are in segment_instances.py.
Each stroke or tool action is one journaled edit (core.mask_edits), so u undoes it
whole; the taxonomy's minimum size and severity thresholds apply at every edit.
"""

from __future__ import annotations


import numpy as np
from textual import events
from textual.binding import Binding

from ...core import edits
from ...core import mask_edits as me
from ...core.mask import Mask, MaskError
from ...maskedit.assist import load_assists
from ...maskedit.brush import Patch, protect, touches
from .pointer import PointerScreen
from .segment_instances import MaskInstances
from .segment_tools import BoxMaskTool, BrushTool, FillTool, PolygonTool
from .segment_view import SegmentView


class SegmentScreen(
    MaskInstances, SegmentView, PolygonTool, BrushTool, FillTool, BoxMaskTool, PointerScreen
):
    HELP_TITLE = "masks"
    BINDINGS = [
        Binding("o", "tool('polygon')", "Polygon", id="seg.polygon"),
        Binding("i", "tool('brush')", "Brush", id="seg.brush"),
        Binding("e", "tool('eraser')", "Eraser", id="seg.eraser"),
        Binding("c", "tool('fill')", "Flood fill", id="seg.fill"),
        Binding("m", "tool('box')", "Box->mask", id="seg.box"),
        Binding("space", "primary", "Vertex / pen / fill / anchor", id="seg.primary"),
        Binding("enter", "complete", "Close / save", id="seg.complete"),
        Binding("left_square_bracket", "radius(-1)", "Radius/tolerance -", id="seg.smaller"),
        Binding("right_square_bracket", "radius(1)", "Radius/tolerance +", id="seg.bigger"),
        Binding("t", "tip", "Round/square tip", id="seg.tip", show=False),
        Binding("I", "polygon_insert", "Insert vertex", id="seg.insert", show=False),
        Binding("M", "polygon_grab", "Move vertex", id="seg.move", show=False),
        Binding("D", "polygon_delete", "Delete vertex", id="seg.vertex_delete", show=False),
        Binding("O", "polygon_hole", "Hole", id="seg.hole", show=False),
        Binding("E", "polygon_edit", "Edit polygon", id="seg.edit", show=False),
        Binding("s", "box_snap", "Box the defect -> mask", id="seg.snap"),
        Binding("a", "assist_next", "Next assist", id="seg.assist", show=False),
        Binding("full_stop", "mark(True)", "Foreground pen", id="seg.fg", show=False),
        Binding("comma", "mark(False)", "Background pen", id="seg.bg", show=False),
        Binding("P", "protect", "Protect others", id="seg.protect", show=False),
        Binding("ctrl+f", "display", "Fill/outline", id="seg.display", show=False),
        Binding("tab", "cycle(1)", "Next mask", id="seg.next", priority=True),
        Binding("shift+tab", "cycle(-1)", "Prev mask", id="seg.prev", priority=True),
        Binding("v", "severity", "Severity", id="seg.severity"),
        Binding("x,delete", "delete", "Delete mask", id="seg.delete"),
        Binding("escape", "cancel", "Cancel", id="seg.cancel", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current_class = ""
        self.tool = "brush"
        self.radius, self.tip_shape, self.tolerance = 3, "round", 24
        self.protect_others, self.display_style = True, "fill"
        self.assists = load_assists()
        self.assist_index = 0
        self._measures: dict[tuple, object] = {}
        self._picture: tuple[int, np.ndarray] | None = None
        self.reset_tool()

    def on_mount(self) -> None:
        classes = self.taxonomy.classes
        self.current_class = self.current_class or (classes[0].name if classes else "defect")
        self.sub_title = f"{self.app.user} · masks"
        # The first stroke measures its skeleton (scikit-image): import it now, off the
        # UI thread, rather than make that stroke wait a quarter of a second.
        self.app.background(lambda: __import__("skimage.morphology"))

    def reset_tool(self) -> None:
        self.selected: str | None = None
        self.painting: str | None = None  # the mask the last strokes went into
        self.polygon_reset()
        self.brush_reset()
        self.fill_reset()
        self.box_reset()

    # -- state ----------------------------------------------------------------------------
    @property
    def masks(self) -> tuple[Mask, ...]:
        return self.annotation().masks

    def mask_by_id(self, mask_id: str | None) -> Mask | None:
        return next((m for m in self.masks if m.id == mask_id), None)

    def selected_mask(self) -> Mask | None:
        return self.mask_by_id(self.selected)

    def rules(self) -> me.MaskRules:
        rec = self.record
        return me.MaskRules(self.taxonomy, rec.mm_per_px if rec else None)

    def colour(self, cls: str) -> str:
        try:
            return self.taxonomy.get(cls).colour
        except KeyError:
            return "#ff5555"

    def history_changed(self) -> None:
        if self.selected_mask() is None:
            self.selected = None
        if self.mask_by_id(self.painting) is None:
            self.painting = None

    def set_tool(self, tool: str) -> None:
        if tool != self.tool:
            self.brush_reset()
            self.fill_reset()
            if tool != "box":
                self.box_reset()
        self.tool = tool

    # -- committing: one stroke / tool action = one journaled edit ------------------------------
    def target(self, continuing: bool = True) -> Mask | None:
        """The mask a stroke goes into: the selected one, else (brush strokes,
        `continuing`) the one being painted; semantic tasks: the class layer. A fill or
        a box -> mask makes a new instance unless a mask is selected."""
        m = self.selected_mask() or (self.mask_by_id(self.painting) if continuing else None)
        if m is None and self.taxonomy.semantic:
            m = me.semantic_layer(self.annotation(), self.current_class)
        return m

    def save_patch(self, patch: Patch, value: bool, continuing: bool = True) -> bool:
        target = self.target(continuing)
        others = [m for m in self.masks if target is None or m.id != target.id]
        if value and self.protect_others:
            patch = protect(patch, others)
            if patch is None:
                self.say(
                    "nothing painted: every pixel belongs to another mask (P turns protection off)",
                    error=True,
                )
                return False
        rules = self.rules()
        if value:
            if target is None:
                mask = Mask.from_array(self.current_class, patch.pixels, patch.x, patch.y)
                return self.save_mask(mask, f"new {mask.cls} mask {mask.area} px")
            fn = me.paint(target.id, patch.pixels, patch.x, patch.y, True, rules)
            return self._commit([fn], f"painted {patch.count} px on {target.cls}")
        victims = (
            [target]
            if target
            else ([] if self.protect_others else [m for m in self.masks if touches(patch, m)])
        )
        if not victims:
            self.say("select the mask to erase (tab), or P to erase any mask", error=True)
            return False
        fns = [me.paint(m.id, patch.pixels, patch.x, patch.y, False, rules) for m in victims]
        return self._commit(
            fns, f"erased {patch.count} px from " + ", ".join(m.cls for m in victims)
        )

    def save_mask(self, mask: Mask, what: str) -> bool:
        fns = [me.put_mask(mask, self.rules())]
        if self.annotation().verdict is None:
            fns.insert(0, edits.set_verdict("fail"))  # a mask is a defect
        if not self._commit(fns, what):
            return False
        kept = self.mask_by_id(mask.id) or me.semantic_layer(self.annotation(), mask.cls)
        self.painting = kept.id if kept else None
        return True

    def _commit(self, fns, what: str) -> bool:
        try:
            return self.commit(*fns, what=what)
        except MaskError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return False

    # -- actions ------------------------------------------------------------------------------
    def action_tool(self, tool: str) -> None:
        self.set_tool(tool)
        self.say(f"tool: {tool}")
        self.redraw()

    def action_primary(self) -> None:
        if self.record is None:
            return
        {
            "polygon": self.polygon_primary,
            "brush": self.brush_primary,
            "eraser": self.brush_primary,
            "fill": self.fill_primary,
            "box": self.box_primary,
        }[self.tool]()

    def action_complete(self) -> None:
        if self.record is None:
            return
        if self.tool in ("brush", "eraser"):
            if self.stroke is not None:
                self.brush_primary()  # enter also lifts the pen
            return
        {"polygon": self.polygon_complete, "fill": self.fill_complete, "box": self.box_complete}[
            self.tool
        ]()

    def cursor_moved(self) -> None:
        self.brush_follow()
        self.box_follow()
        self.draft.follow(self.cursor)

    def action_undo(self) -> None:
        if self.tool == "polygon" and self.draft.undo():
            self.say("vertex action undone")
            self.redraw()
            return
        super().action_undo()

    def action_protect(self) -> None:
        self.protect_others = not self.protect_others
        self.say("protect other masks: " + ("on" if self.protect_others else "OFF"))
        self.redraw()

    def action_display(self) -> None:
        self.display_style = "outline" if self.display_style == "fill" else "fill"
        self.redraw()

    def action_cancel(self) -> None:
        busy = (
            not self.draft.empty
            or self.stroke is not None
            or self.preview is not None
            or self.proposal is not None
            or self.anchor is not None
        )
        if busy:
            self.polygon_reset(), self.brush_reset(), self.fill_reset(), self.box_reset()
        elif self.selected is not None or self.painting is not None:
            self.selected = self.painting = None
        else:
            self.app.action_home()
            return
        self.say("")
        self.redraw()

    def tool_key(self, event: events.Key) -> None:
        """Class hotkeys and the verdict keys are taxonomy data."""
        ch = event.character or ""
        tax = self.taxonomy
        if ch and ch in (tax.pass_key, tax.fail_key):
            event.stop()
            verdict = "pass" if ch == tax.pass_key else "fail"
            self._commit([edits.set_verdict(verdict)], f"verdict {verdict}")
            self.redraw()
            return
        cls = tax.by_hotkey(ch) if ch else None
        if cls is None:
            return
        event.stop()
        self.current_class, self.painting = cls.name, None
        sel = self.selected_mask()
        if sel is not None and sel.cls != cls.name:
            self._commit([me.set_mask_class(sel.id, cls.name, self.rules())], f"class {cls.name}")
        else:
            self.say(f"class: {cls.name}")
        self.redraw()
