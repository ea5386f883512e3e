"""One label per pixel, for the formats that need it (VOC segmentation PNGs, per-image
PNG masks): the documented overlap rules.

- Semantic task (one layer per class): where class layers overlap, a safety-critical
  class wins over a cosmetic one, and within the same criticality the class listed
  first in the taxonomy wins.
- Instance task: where instances overlap, the smaller mask wins (it would vanish under
  the larger one otherwise); equal areas: the one listed first on the image.
The masks themselves keep every pixel; only these flattened maps resolve overlaps.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .mask import Mask, paste
from .taxonomy import Taxonomy


def draw_order(masks: Sequence[Mask], taxonomy: Taxonomy) -> list[int]:
    """Indices of `masks` in painting order: the winner of an overlap is painted last."""
    if taxonomy.semantic:
        rank = {
            c.name: (c.criticality == "safety-critical", -i) for i, c in enumerate(taxonomy.classes)
        }
        return sorted(range(len(masks)), key=lambda i: rank.get(masks[i].cls, (False, -1e9)))
    return sorted(range(len(masks)), key=lambda i: (-masks[i].area, -i))


def label_maps(
    masks: Sequence[Mask], taxonomy: Taxonomy, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """(class map, instance map), uint8 height x width: class = 1-based taxonomy index,
    instance = 1-based position in `masks`, 0 = background."""
    index = {c: i + 1 for i, c in enumerate(taxonomy.class_names())}
    classes = np.zeros((height, width), np.uint8)
    instances = np.zeros((height, width), np.uint8)
    for i in draw_order(masks, taxonomy):
        m = masks[i]
        on = np.zeros((height, width), bool)
        paste(on, m.region().astype(bool), m.left, m.top)
        classes[on] = index[m.cls]
        instances[on] = min(i + 1, 255)
    return classes, instances
