"""Boxes clipped to the canonical image, as exports write them (`Dataset.boxes`), and
the same numbers without a Box per clipped box (`Dataset.clipped`, what the YOLO,
VOC and COCO writers read: most boxes are clipped, since x + w - x is not w in
floating point, and building 300k Boxes again is a third of an export's time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.model import Box

if TYPE_CHECKING:
    from .dataset import Dataset, ExportImage


def boxes(ds: Dataset, image: ExportImage) -> list[Box]:
    """Boxes clipped to the canonical image; boxes clipped away entirely are dropped."""
    w, h = image.record.width, image.record.height
    out = []
    for box in image.annotation.boxes:
        if box.cls not in ds.class_index:
            ds.class_id(box.cls, image)  # raises, naming the class
        x, y, x2, y2 = box.x, box.y, box.x + box.w, box.y + box.h
        if 0 <= x and 0 <= y and x2 <= w and y2 <= h and x2 - x == box.w and y2 - y == box.h:
            if box.w > 0 and box.h > 0:
                out.append(box)  # inside: clip_box would give the same numbers
            continue
        # clip_box's numbers; the Box is made without re-checking them (finite:
        # clipped from a checked box to the image), a third of an export's time
        x1, y1 = min(max(x, 0.0), w), min(max(y, 0.0), h)
        cw, ch = min(max(x2, 0.0), w) - x1, min(max(y2, 0.0), h) - y1
        if cw > 0 and ch > 0:
            clipped = object.__new__(Box)
            clipped.__dict__.update(
                cls=box.cls, x=x1, y=y1, w=cw, h=ch, severity=box.severity, id=box.id
            )
            out.append(clipped)
    return out


def clipped(ds: Dataset, image: ExportImage) -> list[tuple[Box, float, float, float, float]]:
    """(box, x, y, w, h) for each of `boxes(image)`: the box as labeled and the
    numbers of the box `boxes` gives for it, without building that Box (most boxes
    are rebuilt there: x + w - x is not w in floating point), and without a call
    of min and max per number where the number is already inside."""
    w, h = image.record.width, image.record.height
    index = ds.class_index
    out = []
    for box in image.annotation.boxes:
        if box.cls not in index:
            ds.class_id(box.cls, image)  # raises, naming the class
        x, y, bw, bh = box.x, box.y, box.w, box.h
        x2, y2 = x + bw, y + bh
        if 0 <= x and 0 <= y and x2 <= w and y2 <= h and x2 - x == bw and y2 - y == bh:
            if bw > 0 and bh > 0:
                out.append((box, x, y, bw, bh))  # the box itself there
            continue
        # min(max(v, 0.0), w) of each, as `boxes` clips; a number inside is kept as
        # it is there too (-0.0 included), so the same floats come out
        x1 = x if 0.0 <= x <= w else min(max(x, 0.0), w)
        y1 = y if 0.0 <= y <= h else min(max(y, 0.0), h)
        cw = (x2 if 0.0 <= x2 <= w else min(max(x2, 0.0), w)) - x1
        ch = (y2 if 0.0 <= y2 <= h else min(max(y2, 0.0), h)) - y1
        if cw > 0 and ch > 0:
            out.append((box, x1, y1, cw, ch))
    return out
