"""The mask part of the QA report: tallies per group (all, per pair, per task) and per
class, filled from each image's qa.mask_agreement.MaskComparison.

    "masks": {"matched_pairs", "mean_iou", "share_at_target", "missing", "extra",
              "class_mismatch", "per_class": {cls: {"pairs", "mean_iou",
              "share_at_target", "missing", "extra", "layers", "mean_dice"}}}

Instance masks give matched pairs (missing = masks only A painted, extra = only B);
semantic class layers give one IoU and Dice per image and class painted by both
(a layer only one side painted counts as missing or extra).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _mean(xs: list[float]) -> float | None:
    return round(float(np.mean(xs)), 4) if xs else None


def _share(xs: list[float], target: float) -> float | None:
    return round(sum(v >= target for v in xs) / len(xs), 4) if xs else None


@dataclass
class MaskTally:
    ious: list[float] = field(default_factory=list)
    missing: int = 0
    extra: int = 0
    class_mismatch: int = 0
    per_class: dict[str, dict[str, Any]] = field(
        default_factory=lambda: defaultdict(
            lambda: {"ious": [], "dice": [], "missing": 0, "extra": 0}
        )
    )

    def add(self, a: Any, b: Any, mc: Any) -> None:
        if mc is None:
            return
        if mc.match is not None:
            self._instances(a, b, mc.match)
        for layer in mc.layers:
            row = self.per_class[layer.cls]
            if layer.a and layer.b:
                self.ious.append(layer.iou)
                row["ious"].append(layer.iou)
                row["dice"].append(layer.dice)
            elif layer.a:
                self.missing += 1
                row["missing"] += 1
            else:
                self.extra += 1
                row["extra"] += 1

    def _instances(self, a: Any, b: Any, m: Any) -> None:
        for i, j, v in m.pairs:
            self.ious.append(v)
            ca, cb = a.masks[i].cls, b.masks[j].cls
            if ca != cb:
                self.class_mismatch += 1
            else:
                self.per_class[ca]["ious"].append(v)
        for i in m.unmatched_a:
            self.missing += 1
            self.per_class[a.masks[i].cls]["missing"] += 1
        for j in m.unmatched_b:
            self.extra += 1
            self.per_class[b.masks[j].cls]["extra"] += 1

    @property
    def empty(self) -> bool:
        return not (self.ious or self.missing or self.extra)

    def section(self, target: float) -> dict[str, Any]:
        return {
            "matched_pairs": len(self.ious),
            "mean_iou": _mean(self.ious),
            "share_at_target": _share(self.ious, target),
            "missing": self.missing,
            "extra": self.extra,
            "class_mismatch": self.class_mismatch,
            "per_class": {
                c: {
                    "pairs": len(r["ious"]),
                    "mean_iou": _mean(r["ious"]),
                    "share_at_target": _share(r["ious"], target),
                    "mean_dice": _mean(r["dice"]),
                    "missing": r["missing"],
                    "extra": r["extra"],
                }
                for c, r in sorted(self.per_class.items())
            },
        }


def mask_checks(section: dict[str, Any], targets: dict[str, float]) -> list[tuple[Any, ...]]:
    """Check rows (metric, value, target, op) when the report has masks."""
    if not (section["matched_pairs"] or section["missing"] or section["extra"]):
        return []
    t = targets["mask_iou"]
    return [
        ("mask mean IoU", section["mean_iou"], t, ">="),
        (
            f"mask pairs at IoU >= {t:g}",
            section["share_at_target"],
            targets.get("mask_match_share", targets["box_match_share"]),
            ">=",
        ),
    ]


def headline(section: dict[str, Any]) -> list[str]:
    if not (section["matched_pairs"] or section["missing"] or section["extra"]):
        return []

    def f(v: float | None, pct: bool = False) -> str:
        return "-" if v is None else (f"{v * 100:.1f} %" if pct else f"{v:.3f}")

    return [
        f"masks: matched pairs {section['matched_pairs']}, mean IoU "
        f"{f(section['mean_iou'])}, at target {f(section['share_at_target'], True)}, "
        f"only A {section['missing']}, only B {section['extra']}, class mismatch "
        f"{section['class_mismatch']}"
    ]


def class_rows(section: dict[str, Any]) -> list[list[str]]:
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    return [["class", "pairs", "mask IoU", "at target", "Dice", "missing", "extra"]] + [
        [
            c,
            str(r["pairs"]),
            f(r["mean_iou"]),
            f(r["share_at_target"]),
            f(r["mean_dice"]),
            str(r["missing"]),
            str(r["extra"]),
        ]
        for c, r in section["per_class"].items()
    ]
