"""Feature snap in keypoint mode: `m` moves the cursor onto the nearest hole, pin or
corner (render.point_snap); `m` again, with the cursor still there, takes the next
nearest. A point 10-25 px off its fixture position then costs 2-3 keys (`m`, maybe
`m`, `space`) instead of 8-14 cursor keys."""

from __future__ import annotations

from ...render.point_snap import Feature, features_near
from ...render.snap import to_grey


class PointSnap:
    """Mixin for `KeypointScreen` (uses its pixels, cursor and messages)."""

    _snap: tuple[tuple[int, int], list[Feature], int, tuple[int, int]] | None = None

    def action_snap_point(self) -> None:
        pixels = self.load_pixels_now()
        if pixels is None:
            return
        state = self._snap
        if state is not None and state[3] == self.cursor and state[1]:
            origin, found, i, _ = state  # pressed again where the last snap landed
            i = (i + 1) % len(found)
        else:
            origin, found, i = self.cursor, features_near(to_grey(pixels), *self.cursor), 0
        if not found:
            self._snap = None
            self.say(
                "no hole, pin or corner within reach of the cursor: place it by hand", error=True
            )
            return
        f = found[i]
        self.move_cursor(round(f.x), round(f.y))
        self._snap = (origin, found, i, self.cursor)
        more = f" ({i + 1} of {len(found)}: m for the next)" if len(found) > 1 else ""
        self.say(f"snapped to the {f.kind} at {f.x:.1f},{f.y:.1f}{more}; space places")
