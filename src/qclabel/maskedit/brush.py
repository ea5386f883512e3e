"""Brush and eraser: a round or square tip stamped along the cursor's path.

A stroke starts when the pen goes down and ends when it comes up; every cursor move in
between adds the straight segment from the previous position (a jump of ten cells
leaves no gaps). The result is binary (no soft edges) and clipped to the image: a
patch never has a pixel outside it, whatever the radius or the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..core.mask import Mask, paste

MAX_RADIUS = 200


@dataclass(frozen=True)
class Patch:
    """A bool array whose top-left pixel is image pixel (x, y)."""

    pixels: np.ndarray
    x: int
    y: int

    @property
    def count(self) -> int:
        return int(np.count_nonzero(self.pixels))

    def full(self, width: int, height: int) -> np.ndarray:
        out = np.zeros((height, width), bool)
        paste(out, self.pixels, self.x, self.y)
        return out


def tip(radius: int, shape: str = "round") -> np.ndarray:
    """The tip: (2r+1)^2 pixels; round = pixel centres within r + 0.5 of the centre."""
    r = max(0, int(radius))
    if shape == "square":
        return np.ones((2 * r + 1, 2 * r + 1), bool)
    if shape != "round":
        raise ValueError(f"tip shape must be round or square, not {shape!r}")
    ys, xs = np.mgrid[-r : r + 1, -r : r + 1]
    return xs * xs + ys * ys <= (r + 0.5) ** 2


def line_points(a: tuple[int, int], b: tuple[int, int]) -> list[tuple[int, int]]:
    """Every pixel of the Bresenham line a -> b, both ends included."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err, out = dx + dy, []
    while True:
        out.append((x0, y0))
        if (x0, y0) == (x1, y1):
            return out
        e2 = 2 * err
        if e2 >= dy:
            err, x0 = err + dy, x0 + sx
        if e2 <= dx:
            err, y0 = err + dx, y0 + sy


def clip_patch(pixels: np.ndarray, x: int, y: int, width: int, height: int) -> Patch | None:
    """The part of a patch inside the image, cut to its set pixels (None: nothing left)."""
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + pixels.shape[1]), min(height, y + pixels.shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    cut = np.asarray(pixels, bool)[y0 - y : y1 - y, x0 - x : x1 - x]
    rows, cols = np.flatnonzero(cut.any(axis=1)), np.flatnonzero(cut.any(axis=0))
    if not len(rows):
        return None
    cut = cut[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return Patch(cut.copy(), x0 + int(cols[0]), y0 + int(rows[0]))


def stamp(
    points: Sequence[tuple[int, int]], radius: int, shape: str, width: int, height: int
) -> Patch | None:
    """The tip stamped at every point (a path), clipped to the image."""
    if not points:
        return None
    t = tip(radius, shape)
    r = t.shape[0] // 2
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, y0 = min(xs) - r, min(ys) - r
    canvas = np.zeros((max(ys) - y0 + r + 1, max(xs) - x0 + r + 1), bool)
    for px, py in points:
        canvas[py - r - y0 : py + r + 1 - y0, px - r - x0 : px + r + 1 - x0] |= t
    return clip_patch(canvas, x0, y0, width, height)


@dataclass
class Stroke:
    """One pen-down ... pen-up stroke: the cursor path, the tip, the image size."""

    width: int
    height: int
    radius: int = 3
    shape: str = "round"
    path: list[tuple[int, int]] = field(default_factory=list)

    def to(self, x: int, y: int) -> None:
        """The cursor moved (or the pen went down) at pixel x, y."""
        x = min(max(int(x), 0), self.width - 1)
        y = min(max(int(y), 0), self.height - 1)
        if not self.path:
            self.path.append((x, y))
        elif (x, y) != self.path[-1]:
            self.path.extend(line_points(self.path[-1], (x, y))[1:])

    def patch(self) -> Patch | None:
        return stamp(self.path, self.radius, self.shape, self.width, self.height)


def protect(patch: Patch, others: Iterable[Mask]) -> Patch | None:
    """The patch without the pixels of `others` ("protect other instances": painting
    one defect never changes another)."""
    px = patch.pixels.copy()
    h, w = px.shape
    for m in others:
        x0, y0 = max(patch.x, m.left), max(patch.y, m.top)
        x1, y1 = min(patch.x + w, m.x2), min(patch.y + h, m.y2)
        if x1 <= x0 or y1 <= y0:
            continue
        region = m.region().astype(bool)[y0 - m.top : y1 - m.top, x0 - m.left : x1 - m.left]
        px[y0 - patch.y : y1 - patch.y, x0 - patch.x : x1 - patch.x] &= ~region
    return clip_patch(px, patch.x, patch.y, patch.x + w, patch.y + h)


def touches(patch: Patch, m: Mask) -> bool:
    """True when the patch sets a pixel of mask `m` (an eraser then changes it)."""
    x0, y0 = max(patch.x, m.left), max(patch.y, m.top)
    x1 = min(patch.x + patch.pixels.shape[1], m.x2)
    y1 = min(patch.y + patch.pixels.shape[0], m.y2)
    if x1 <= x0 or y1 <= y0:
        return False
    a = patch.pixels[y0 - patch.y : y1 - patch.y, x0 - patch.x : x1 - patch.x]
    b = m.region().astype(bool)[y0 - m.top : y1 - m.top, x0 - m.left : x1 - m.left]
    return bool((a & b).any())
