"""Keypoint mode: step through a template's named points and place each at a pixel.

space/enter places the current point visible (v=2) at the cursor, o places it
occluded (v=1), s skips it (v=0); the tool then moves to the next point (and the
cursor to its expected position when the template has one). The skeleton is drawn,
and every taxonomy tolerance is shown as a distance in mm with pass/fail.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding

from ...core import edits
from ...core.measure import FAIL, PASS, check_template, overall
from ...core.model import NOT_LABELED, OCCLUDED, VISIBLE, Keypoint, KeypointSet
from ...core.taxonomy import KeypointTemplate
from ...render.overlay import EXPECTED, Glyph, Overlay, draw_keypoints
from ...render import cellmap as cm
from ...render.viewport import Viewport
from .keypoint_snap import PointSnap
from .keypoint_suggest import KeypointSuggestions
from .pointer import PointerScreen

MARKS = {VISIBLE: "●", OCCLUDED: "○", NOT_LABELED: "–"}
VERDICT_STYLE = {PASS: "green", FAIL: "bold red"}


class KeypointScreen(PointSnap, KeypointSuggestions, PointerScreen):
    HELP_TITLE = "keypoints"
    BINDINGS = [
        Binding("space", "place(2)", "Place", id="keypoint.place"),
        Binding("enter", "place_or_accept", "Place / accept suggestion", id="keypoint.accept"),
        Binding("backspace", "reject_suggestion", "Reject suggestion", id="keypoint.reject"),
        Binding("o", "place(1)", "Occluded", id="keypoint.occluded"),
        Binding("s", "place(0)", "Skip point", id="keypoint.skip"),
        Binding("comma", "step(-1)", "Prev point", id="keypoint.prev_point"),
        Binding("full_stop", "step(1)", "Next point", id="keypoint.next_point"),
        Binding("i", "new_instance", "New instance", id="keypoint.new"),
        Binding("tab", "cycle(1)", "Next instance", id="keypoint.next_instance", priority=True),
        Binding(
            "shift+tab", "cycle(-1)", "Prev instance", id="keypoint.prev_instance", priority=True
        ),
        Binding("x", "delete", "Delete instance", id="keypoint.delete"),
        Binding("ctrl+t", "template", "Template", id="keypoint.template"),
        Binding("m", "snap_point", "Snap to feature", id="keypoint.snap"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.template_index = 0
        self.reset_tool()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · keypoints"
        if not self.taxonomy.keypoint_templates:
            self.say("this taxonomy has no keypoint templates", error=True)

    def reset_tool(self) -> None:
        self.instance_id: str | None = None
        self.point_index = 0

    def after_image_change(self) -> None:
        rec = self.record
        new_image = rec is not None and rec.id != self.image_id
        super().after_image_change()
        if new_image and self.template is not None:
            # At once, not when the picture arrives: a key typed while it loads must
            # find the cursor where it will be (the first point's expected position).
            self._go_to_point(0)

    # -- state -------------------------------------------------------------------------------
    @property
    def template(self) -> KeypointTemplate | None:
        templates = self.taxonomy.keypoint_templates
        return templates[self.template_index % len(templates)] if templates else None

    def instances(self) -> list[KeypointSet]:
        t = self.template
        return [k for k in self.annotation().keypoints if t and k.template == t.name]

    def instance(self) -> KeypointSet | None:
        found = [k for k in self.instances() if k.id == self.instance_id]
        if found:
            return found[0]
        others = self.instances()
        if others and self.instance_id is None:
            self.instance_id = others[0].id
            return others[0]
        return None

    def _class_for(self, t: KeypointTemplate) -> str | None:
        return t.name if t.name in self.taxonomy.class_names() else None

    def history_changed(self) -> None:
        if self.instance() is None:
            self.instance_id = None

    # -- drawing -------------------------------------------------------------------------------
    def draw_tool(self, ov: Overlay, vp: Viewport) -> None:
        t = self.template
        if t is None:
            self.draw_suggestion(ov, vp)
            return
        for _name, x, y in t.positions:  # expected positions, under the placed points
            cell = cm.pixel_cell(vp, x, y)
            if vp.cell_in_frame(*cell):
                ov[cell] = Glyph(EXPECTED, "#808080")
        self.draw_suggestion(ov, vp)  # before the operator's own points: those win a cell
        current = t.points[self.point_index] if self.point_index < len(t.points) else None
        for k in self.instances():
            colour = "#00ffff" if k.id == self.instance_id else "#4080ff"
            draw_keypoints(
                ov, vp, k, t.skeleton, colour, current if k.id == self.instance_id else None
            )

    def tool_text(self) -> str:
        t = self.template
        if t is None:
            return "no keypoint template"
        kps = self.instance()
        lines = self.suggestion_lines() + [f"template {t.name}  instance {len(self.instances())}"]
        for n, name in enumerate(t.points):
            p = kps.point(name) if kps else Keypoint(name)
            mark = ">" if n == self.point_index else " "
            where = f"{p.x:g},{p.y:g}" if p.v != NOT_LABELED else ""
            lines.append(f"{mark}{MARKS[p.v]} {name} {where}")
        if kps is not None and t.tolerances:
            rec = self.record
            checks = check_template(kps, t, rec.mm_per_px if rec else None)
            lines.append(f"dimensions: {overall(checks).upper()}")
            lines += [f" {c.describe()}" for c in checks]
        return "\n".join(lines)

    # -- placing -------------------------------------------------------------------------------
    def action_place(self, visibility: int) -> None:
        t = self.template
        if t is None or self.record is None:
            return
        if self.point_index >= len(t.points):
            self.say("every point is done: i starts a new instance, comma goes back")
            return
        kps = self.instance() or edits.empty_keypoints(t.name, t.points, self._class_for(t))
        name = t.points[self.point_index]
        x, y = self.cursor if visibility != NOT_LABELED else (0, 0)
        point = Keypoint(name, float(x), float(y), visibility)
        new = replace(kps, points=tuple(point if p.name == name else p for p in kps.points))
        word = {VISIBLE: "placed", OCCLUDED: "occluded", NOT_LABELED: "skipped"}[visibility]
        if self.commit(
            edits.put_keypoints(new), what=f"{name} {word}" + (f" at {x},{y}" if visibility else "")
        ):
            self.instance_id = new.id
            self._go_to_point(self.point_index + 1)
        else:
            self.redraw()

    def action_place_or_accept(self) -> None:
        if self.placing() or not self.accept_suggestion():
            self.action_place(VISIBLE)

    def _go_to_point(self, index: int) -> None:
        t = self.template
        if t is None:
            self.redraw()
            return
        self.point_index = max(0, min(index, len(t.points)))
        expected = {n: (x, y) for n, x, y in t.positions}
        if self.point_index < len(t.points) and t.points[self.point_index] in expected:
            x, y = expected[t.points[self.point_index]]
            self.move_cursor(round(x), round(y))
        else:
            self.redraw()

    def action_step(self, delta: int) -> None:
        if self.template is not None:
            self._go_to_point(self.point_index + delta)

    def action_new_instance(self) -> None:
        self.instance_id, self.point_index = "", 0  # "" = a new set on the next placement
        self.say("new instance: place its first point")
        self._go_to_point(0)

    def action_cycle(self, step: int) -> None:
        ids = [k.id for k in self.instances()]
        if ids:
            i = ids.index(self.instance_id) if self.instance_id in ids else -step
            self.instance_id, self.point_index = ids[(i + step) % len(ids)], 0
        self.redraw()

    def action_delete(self) -> None:
        kps = self.instance()
        if kps is None:
            self.say("no instance to delete")
            return
        if self.commit(edits.delete_keypoints(kps.id), what="deleted keypoint instance"):
            self.reset_tool()
        self.redraw()

    def action_template(self) -> None:
        if len(self.taxonomy.keypoint_templates) > 1:
            self.template_index += 1
            self.reset_tool()
            self.say(f"template: {self.template.name}")
            self._go_to_point(0)
            return
        self.redraw()
