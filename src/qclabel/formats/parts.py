"""A keypoint set and the box of its part: one object, not two.

A keypoint set belongs to a box of its own class that holds every labeled point (0.5 px
slack; the smallest when several do; each box is the part of one set at most). COCO's
`bbox` of the set, YOLO pose rows and TFRecord objects use that box; a set without one
is boxed by its labeled points.
"""

from __future__ import annotations

from ..core.model import Box, KeypointSet
from .dataset import Dataset, ExportImage

SLACK_PX = 0.5


def part_boxes(ds: Dataset, image: ExportImage) -> dict[str, Box]:
    """keypoint set id -> the (clipped) box of its part."""
    free = list(ds.boxes(image))
    out: dict[str, Box] = {}
    for kps in image.annotation.keypoints:
        cls = kps.cls or kps.template
        pts = [p for p in kps.points if p.v > 0]
        fits = [
            b
            for b in free
            if b.cls == cls
            and pts
            and all(
                b.x - SLACK_PX <= p.x <= b.x2 + SLACK_PX
                and b.y - SLACK_PX <= p.y <= b.y2 + SLACK_PX
                for p in pts
            )
        ]
        if fits:
            box = min(fits, key=lambda b: b.w * b.h)
            free.remove(box)
            out[kps.id] = box
    return out


def keypoint_box(
    image: ExportImage, kps: KeypointSet, parts: dict[str, Box]
) -> tuple[float, float, float, float]:
    """x, y, w, h of a keypoint set's object: its part's box, else its points' hull."""
    box = parts.get(kps.id)
    if box is not None:
        return (box.x, box.y, box.w, box.h)
    return hull(kps, image.record.width, image.record.height)


def hull(kps: KeypointSet, w: int, h: int) -> tuple[float, float, float, float]:
    """Box around the labeled points (clipped), x, y, w, h in pixels."""
    pts = [(min(max(p.x, 0), w), min(max(p.y, 0), h)) for p in kps.points if p.v > 0]
    if not pts:
        return (0.0, 0.0, 0.0, 0.0)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
