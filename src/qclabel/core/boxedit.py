"""Box editing math for the box tool, in canonical-image pixels.

A box covers whole pixels: x, y is the top-left pixel, w, h count pixels, so a box
always has w, h >= 1 and lies inside the image. Every function returns a new Box
(same id unless stated); turning it into a label change is `core.edits`' job.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from .geometry import box_from_corners
from .ids import new_id
from .model import Box

EDGES = ("left", "top", "right", "bottom")


def clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def clamp_point(x: int, y: int, width: int, height: int) -> tuple[int, int]:
    """A pixel position inside the image."""
    return clamp(x, 0, width - 1), clamp(y, 0, height - 1)


def anchored_box(
    cls: str, anchor: tuple[int, int], corner: tuple[int, int], severity: str | None = None
) -> Box:
    """The box spanning the anchored corner pixel and the cursor pixel, both included."""
    return box_from_corners(cls, anchor[0], anchor[1], corner[0], corner[1], severity)


def _sides(box: Box) -> tuple[int, int, int, int]:
    """Inclusive pixel bounds: left, top, right, bottom."""
    return (round(box.x), round(box.y), round(box.x2) - 1, round(box.y2) - 1)


def _from_sides(box: Box, left: int, top: int, right: int, bottom: int) -> Box:
    return replace(box, x=left, y=top, w=right - left + 1, h=bottom - top + 1)


def move_edge(box: Box, edge: str, delta: int, width: int, height: int) -> Box:
    """Move one edge by `delta` pixels; the box keeps at least one pixel per side
    and stays inside the image."""
    left, top, right, bottom = _sides(box)
    if edge == "left":
        left = clamp(left + delta, 0, right)
    elif edge == "right":
        right = clamp(right + delta, left, width - 1)
    elif edge == "top":
        top = clamp(top + delta, 0, bottom)
    elif edge == "bottom":
        bottom = clamp(bottom + delta, top, height - 1)
    else:
        raise ValueError(f"edge must be one of {EDGES}, not {edge!r}")
    return _from_sides(box, left, top, right, bottom)


def move_box(box: Box, dx: int, dy: int, width: int, height: int) -> Box:
    """Translate without resizing; stops at the image border."""
    left, top, right, bottom = _sides(box)
    dx = clamp(dx, -left, width - 1 - right)
    dy = clamp(dy, -top, height - 1 - bottom)
    return _from_sides(box, left + dx, top + dy, right + dx, bottom + dy)


def duplicate(box: Box, width: int, height: int, offset: int = 10) -> Box:
    """A copy with a new id, shifted so both stay visible (inside the image)."""
    copy = replace(box, id=new_id())
    moved = move_box(copy, offset, offset, width, height)
    if (moved.x, moved.y) == (box.x, box.y):
        moved = move_box(copy, -offset, -offset, width, height)
    return moved


def copy_boxes(boxes: Iterable[Box], width: int, height: int) -> tuple[Box, ...]:
    """Boxes from another image, with new ids, clipped to this image (parts of one
    fixture share a position; a smaller image must not get boxes outside it)."""
    out = []
    for b in boxes:
        left, top, right, bottom = _sides(b)
        left, top = clamp(left, 0, width - 1), clamp(top, 0, height - 1)
        right, bottom = clamp(right, left, width - 1), clamp(bottom, top, height - 1)
        out.append(_from_sides(replace(b, id=new_id()), left, top, right, bottom))
    return tuple(out)


def box_at(boxes: Iterable[Box], x: float, y: float) -> Box | None:
    """The smallest box containing the pixel (nested defects: the inner one wins)."""
    hits = [b for b in boxes if b.x <= x < b.x2 and b.y <= y < b.y2]
    return min(hits, key=lambda b: b.w * b.h) if hits else None


def cycle(boxes: tuple[Box, ...], current: str | None, step: int) -> str | None:
    """The id of the next (step=1) or previous (step=-1) box, wrapping around."""
    if not boxes:
        return None
    ids = [b.id for b in boxes]
    if current not in ids:
        return ids[0] if step > 0 else ids[-1]
    return ids[(ids.index(current) + step) % len(ids)]
