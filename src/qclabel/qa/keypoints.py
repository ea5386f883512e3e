"""Keypoint agreement: distance per point, share within the pixel target (PCK), OKS.

OKS follows the COCO formula with per-point sigmas:

    OKS = sum_i exp(-d_i^2 / (2 s^2 k_i^2)) / (number of points both labeled),  k_i = 2 sigma_i

where s^2 is the object's area. With no ground truth between two annotators, the area is
that of the box enclosing both annotators' labeled points (at least 1 px^2). COCO's sigmas
for human joints run from 0.025 (eyes) to 0.107 (hips); inspection points (hole centres,
tab tips, screw heads) are placed precisely, so the default sigma is 0.025 for every
point. A project sets its own in the config:

    [qa.keypoint_sigmas.bracket]     # template name
    hole_left = 0.02
    screw = 0.05
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.model import NOT_LABELED, Keypoint, KeypointSet

DEFAULT_SIGMA = 0.025


@dataclass
class KeypointPair:
    """One matched pair of keypoint sets (same template) from annotators A and B."""

    template: str
    distances: dict[str, float]  # point -> px, for points both annotators labeled
    one_sided: list[str] = field(default_factory=list)  # labeled by only one of them
    oks: float | None = None


def sigmas_for(config: dict[str, Any], template: str, points: Sequence[str]) -> list[float]:
    per_template = config.get("keypoint_sigmas", {}).get(template, {})
    default = float(config.get("keypoint_sigma", DEFAULT_SIGMA))
    return [float(per_template.get(p, default)) for p in points]


def compare_sets(a: KeypointSet, b: KeypointSet, sigmas: Sequence[float]) -> KeypointPair:
    distances: dict[str, float] = {}
    one_sided: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    used_sigmas: list[float] = []
    for i, pa in enumerate(a.points):
        pb = _point(b, pa.name)
        la, lb = pa.v != NOT_LABELED, pb is not None and pb.v != NOT_LABELED
        if la != lb:
            one_sided.append(pa.name)
        if la and lb and pb is not None:
            distances[pa.name] = math.hypot(pa.x - pb.x, pa.y - pb.y)
            xs += [pa.x, pb.x]
            ys += [pa.y, pb.y]
            used_sigmas.append(sigmas[i] if i < len(sigmas) else DEFAULT_SIGMA)
    return KeypointPair(
        a.template, distances, one_sided, oks(list(distances.values()), used_sigmas, xs, ys)
    )


def oks(
    distances: Sequence[float], sigmas: Sequence[float], xs: Sequence[float], ys: Sequence[float]
) -> float | None:
    if not distances:
        return None
    area = max((max(xs) - min(xs)) * (max(ys) - min(ys)), 1.0)
    d = np.asarray(distances, dtype=float)
    k = 2 * np.asarray(sigmas, dtype=float)
    return float(np.mean(np.exp(-(d**2) / (2 * area * k**2))))


def _point(s: KeypointSet, name: str) -> Keypoint | None:
    return next((p for p in s.points if p.name == name), None)


def match_sets(
    a: Sequence[KeypointSet],
    b: Sequence[KeypointSet],
    config: dict[str, Any],
    template_points: Mapping[str, Sequence[str]],
) -> tuple[list[KeypointPair], int, int]:
    """Pair sets of the same template optimally by mean point distance.
    Returns the pairs and the number of sets only A and only B drew."""
    pairs: list[KeypointPair] = []
    only_a = only_b = 0
    for template in sorted({s.template for s in (*a, *b)}):
        sa = [s for s in a if s.template == template]
        sb = [s for s in b if s.template == template]
        points = template_points.get(template) or [p.name for p in (sa or sb)[0].points]
        sig = sigmas_for(config, template, points)
        table = [[compare_sets(x, y, sig) for y in sb] for x in sa]
        cost = np.array([[_cost(p) for p in row] for row in table]).reshape(len(sa), len(sb))
        from scipy.optimize import linear_sum_assignment  # slow import: when matching

        rows, cols = linear_sum_assignment(cost) if cost.size else ([], [])
        pairs += [table[r][c] for r, c in zip(rows, cols)]
        only_a += len(sa) - len(rows)
        only_b += len(sb) - len(cols)
    return pairs, only_a, only_b


def _cost(p: KeypointPair) -> float:
    # Sets with no commonly labeled point pair last; otherwise closest mean distance.
    return float(np.mean(list(p.distances.values()))) if p.distances else 1e9
