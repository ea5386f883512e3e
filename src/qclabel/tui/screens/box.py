"""Box mode: draw, select, resize, snap, duplicate and copy boxes by keyboard (mouse too).

Common case, one box of the remembered class on a visible defect:
    g <col> <row>   jump onto the defect
    s               box the defect under the cursor, snapped to its edges
Exact by keyboard without snapping: `a` + letters anchors at an exact pixel, two
letters pick the opposite corner (screens/jumping.py). Manual path: space anchors a
corner, move, enter completes; s instead of enter completes and snaps. Every change is
one journaled, undoable label change; a box below its class's minimum size is refused
with the minimum in the message. Editing the selected box: screens/box_editing.py.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding

from ...core import boxedit, edits
from ...core.boxedit import anchored_box
from ...core.measure import AnnotationTooSmall, check_min_size
from ...core.model import Box
from ...render.overlay import Overlay, draw_anchor, draw_box
from ...render.viewport import Viewport
from .box_editing import EDIT_TARGETS, BoxEditing  # noqa: F401  (importable from here)
from .box_snap import SnapTool, describe_box
from .box_suggest import BoxSuggestions
from .jumping import AnchorJump
from .pointer import PointerScreen


class BoxScreen(BoxEditing, BoxSuggestions, SnapTool, AnchorJump, PointerScreen):
    HELP_TITLE = "boxes"
    BINDINGS = [
        Binding("space", "anchor", "Anchor corner", id="box.anchor"),
        Binding("a", "anchor_jump", "Anchor by jump", id="box.anchor_jump"),
        Binding("enter", "complete", "Complete box / accept suggestion", id="box.complete"),
        Binding("backspace", "reject_suggestion", "Reject suggestion", id="box.reject"),
        Binding("s", "snap", "Snap to edges", id="box.snap"),
        Binding("tab", "cycle(1)", "Next box", id="box.next", priority=True),
        Binding("shift+tab", "cycle(-1)", "Prev box", id="box.prev", priority=True),
        Binding("e,ctrl+e", "edit_target", "Edge/move", id="box.edge"),
        Binding("v", "severity", "Severity", id="box.severity"),
        Binding("x,delete", "delete", "Delete", id="box.delete"),
        Binding("ctrl+d", "duplicate", "Duplicate", id="box.duplicate"),
        Binding("y", "copy_previous", "Copy prev image", id="box.copy_previous"),
        Binding("escape", "cancel", "Cancel", id="box.cancel", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current_class = ""  # remembered across images; the first class to start
        self.severity: str | None = None
        self.reset_tool()

    def on_mount(self) -> None:
        classes = self.taxonomy.classes
        self.current_class = self.current_class or (classes[0].name if classes else "object")
        if classes and self.current_class == classes[0].name and self.severity is None:
            self.severity = classes[0].fixed_severity
        self.sub_title = f"{self.app.user} · boxes"

    def reset_tool(self) -> None:
        self.anchor: tuple[int, int] | None = None
        self.selected: str | None = None
        self.edit_target: str | None = None
        self.drag_from: tuple[int, int] | None = None

    # -- state helpers ---------------------------------------------------------------------
    @property
    def boxes(self) -> tuple[Box, ...]:
        return self.annotation().boxes

    def selected_box(self) -> Box | None:
        return next((b for b in self.boxes if b.id == self.selected), None)

    def colour(self, cls: str) -> str:
        try:
            return self.taxonomy.get(cls).colour
        except KeyError:
            return "#ff5555"

    def history_changed(self) -> None:
        if self.selected_box() is None:
            self.selected, self.edit_target = None, None

    # -- drawing ------------------------------------------------------------------------------
    def draw_tool(self, ov: Overlay, vp: Viewport) -> None:
        self.draw_suggestion(ov, vp)  # first: the operator's own boxes win a shared cell
        for b in self.boxes:
            draw_box(
                ov, vp, b, self.colour(b.cls), "selected" if b.id == self.selected else "normal"
            )
        if self.anchor is not None:
            draft = anchored_box(self.current_class, self.anchor, self.cursor)
            draw_box(ov, vp, draft, self.colour(self.current_class), "draft")
            draw_anchor(ov, vp, *self.anchor)

    def loupe_boxes(self) -> tuple[Box, ...]:
        if self.anchor is not None:
            return (anchored_box(self.current_class, self.anchor, self.cursor),)
        sel = self.selected_box()
        return (sel,) if sel else self.boxes

    def tool_text(self) -> str:
        lines = [
            f"next   {self.current_class}" + (f" ({self.severity})" if self.severity else ""),
            "anchor " + (f"{self.anchor[0]},{self.anchor[1]}" if self.anchor else "-"),
        ]
        sel = self.selected_box()
        if sel is not None:
            lines.append(f"edit   {self.edit_target or '-'}")
        for n, b in enumerate(self.boxes, 1):
            mark = ">" if b.id == self.selected else " "
            sev = f" {b.severity}" if b.severity else ""
            lines.append(f"{mark}{n} {b.cls}{sev} {b.x:g},{b.y:g} {b.w:g}x{b.h:g}")
        return "\n".join(lines + self.suggestion_lines())

    # -- committing -----------------------------------------------------------------------------
    def _allowed(self, box: Box) -> bool:
        rec = self.record
        try:
            cls = self.taxonomy.get(box.cls)
        except KeyError:
            return True
        try:
            warning = check_min_size(box, cls, rec.mm_per_px if rec else None)
        except AnnotationTooSmall as exc:
            self.say(f"refused: {exc}", error=True)
            return False
        if warning:
            self.notify(warning, timeout=3)
        return True

    def _add(self, box: Box, what: str, select: bool = False) -> None:
        """Save a new box. It is not selected (unless `select`, for a copy of the
        selected box): class keys, `v` and `s` then act on the *next* box, as the
        operator types them, never on the box just drawn (select it with tab/click)."""
        if self._allowed(box) and self.commit(edits.add_box(box), what=what):
            self.anchor, self.edit_target = None, None
            self.selected = box.id if select else None
        self.redraw()

    def _replace(self, box: Box, what: str, group: str | None = None) -> bool:
        ok = self._allowed(box) and self.commit(edits.replace_box(box), what=what, group=group)
        self.redraw()
        return ok

    # -- drawing boxes ---------------------------------------------------------------------------
    def action_anchor(self) -> None:
        if self.record is None:
            return
        self.anchor, self.selected, self.edit_target = self.cursor, None, None
        self.say(f"anchored at {self.cursor[0]},{self.cursor[1]}: move, then enter (or s)")
        self.redraw()

    def action_complete(self) -> None:
        if self.anchor is None:
            if self.edit_target is not None:
                self.edit_target = None
                self.redraw()
            elif not self.accept_suggestion():
                self.say("nothing to complete: space anchors a corner")
            return
        box = anchored_box(self.current_class, self.anchor, self.cursor, self.severity)
        self._add(box, describe_box(box))

    # -- selection -------------------------------------------------------------------------
    def action_cycle(self, step: int) -> None:
        self.selected = boxedit.cycle(self.boxes, self.selected, step)
        self.edit_target, self.anchor = None, None
        self.redraw()

    def action_cancel(self) -> None:
        if self.anchor is not None:
            self.anchor = None
        elif self.edit_target is not None:
            self.edit_target = None
        elif self.selected is not None:
            self.selected = None
        else:
            self.app.action_home()
            return
        self.say("")
        self.redraw()

    # -- class hotkeys are taxonomy data ----------------------------------------------------------
    def tool_key(self, event: events.Key) -> None:
        cls = self.taxonomy.by_hotkey(event.character or "") if event.character else None
        if cls is None:
            return
        event.stop()
        self.current_class = cls.name
        if cls.fixed_severity or self.severity not in cls.severity_names():
            self.severity = cls.fixed_severity  # one severity: set, never asked
        sel = self.selected_box()
        if sel is not None and sel.cls != cls.name:
            sev = sel.severity if sel.severity in cls.severity_names() else None
            self._replace(
                Box(cls.name, sel.x, sel.y, sel.w, sel.h, sev, sel.id), f"class {cls.name}"
            )
        else:
            self.say(f"class: {cls.name}")
            self.redraw()

    # -- mouse: drag draws a box, click selects ----------------------------------------------------
    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.drag_from = self.pixel_at(event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        start, self.drag_from = self.drag_from, None
        end = self.pixel_at(event)
        if start is None or end is None:
            return
        self.cursor = end
        if start != end:
            box = anchored_box(self.current_class, start, end, self.severity)
            self._add(box, describe_box(box))
            return
        hit = boxedit.box_at(self.boxes, *end)
        self.selected, self.anchor = (hit.id if hit else None), None
        self.edit_target = None
        self.redraw()
