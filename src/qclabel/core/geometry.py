"""Box geometry in canonical-image pixels: IoU, clipping, format conversions."""

from __future__ import annotations

import math

from .model import Box


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    ix = max(0.0, min(a.x2, b.x2) - max(a.x, b.x))
    iy = max(0.0, min(a.y2, b.y2) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def clip_box(box: Box, width: int, height: int) -> Box:
    """Clip to the image; consumers such as Ultralytics drop out-of-range values."""
    x1, y1 = min(max(box.x, 0.0), width), min(max(box.y, 0.0), height)
    x2, y2 = min(max(box.x2, 0.0), width), min(max(box.y2, 0.0), height)
    return Box(box.cls, x1, y1, x2 - x1, y2 - y1, box.severity, box.id)


def box_from_corners(
    cls: str, x1: float, y1: float, x2: float, y2: float, severity: str | None = None
) -> Box:
    """A box spanning two anchored corner *pixels*, both included."""
    left, right = min(x1, x2), max(x1, x2)
    top, bottom = min(y1, y2), max(y1, y2)
    return Box(cls, left, top, right - left + 1, bottom - top + 1, severity)


def to_yolo(box: Box, width: int, height: int) -> tuple[float, float, float, float]:
    """Normalized centre x, centre y, w, h."""
    return (
        (box.x + box.w / 2) / width,
        (box.y + box.h / 2) / height,
        box.w / width,
        box.h / height,
    )


def from_yolo(cls: str, cx: float, cy: float, w: float, h: float, width: int, height: int) -> Box:
    bw, bh = w * width, h * height
    return Box(cls, cx * width - bw / 2, cy * height - bh / 2, bw, bh)


def to_voc(box: Box) -> tuple[int, int, int, int]:
    """VOC devkit convention: 1-based, inclusive corners, integers."""
    return (round(box.x) + 1, round(box.y) + 1, round(box.x2), round(box.y2))


def from_voc(cls: str, xmin: float, ymin: float, xmax: float, ymax: float) -> Box:
    return Box(cls, xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1)


def distance(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])
