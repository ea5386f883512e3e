"""Edge snap in box mode: OpenCV finds the defect's edges around the cursor, the
anchored rough box or the selected box, and the tight box replaces or adds to the labels.
Crisp defects (scratches, cracks) land within 2 px; soft ones come out undersized."""

from __future__ import annotations

from ...core.boxedit import anchored_box
from ...core.model import Box
from ...render.snap import snap_at, snap_box, to_grey


def describe_box(box: Box) -> str:
    return f"{box.cls} {box.x:g},{box.y:g} {box.w:g}x{box.h:g}"


class SnapTool:
    """Mixin for `BoxScreen` (uses its pixels, cursor, anchor, selection and commits)."""

    def action_snap(self) -> None:
        pixels = self.load_pixels_now()
        if pixels is None:
            return
        grey = to_grey(pixels)
        sel = self.selected_box()
        if self.anchor is not None:
            rough = anchored_box(self.current_class, self.anchor, self.cursor, self.severity)
            tight = snap_box(grey, rough)
        elif sel is not None:
            tight = snap_box(grey, sel)
        else:
            tight = snap_at(
                grey,
                *self.cursor,
                self.current_class,
                self.severity,
                radius=2 * max(self.step_px("cell")),
            )
        if tight is None:
            self.say(
                "nothing stands out from the background here: draw the box by hand", error=True
            )
            return
        what = f"{describe_box(tight)} (snapped)"
        if sel is not None and self.anchor is None:
            self._replace(tight, what)
        else:
            self._add(tight, what)
