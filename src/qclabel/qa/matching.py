"""One-to-one matching of two annotators' boxes by IoU.

Greedy matching (take the best pair, repeat) loses when candidates cross: A1 overlaps
B1 a little more than B2, but A2 overlaps only B1. The Hungarian algorithm
(`scipy.optimize.linear_sum_assignment`) finds the assignment with the largest total
score, so every box gets the partner that is best for the image as a whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.assign import (  # noqa: F401  (box_array, match_*: importable from here)
    MIN_PAIR_IOU,
    BoxMatch,
    assign,
    box_array,
    iou_matrix,
    match_boxes,
    match_iou_matrix,
)

_assign = assign


def greedy_match(ious: np.ndarray, min_iou: float = MIN_PAIR_IOU) -> BoxMatch:
    """Best-pair-first matching, kept as the reference the optimal matching must beat."""
    n, m = ious.shape
    order = sorted(
        ((float(ious[i, j]), i, j) for i in range(n) for j in range(m)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for v, i, j in order:
        if v >= min_iou and i not in used_a and j not in used_b:
            pairs.append((i, j, v))
            used_a.add(i)
            used_b.add(j)
    return BoxMatch(
        tuple(pairs),
        tuple(i for i in range(n) if i not in used_a),
        tuple(j for j in range(m) if j not in used_b),
    )


def mask_iou(rle_a: dict[Any, Any], rle_b: dict[Any, Any]) -> float:
    """IoU of two COCO RLE masks (reserved for the segmentation task)."""
    from pycocotools import mask as mask_utils

    return float(mask_utils.iou([rle_a], [rle_b], [0])[0][0])
