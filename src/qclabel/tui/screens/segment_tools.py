"""The segmentation tools, as mixins of `SegmentScreen` (uses its cursor, pixels,
selection and `save_patch` / `save_mask`). The pixel work is `qclabel.maskedit`'s.

- polygon: space places a vertex at the cursor, I inserts one on the nearest edge,
  M picks up / puts down the nearest vertex (it follows the cursor), D deletes it,
  O closes the ring and starts a hole, enter closes and saves; u undoes a vertex action.
- brush / eraser: space puts the pen down (the stroke follows the cursor) and up
  again (the whole stroke is one edit); [ ] radius, t round/square tip.
- flood fill: space fills from the cursor (a preview), [ ] lower/raise the tolerance
  and the preview follows, enter saves.
- box -> mask: s boxes the defect under the cursor (or picks the box the cursor is in)
  and runs the assist; space + move + enter draws the box by hand; a cycles the assist
  (grabcut, watershed, threshold, site plugins); . and , put a foreground/background
  pen down/up (pen up re-runs the assist with the strokes); enter saves the proposal.
"""

from __future__ import annotations

import numpy as np

from ...core import boxedit
from ...maskedit import assist as masks_assist
from ...maskedit.brush import MAX_RADIUS, Patch, Stroke
from ...maskedit.polygon import PolygonDraft
from ...render.snap import snap_at, to_grey

TOOLS = ("polygon", "brush", "eraser", "fill", "box")


class PolygonTool:
    def polygon_reset(self) -> None:
        self.draft = PolygonDraft()

    def action_polygon_insert(self) -> None:
        if self.tool == "polygon":
            self.draft.insert(self.cursor)
            self.redraw()

    def action_polygon_grab(self) -> None:
        if self.tool == "polygon":
            held = self.draft.grab(self.cursor)
            self.say("vertex follows the cursor: M puts it down" if held else "vertex placed")
            self.redraw()

    def action_polygon_delete(self) -> None:
        if self.tool == "polygon" and self.draft.delete(self.cursor):
            self.redraw()

    def action_polygon_hole(self) -> None:
        if self.tool != "polygon":
            return
        problem = self.draft.start_hole()
        self.say(
            f"cannot start a hole: {problem}"
            if problem
            else "outline closed: place the hole's vertices, enter saves",
            error=bool(problem),
        )
        self.redraw()

    def action_polygon_edit(self) -> None:
        sel = self.selected_mask()
        if sel is None or not sel.polygons:
            self.say("select a drawn polygon mask first (tab)", error=True)
            return
        self.set_tool("polygon")
        self.draft = PolygonDraft.of_mask(sel)
        self.say(f"editing {sel.cls}: I/M/D on vertices, enter saves")
        self.redraw()

    def polygon_primary(self) -> None:
        self.draft.add(self.cursor)
        self.redraw()

    def polygon_complete(self) -> None:
        rec = self.record
        try:
            mask = self.draft.to_mask(self.current_class, rec.width, rec.height)
        except Exception as exc:  # MaskError: the message names the problem
            self.say(f"not closed: {exc}", error=True)
            return
        if self.draft.editing:
            from dataclasses import replace

            old = self.mask_by_id(self.draft.editing)
            mask = replace(mask, id=self.draft.editing, cls=old.cls if old else mask.cls)
        if self.save_mask(mask, f"polygon {mask.cls} {mask.area} px"):
            self.polygon_reset()
        self.redraw()


class BrushTool:
    def brush_reset(self) -> None:
        self.stroke: Stroke | None = None

    def action_radius(self, delta: int) -> None:
        if self.tool == "fill":
            self.tolerance = int(min(255, max(0, self.tolerance + 4 * delta)))
            if self.fill_seed is not None:
                self.fill_preview()  # says the new pixel count
            else:
                self.say(f"tolerance {self.tolerance}")
        else:
            self.radius = int(min(MAX_RADIUS, max(0, self.radius + delta)))
            if self.stroke is not None:
                self.stroke.radius = self.radius
            self.say(f"brush radius {self.radius} px ({2 * self.radius + 1} px wide)")
        self.redraw()

    def action_tip(self) -> None:
        self.tip_shape = "square" if self.tip_shape == "round" else "round"
        self.say(f"tip: {self.tip_shape}")
        self.redraw()

    def brush_primary(self) -> None:
        rec = self.record
        if self.stroke is None:
            self.stroke = Stroke(rec.width, rec.height, self.radius, self.tip_shape)
            self.stroke.to(*self.cursor)
            self.say("pen down: move to paint, space lifts it")
            self.redraw()
            return
        stroke, self.stroke = self.stroke, None
        patch = stroke.patch()
        if patch is not None:
            self.save_patch(patch, value=self.tool == "brush")
        self.redraw()

    def brush_follow(self) -> None:
        if self.stroke is not None:
            self.stroke.to(*self.cursor)


