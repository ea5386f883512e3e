"""Optimal one-to-one assignment of two annotators' objects by a pairwise score.

Greedy matching (take the best pair, repeat) loses when candidates cross: A1 overlaps
B1 a little more than B2, but A2 overlaps only B1. The Hungarian algorithm
(`scipy.optimize.linear_sum_assignment`) finds the assignment with the largest total
score, so every object gets the partner that is best for the image as a whole. Boxes
pair on box IoU, masks on mask IoU (core.mask_kind); both share `assign`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .model import Box

# Boxes overlapping less than this are different objects (one missing, one extra),
# not a badly drawn pair: pairing them would hide two misses behind one low IoU.
MIN_PAIR_IOU = 0.1


@dataclass(frozen=True)
class BoxMatch:
    pairs: tuple[tuple[int, int, float], ...]  # (index in A, index in B, IoU)
    unmatched_a: tuple[int, ...]
    unmatched_b: tuple[int, ...]

    @property
    def total_iou(self) -> float:
        return float(sum(p[2] for p in self.pairs))


def box_array(boxes: Sequence[Box]) -> np.ndarray:
    """(n, 4) array of x, y, w, h."""
    if not boxes:
        return np.zeros((0, 4))
    return np.array([(b.x, b.y, b.w, b.h) for b in boxes], dtype=float)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in `a` (n, 4 as x, y, w, h) with every box in `b` (m, 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ax1, ay1, aw, ah = (a[:, i : i + 1] for i in range(4))
    bx1, by1, bw, bh = (b[:, i] for i in range(4))
    iw = np.clip(np.minimum(ax1 + aw, bx1 + bw) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay1 + ah, by1 + bh) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def match_boxes(
    a: Sequence[Box],
    b: Sequence[Box],
    min_iou: float = MIN_PAIR_IOU,
    prefer_same_class: bool = True,
) -> BoxMatch:
    """Optimal one-to-one matching. With `prefer_same_class`, a same-class pair beats
    any cross-class pair (class agreement first, then total IoU), so a class mismatch
    is only reported where no same-class partner exists."""
    ious = iou_matrix(box_array(a), box_array(b))
    score = ious.copy()
    if prefer_same_class and ious.size:
        same = np.array([[x.cls == y.cls for y in b] for x in a])
        score = score + same
    return assign(ious, score, min_iou)


def match_iou_matrix(ious: np.ndarray, min_iou: float = MIN_PAIR_IOU) -> BoxMatch:
    """Optimal matching on a ready IoU matrix (class-blind)."""
    return assign(ious, ious, min_iou)


def assign(ious: np.ndarray, score: np.ndarray, min_iou: float) -> BoxMatch:
    n, m = ious.shape
    if n == 0 or m == 0:
        return BoxMatch((), tuple(range(n)), tuple(range(m)))
    eligible = ious >= min_iou
    from scipy.optimize import linear_sum_assignment  # 1-2 s to import: only when matching

    rows, cols = linear_sum_assignment(np.where(eligible, score, 0.0), maximize=True)
    pairs = tuple((int(r), int(c), float(ious[r, c])) for r, c in zip(rows, cols) if eligible[r, c])
    used_a = {p[0] for p in pairs}
    used_b = {p[1] for p in pairs}
    return BoxMatch(
        pairs,
        tuple(i for i in range(n) if i not in used_a),
        tuple(j for j in range(m) if j not in used_b),
    )
