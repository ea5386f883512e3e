"""A polygon being drawn: rings of vertices placed at the cursor, edited vertex by
vertex, closed into a mask. Ring 0 is the outline; later rings are holes.

Vertices sit on pixel centres (pixel x, y -> x + 0.5, y + 0.5 in COCO corner-origin
coordinates) and the cursor never leaves the image, so a polygon never reaches outside
it. The raster is pycocotools' (the project's one polygon rasterizer, core.mask); a
mask without holes keeps its polygons (editable again), one with holes is stored as
its raster (COCO polygons of one object are a union: they cannot carve a hole).
Every vertex action can be undone inside the draft; closing it is one journaled edit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..core.mask import Mask, MaskError, Polygon, rasterize
from ..core.mask_kind import self_intersects
from .brush import Patch, clip_patch

Point = tuple[int, int]


def _seg_dist2(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = (
        0.0
        if dx == dy == 0
        else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    )
    qx, qy = ax + t * dx, ay + t * dy
    return (px - qx) ** 2 + (py - qy) ** 2


def ring_coords(ring: list[Point]) -> Polygon:
    return tuple(v + 0.5 for p in ring for v in p)


@dataclass
class PolygonDraft:
    rings: list[list[Point]] = field(default_factory=lambda: [[]])
    grabbed: int | None = None  # vertex following the cursor (move)
    editing: str | None = None  # id of the mask whose polygons are edited
    _undo: list[list[list[Point]]] = field(default_factory=list)

    @classmethod
    def of_mask(cls, mask: Mask) -> "PolygonDraft":
        """Edit a drawn mask's polygons again (each ring an outline)."""
        rings = [
            [(int(np.floor(r[i])), int(np.floor(r[i + 1]))) for i in range(0, len(r), 2)]
            for r in mask.polygons
        ]
        return cls(rings=rings or [[]], editing=mask.id)

    @property
    def ring(self) -> list[Point]:
        return self.rings[-1]

    @property
    def empty(self) -> bool:
        return not any(self.rings)

    def _save(self) -> None:
        self._undo.append(copy.deepcopy(self.rings))

    def undo(self) -> bool:
        if not self._undo:
            return False
        self.rings, self.grabbed = self._undo.pop(), None
        return True

    # -- vertex actions ---------------------------------------------------------------
    def add(self, p: Point) -> None:
        self._save()
        self.ring.append(p)

    def nearest(self, p: Point) -> int | None:
        if not self.ring:
            return None
        d = [(q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2 for q in self.ring]
        return int(np.argmin(d))

    def insert(self, p: Point) -> None:
        """A vertex at p on the ring's nearest edge (between its two ends)."""
        ring = self.ring
        if len(ring) < 2:
            self.add(p)
            return
        n = len(ring)
        best = min(range(n), key=lambda i: _seg_dist2(p, ring[i], ring[(i + 1) % n]))
        self._save()
        ring.insert(best + 1, p)

    def grab(self, p: Point) -> bool:
        """Pick up the vertex nearest p (it follows the cursor) or put it down."""
        if self.grabbed is not None:
            self.grabbed = None
            return False
        i = self.nearest(p)
        if i is None:
            return False
        self._save()
        self.grabbed = i
        return True

    def follow(self, p: Point) -> None:
        if self.grabbed is not None:
            self.ring[self.grabbed] = p

    def delete(self, p: Point) -> bool:
        i = self.nearest(p)
        if i is None:
            return False
        self._save()
        del self.ring[i]
        self.grabbed = None
        return True

    def start_hole(self) -> str | None:
        """Close the current ring and start a hole; an error text when it cannot."""
        problem = self.ring_problem(self.ring)
        if problem:
            return problem
        self._save()
        self.rings.append([])
        self.grabbed = None
        return None

    # -- closing ----------------------------------------------------------------------------
    @staticmethod
    def ring_problem(ring: list[Point]) -> str | None:
        if len(set(ring)) < 3:
            return f"a ring needs 3 distinct vertices (it has {len(set(ring))})"
        if self_intersects(ring_coords(ring)):
            return "the ring crosses itself: move or delete a vertex"
        return None

    def closed_rings(self) -> list[list[Point]]:
        return [r for r in self.rings if r]

    def problem(self) -> str | None:
        rings = self.closed_rings()
        if not rings:
            return "no vertices: space places one at the cursor"
        for n, r in enumerate(rings):
            p = self.ring_problem(r)
            if p:
                return (f"hole {n}: " if n else "") + p
        return None

    def to_mask(self, cls: str, width: int, height: int, **kw) -> Mask:
        """The closed draft as a mask of `cls` (MaskError when it cannot close)."""
        problem = self.problem()
        if problem:
            raise MaskError(problem)
        rings = [ring_coords(r) for r in self.closed_rings()]
        outline, holes = rings[0], rings[1:]
        if not holes:
            mask = Mask.from_polygons(cls, [outline], **kw)
            clipped = mask.clipped(width, height)
            if clipped is None:
                raise MaskError("the polygon covers no pixel of the image")
            return clipped
        patch = self.raster(width, height)
        if patch is None:
            raise MaskError("the holes leave no pixel of the outline")
        return Mask.from_array(cls, patch.pixels, patch.x, patch.y, **kw)

    def raster(self, width: int, height: int) -> Patch | None:
        """Outline minus holes, clipped to the image (also the live preview)."""
        rings = [r for r in self.closed_rings() if len(set(r)) >= 3]
        if not rings:
            return None
        arr, x, y = rasterize([ring_coords(rings[0])])
        out = arr.astype(bool)
        for hole in rings[1:]:
            h, hx, hy = rasterize([ring_coords(hole)])
            full = np.zeros_like(out)
            ys0, xs0 = max(hy - y, 0), max(hx - x, 0)
            ys1 = min(hy - y + h.shape[0], out.shape[0])
            xs1 = min(hx - x + h.shape[1], out.shape[1])
            if ys1 > ys0 and xs1 > xs0:
                full[ys0:ys1, xs0:xs1] = h.astype(bool)[
                    ys0 - (hy - y) : ys1 - (hy - y), xs0 - (hx - x) : xs1 - (hx - x)
                ]
            out &= ~full
        return clip_patch(out, x, y, width, height)
