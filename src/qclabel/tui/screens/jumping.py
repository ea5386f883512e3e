"""The jump grid of the pixel tools: `g`, a column letter, a row letter.

Stages: the first grid divides the picture (25 x 25 slots at most). When the slot a
jump lands in covers several pixels, `g` pressed right after the landing continues
inside that slot: the view zooms until every pixel has its own cell and the slot's
pixels get letters, so two more letters reach the exact pixel. The letters are a-z
without q: q quits at once, also in the middle of a jump.

Box mode builds on it (`a`): the stages continue by themselves until the pixel is
exact, the corner is anchored there, and a last stage labels the pixels to the right
of and below the anchor: two letters pick the opposite corner and complete the box.
"""

from __future__ import annotations

from textual import events

from ...render import cellmap as cm, jumpgrid
from ...render.jumpgrid import Area
from ...render.overlay import Overlay
from ...render.viewport import Viewport

PURPOSES = ("cursor", "anchor", "corner")


class JumpKeys:
    """Mixin for `PointerScreen` (uses its viewport, cursor, move_cursor, say, redraw)."""

    def reset_jump(self) -> None:
        self.jumping: list[int] | None = None  # slots typed in the current stage
        self.jump_area: Area | None = None  # None: the picture's grid
        self.jump_purpose = "cursor"
        self.refine: tuple[Area, tuple[int, int]] | None = None  # last landing's slot
        self.jump_home: Viewport | None = None  # the view to go back to after `a`

    # -- starting --------------------------------------------------------------------------
    def action_jump_grid(self) -> None:
        if self.viewport is None or self.record is None:
            return
        area = self.refine[0] if self.refine and self.refine[1] == self.cursor else None
        self.start_jump(area, "cursor")

    def start_jump(self, area: Area | None, purpose: str) -> None:
        self.jumping, self.jump_area, self.jump_purpose = [], area, purpose
        self.refine = None
        if area is not None:
            view = jumpgrid.stage_view(self.viewport, area)
            if view != self.viewport:
                self.viewport = view
                self.show_image(keep_view=True)
        what = {"cursor": "jump", "anchor": "anchor", "corner": "opposite corner"}[purpose]
        self.say(f"{what}: column letter, then row letter (escape cancels)")
        self.redraw()

    def jump_rulers(self, ov: Overlay, vp: Viewport) -> None:
        if self.jumping is None:
            return
        if vp != self.viewport:
            return  # rulers belong to the view being loaded: drawn once it is shown
        if self.jump_area is None:
            ov.update(jumpgrid.rulers(vp))
        else:
            ov.update(jumpgrid.area_rulers(vp, self.jump_area))

    # -- typing ------------------------------------------------------------------------------
    def jump_key(self, event: events.Key) -> bool:
        """Handle a key during a jump. False: not a grid letter; the jump ends and the
        key does its usual job (arrows move the cursor, a class key picks the class)."""
        char = event.character or ""
        if event.key == "escape":
            event.stop()
            self.end_jump("jump cancelled")
            self.jump_cancelled()
            return True
        if len(char) != 1 or char.lower() not in jumpgrid.LETTERS:
            self.end_jump("")  # q (quit), arrows, digits: the jump ends, the key acts
            return False
        event.stop()
        axis = len(self.jumping)
        if self.jump_area is not None:
            slot = self.jump_area.index(char.lower(), axis)
        else:
            slot = jumpgrid.index(self.viewport, char.lower(), axis)
        if slot is None:
            self.end_jump("jump cancelled")
            return True
        self.jumping.append(slot)
        if len(self.jumping) < 2:
            self.redraw()
        else:
            self._landed(*self.jumping)
        return True

    def end_jump(self, message: str) -> None:
        self.jumping, self.jump_area = None, None
        self.say(message)
        self.redraw()

    def _landed(self, i: int, j: int) -> None:
        vp = self.viewport  # the keys' view (see PointerScreen.step_px)
        if self.jump_area is None:
            area = jumpgrid.slot_area(vp, i, j)
            x, y = cm.cell_pixel(vp, *jumpgrid.slot_cell(vp, i, j))
        else:
            area = self.jump_area.slot(i, j)
            x, y = area.centre
        purpose = self.jump_purpose
        self.jumping, self.jump_area = None, None
        area = jumpgrid.widened(area, self.viewport)
        if purpose != "cursor" and not area.exact:
            self.cursor = (x, y)
            self.start_jump(area, purpose)  # anchoring wants the exact pixel: go on
            return
        self.say("" if area.exact else "g again: the exact pixel inside this slot")
        self.move_cursor(x, y)
        if not area.exact:
            self.refine = (area, self.cursor)
        elif purpose == "anchor":
            self.jump_anchored()
        elif purpose == "corner":
            self.jump_completed()

    # hooks for box mode
    def jump_anchored(self) -> None: ...

    def jump_cancelled(self) -> None: ...

    def jump_completed(self) -> None: ...


class AnchorJump:
    """Box mode's `a`: a jump that anchors at the exact pixel it lands on, then a jump
    for the opposite corner that completes the box (class key + 7 keys at most for a
    box up to 25 pixels across; see README "boxes")."""

    def action_anchor_jump(self) -> None:
        if self.viewport is None or self.record is None:
            return
        self.anchor, self.selected, self.edit_target = None, None, None
        self.jump_home = self.viewport
        self.start_jump(None, "anchor")

    def jump_anchored(self) -> None:
        self.action_anchor()
        self.start_jump(jumpgrid.corner_area(self.viewport, *self.anchor), "corner")

    def jump_completed(self) -> None:
        self.action_complete()
        if self.anchor is None:  # done: back to the view of before
            self.go_home_view()

    def jump_cancelled(self) -> None:
        """Escape in a stage of `a`: back to the view of before, the anchor (if any)
        kept, so a corner beyond the stage's pixels is reached with `g` and `enter`."""
        self.go_home_view()

    def go_home_view(self) -> None:
        home, self.jump_home = self.jump_home, None
        if home is not None and home != self.viewport:
            self.viewport = home
            self.show_image(keep_view=True)