class FillTool:
    def fill_reset(self) -> None:
        self.fill_seed: tuple[int, int] | None = None
        self.preview: Patch | None = None

    def fill_primary(self) -> None:
        self.fill_seed = self.cursor
        self.fill_preview()
        self.redraw()

    def fill_preview(self) -> None:
        pixels = self.load_pixels_now()
        if pixels is None or self.fill_seed is None:
            return
        vp = self.viewport
        region = (vp.x, vp.y, vp.w, vp.h) if vp is not None else None
        self.preview = masks_assist.flood(pixels, *self.fill_seed, self.tolerance, region)
        n = self.preview.count if self.preview else 0
        self.say(f"fill {n} px at tolerance {self.tolerance}: [ ] change it, enter saves")

    def fill_complete(self) -> None:
        if self.preview is None:
            self.say("space fills from the cursor first")
            return
        if self.save_patch(self.preview, value=True, continuing=False):
            self.fill_reset()
        self.redraw()


class BoxMaskTool:
    def box_reset(self) -> None:
        self.anchor: tuple[int, int] | None = None
        self.assist_box: tuple[int, int, int, int] | None = None
        self.proposal: Patch | None = None
        self.marks: dict[bool, Stroke | None] = {True: None, False: None}
        self.marked: dict[bool, list[Patch]] = {True: [], False: []}
        self.pen: bool | None = None  # True: foreground pen down, False: background

    def box_primary(self) -> None:
        self.anchor = self.cursor
        self.say("corner anchored: move to the opposite corner, enter runs the assist")
        self.redraw()

    def box_complete(self) -> None:
        if self.anchor is not None:
            (x0, y0), (x1, y1) = self.anchor, self.cursor
            self.anchor = None
            self.run_assist((min(x0, x1), min(y0, y1), abs(x1 - x0) + 1, abs(y1 - y0) + 1))
        elif self.proposal is not None:
            if self.save_patch(self.proposal, value=True, continuing=False):
                self.box_reset()
        else:
            self.say("s boxes the defect under the cursor; space anchors a box by hand")
        self.redraw()

    def action_box_snap(self) -> None:
        self.set_tool("box")
        pixels = self.load_pixels_now()
        if pixels is None:
            return
        hit = boxedit.box_at(self.annotation().boxes, *self.cursor)
        box = hit or snap_at(
            to_grey(pixels), *self.cursor, self.current_class, radius=2 * max(self.step_px("cell"))
        )
        if box is None:
            self.say("nothing stands out here: space anchors a box by hand", error=True)
            return
        self.run_assist((int(box.x), int(box.y), max(1, round(box.w)), max(1, round(box.h))))
        self.redraw()

    def action_assist_next(self) -> None:
        self.assist_index = (self.assist_index + 1) % len(self.assists)
        if self.assist_box is not None:
            self.run_assist(self.assist_box)
        else:
            self.say(f"assist: {self.assists[self.assist_index].name}")
        self.redraw()

    def action_mark(self, foreground: bool) -> None:
        if self.tool != "box" or self.assist_box is None:
            self.say("mark strokes on a box proposal (s or space/enter first)")
            return
        rec = self.record
        if self.pen is None:
            self.pen = foreground
            self.marks[foreground] = Stroke(rec.width, rec.height, max(1, self.radius // 2))
            self.marks[foreground].to(*self.cursor)
            self.say(
                ("foreground" if foreground else "background") + " pen down: move, "
                "the same key lifts it and re-runs"
            )
        elif self.pen == foreground:
            patch = self.marks[foreground].patch()
            self.marks[foreground], self.pen = None, None
            if patch is not None:
                self.marked[foreground].append(patch)
            self.run_assist(self.assist_box)
        self.redraw()

    def box_follow(self) -> None:
        if self.pen is not None and self.marks[self.pen] is not None:
            self.marks[self.pen].to(*self.cursor)

    def _marks_in(self, box, foreground: bool) -> np.ndarray | None:
        x, y, w, h = box
        if not self.marked[foreground]:
            return None
        out = np.zeros((h, w), bool)
        for p in self.marked[foreground]:
            full = np.zeros((h, w), bool)
            from ...core.mask import paste

            paste(full, p.pixels, p.x - x, p.y - y)
            out |= full
        return out

    def run_assist(self, box: tuple[int, int, int, int]) -> None:
        pixels = self.load_pixels_now()
        rec = self.record
        if pixels is None or rec is None:
            return
        x, y, w, h = box
        x, y = max(0, x), max(0, y)
        box = (x, y, min(w, rec.width - x), min(h, rec.height - y))
        self.assist_box = box
        assist = self.assists[self.assist_index]
        req = masks_assist.AssistRequest(
            pixels, box, self._marks_in(box, True), self._marks_in(box, False)
        )
        try:
            self.proposal = masks_assist.run(assist, req)
        except Exception as exc:  # a site plugin's own failure: say it, keep going
            self.proposal = None
            self.say(f"{assist.name} failed: {exc}", error=True)
            return
        n = self.proposal.count if self.proposal else 0
        self.say(
            f"{assist.name}: {n} px in {box[2]}x{box[3]} - enter saves, a another "
            "assist, . / , foreground/background strokes"
        )
