"""Sections of the QA report, built from the tallies in qa.report."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.model import PASS, FAIL
from .mask_report import mask_checks
from .stats import agreement

UNCLASSIFIED = "fail-unclassified"


def _mean(xs: Sequence[float]) -> float | None:
    return round(float(np.mean(xs)), 4) if len(xs) else None


def class_section(t: Any, class_names: Sequence[str], seed: int) -> dict[str, Any]:
    verdict = agreement(t.verdicts, [PASS, FAIL], seed)
    scale = [PASS, *class_names]
    if any(UNCLASSIFIED in pair for pair in t.classes):
        scale.append(UNCLASSIFIED)
    known = set(scale)
    pairs = [p for p in t.classes if p[0] in known and p[1] in known]
    return {"verdict": verdict.to_dict(), "class": agreement(pairs, scale, seed).to_dict()}


def box_section(t: Any, targets: dict[str, float]) -> dict[str, Any]:
    ious = t.ious
    share = round(sum(v >= targets["box_iou"] for v in ious) / len(ious), 4) if ious else None
    return {
        "matched_pairs": len(ious),
        "mean_iou": _mean(ious),
        "share_at_target": share,
        "missing": t.missing,
        "extra": t.extra,
        "class_mismatch": t.class_mismatch,
    }


def keypoint_section(kp: Any, targets: dict[str, float]) -> dict[str, Any]:
    px = targets["keypoint_px"]
    all_d = [d for ds in kp.distances.values() for d in ds]
    per_point = {
        name: {
            "n": len(ds),
            "mean_px": _mean(ds),
            "max_px": round(max(ds), 3),
            "pck": round(sum(d <= px for d in ds) / len(ds), 4),
        }
        for name, ds in sorted(kp.distances.items())
    }
    return {
        "points": len(all_d),
        "mean_px": _mean(all_d),
        "pck": round(sum(d <= px for d in all_d) / len(all_d), 4) if all_d else None,
        "oks": _mean(kp.oks),
        "per_point": per_point,
        "one_sided_points": kp.one_sided,
        "sets_only_a": kp.sets_only_a,
        "sets_only_b": kp.sets_only_b,
    }


def severity_section(pairs: list[tuple[str, str]], seed: int) -> dict[str, Any]:
    scale = sorted({s for p in pairs for s in p})
    return (
        agreement(pairs, scale, seed).to_dict()
        if len(scale) >= 2
        else {"n": len(pairs), "percent": 1.0 if pairs else None, "categories": scale}
    )


def group_section(
    groups: dict[str, Any], class_names: Sequence[str], targets: dict[str, float], seed: int
) -> dict[str, Any]:
    """Headline figures per annotator pair ("a|b") or per task."""
    out = {}
    for key, t in sorted(groups.items()):
        cls = class_section(t, class_names, seed)
        out[key] = {
            "images": t.images,
            "agreed": t.agreed,
            "verdict_percent": cls["verdict"]["percent"],
            "verdict_kappa": cls["verdict"]["kappa"],
            "verdict_ac1": cls["verdict"]["ac1"],
            "class_percent": cls["class"]["percent"],
            "class_kappa": cls["class"]["kappa"],
            "class_ac1": cls["class"]["ac1"],
            "boxes": box_section(t, targets),
            "masks": t.masks.section(targets["mask_iou"]),
        }
    return out


def worst_annotators(per_user: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Annotators by the share of their dual images that agreed, lowest first."""
    rows = [
        {"annotator": u, "images": n, "agreed": k, "share": round(k / n, 4)}
        for u, (n, k) in per_user.items()
        if n
    ]
    return sorted(rows, key=lambda r: (r["share"], r["annotator"]))


def checks(report: dict[str, Any], targets: dict[str, float]) -> list[dict[str, Any]]:
    """Each headline metric beside its target; `ok` is None when there is no data."""
    c, b, k = report["classification"], report["boxes"], report["keypoints"]
    rows = [
        ("verdict agreement", c["verdict"]["percent"], targets["classification_agreement"], ">="),
        ("class agreement", c["class"]["percent"], targets["classification_agreement"], ">="),
        ("box mean IoU", b["mean_iou"], targets["box_iou"], ">="),
        (
            f"box pairs at IoU >= {targets['box_iou']:g}",
            b["share_at_target"],
            targets["box_match_share"],
            ">=",
        ),
        ("keypoint mean distance (px)", k["mean_px"], targets["keypoint_px"], "<="),
        (
            f"keypoints within {targets['keypoint_px']:g} px",
            k["pck"],
            targets["keypoint_pck"],
            ">=",
        ),
        (
            "severity agreement",
            report["severity"].get("percent"),
            targets["severity_agreement"],
            ">=",
        ),
    ] + mask_checks(report["masks"], targets)
    out = []
    for name, value, target, op in rows:
        ok = None if value is None else (value >= target if op == ">=" else value <= target)
        out.append({"metric": name, "value": value, "target": target, "op": op, "ok": ok})
    return out
