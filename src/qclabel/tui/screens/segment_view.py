"""What the segmentation screen draws (a mixin of `SegmentScreen`): the masks in
class colour (render.maskview), the draft in white, polygon vertices, and the side
column's tool state and instance list (class, severity, area, length)."""

from __future__ import annotations

import numpy as np

from ...core.mask import Mask
from ...core.mask_measure import measure
from ...maskedit.brush import Patch
from ...render.cellmap import pixel_cell
from ...render.maskview import draw_mask
from ...render.overlay import ANCHOR, Glyph, Overlay, _put, draw_anchor, line_cells
from ...render.viewport import Viewport

DRAFT_COLOUR = "#ffffff"


class SegmentView:
    # -- drawing ---------------------------------------------------------------------------------
    def picture(self) -> np.ndarray | None:
        frame = self.image_view.frame
        if frame is None:
            return None
        if self._picture is None or self._picture[0] != id(frame):
            self._picture = (id(frame), np.asarray(frame.picture.convert("RGB")))
        return self._picture[1]

    def draw_tool(self, ov: Overlay, vp: Viewport) -> None:
        mode, pic = self.app.graphics, self.picture()
        for m in self.masks:
            draw_mask(
                ov, vp, m, self.colour(m.cls), mode, pic, self.display_style, m.id == self.selected
            )
        draft = self.draft_patch()
        if draft is not None:
            ghost = Mask.from_array(self.current_class, draft.pixels, draft.x, draft.y)
            draw_mask(ov, vp, ghost, DRAFT_COLOUR, mode, pic, "fill", True)
        self.draw_vertices(ov, vp)
        if self.anchor is not None:
            draw_anchor(ov, vp, *self.anchor)

    def draft_patch(self) -> Patch | None:
        """What the tool would save now (shown in white over the picture)."""
        if self.stroke is not None:
            return self.stroke.patch()
        if self.tool == "fill":
            return self.preview
        if self.tool == "box":
            return self.proposal
        return None

    def draw_vertices(self, ov: Overlay, vp: Viewport) -> None:
        colour = self.colour(self.current_class)
        for ring in self.draft.rings:
            cells = [pixel_cell(vp, x, y) for x, y in ring]
            for a, b in zip(cells, cells[1:] + cells[:1] if len(cells) > 2 else cells[1:]):
                for cell in line_cells(a, b)[1:-1]:
                    _put(ov, vp, cell, Glyph("·", colour))
            for cell in cells:
                _put(ov, vp, cell, Glyph(ANCHOR, colour, True))

    def measured(self, m: Mask):
        key = (m.id, m.rle, m.left, m.top)
        if key not in self._measures:
            rec = self.record
            self._measures[key] = measure(m, rec.mm_per_px if rec else None)
        return self._measures[key]

    def tool_text(self) -> str:
        tool = self.tool + (
            f" r{self.radius} {self.tip_shape}"
            if self.tool in ("brush", "eraser")
            else f" tol {self.tolerance}"
            if self.tool == "fill"
            else f" {self.assists[self.assist_index].name}"
            if self.tool == "box"
            else ""
        )
        lines = [
            f"tool   {tool}" + ("  PEN DOWN" if self.stroke is not None else ""),
            f"next   {self.current_class}",
            f"protect {'on' if self.protect_others else 'OFF'}  show {self.display_style}",
        ]
        for n, m in enumerate(self.masks, 1):
            mark = ">" if m.id == self.selected else ("*" if m.id == self.painting else " ")
            lines.append(
                f"{mark}{n} {m.cls} {m.severity or '-'}" + ("!" if m.severity_override else "")
            )
            lines.append("    " + describe_measure(self.measured(m)))
        return "\n".join(lines)


def describe_measure(mm) -> str:
    if mm.area_mm2 is None:
        return f"{mm.area_px} px2  L {mm.length_px:.0f} px"
    return f"{mm.area_mm2:.2f} mm2  L {mm.length_mm:.2f} mm"
