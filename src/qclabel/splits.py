"""Train/val/test splits: stratified by defect class, grouped by a manufacturing field.

Every image of one group (one part, lot or serial number) lands in the same split, so
a model is never validated on a part it saw in training. Within that constraint the
groups are dealt out so each split gets its share of every class (images with no
objects count as a class of their own). The result depends only on the images, their
classes, the groups, the ratios and the seed.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .errors import QclabelError

SPLIT_NAMES = ("train", "val", "test")
BACKGROUND = "(no objects)"


class SplitError(QclabelError):
    """Split ratios or the grouping field are unusable."""


@dataclass(frozen=True)
class SplitItem:
    image: str
    classes: tuple[str, ...]
    group: str


def parse_ratios(text: str | None) -> tuple[float, ...]:
    """'0.8,0.1,0.1' -> (0.8, 0.1, 0.1) for train, val, test. Ratios must add up to 1:
    '8,1,1' is refused rather than guessed at (it may be a typo for 0.8,0.1,0.1 or not)."""
    if not text:
        return (1.0,)
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise SplitError(f"--split {text!r}: expected numbers such as 0.8,0.1,0.1") from None
    if not 1 <= len(parts) <= 3 or any(not p >= 0 for p in parts) or sum(parts) <= 0:
        raise SplitError(
            f"--split {text!r}: give 1 to 3 non-negative ratios "
            "(train,val,test) with a positive sum"
        )
    return unit_sum(parts, f"--split {text!r}")


def unit_sum(parts: tuple[float, ...], where: str) -> tuple[float, ...]:
    """Ratios that add up to 1 (within float rounding, which is then removed)."""
    total = sum(parts)
    if abs(total - 1) > 1e-6:
        raise SplitError(f"{where}: the ratios add up to {total:g}, not 1 (e.g. 0.8,0.1,0.1)")
    return tuple(p / total for p in parts)


def group_key(image: str, fields: dict[str, str], group_by: str | None, file: str) -> str:
    if not group_by:
        return image
    value = fields.get(group_by)
    if value in (None, ""):
        raise SplitError(
            f"{file}: image {image} has no {group_by!r} field to group by "
            f"(fields: {sorted(fields) or 'none'})"
        )
    return f"{group_by}={value}"


def assign_splits(
    items: Iterable[SplitItem], ratios: tuple[float, ...], seed: int = 0
) -> dict[str, str]:
    """image id -> split name."""
    items = list(items)
    names = SPLIT_NAMES[: len(ratios)]
    groups: dict[str, list[SplitItem]] = {}
    for it in sorted(items, key=lambda i: i.image):
        groups.setdefault(it.group, []).append(it)
    counts = {
        g: Counter(c for it in members for c in (set(it.classes) or {BACKGROUND}))
        for g, members in groups.items()
    }
    totals: Counter[str] = sum(counts.values(), Counter())
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    # Rare classes first: they have the fewest groups to spread, so they pick first.
    order.sort(key=lambda g: (min(totals[c] for c in counts[g]), -len(groups[g])))
    have = {s: Counter() for s in names}
    size = Counter()
    n_total = len(items)
    out: dict[str, str] = {}
    for g in order:
        split = _best_split(names, ratios, counts[g], totals, have, size, n_total)
        have[split].update(counts[g])
        size[split] += len(groups[g])
        for it in groups[g]:
            out[it.image] = split
    return out


def _best_split(
    names: tuple[str, ...],
    ratios: tuple[float, ...],
    group: Counter,
    totals: Counter,
    have: dict[str, Counter],
    size: Counter,
    n_total: int,
) -> str:
    """An empty split first (so no requested split ends up with nothing), then the
    split furthest below its share of this group's classes, then of images."""

    def deficit(i: int) -> tuple[bool, float, float, float]:
        s, r = names[i], ratios[i]
        cls = sum((r * totals[c] - have[s][c]) / totals[c] for c in group)
        return (size[s] == 0, cls / len(group), r * n_total - size[s], r)

    candidates = [i for i, r in enumerate(ratios) if r > 0]
    return names[max(candidates, key=deficit)]
