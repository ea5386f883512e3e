"""The QA report: agreement of dual-annotated images, each metric against its target.

`build_report(project, progress, cancel)` reads the journals; `compute_report(duals, ...)`
is the pure part (the app runs it in a worker thread, the benchmark on synthetic pairs).
Annotator A of a pair is the first by name; "missing" boxes are boxes only A drew,
"extra" boxes only B drew.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import numpy as np

from ..core.model import Annotation
from ..core.naming import image_name
from ..errors import QclabelError
from ..project import Project
from .agreement import Comparison, compare
from .decisions import in_catalog_order, labeled_twice, labelers, template_points
from .report_parts import (
    box_section,
    checks,
    class_section,
    keypoint_section,
    group_section,
    severity_section,
    worst_annotators,
)
from .report_tally import (  # noqa: F401  (DualPair, image_category: importable from here)
    DualPair,
    _ClassTally,
    _Tallies,
    image_category,
)
from .stats import agreement

Progress = Callable[[int, int], None]
# Targets the issue leaves implicit; a project overrides them in [qa.targets].
EXTRA_TARGETS = {
    "box_match_share": 0.95,
    "keypoint_pck": 0.95,
    "severity_agreement": 0.95,
    "mask_iou": 0.70,
    "mask_match_share": 0.95,
}


class ReportCancelled(QclabelError):
    """The report was cancelled before it finished."""


def targets_of(project_targets: dict[str, Any]) -> dict[str, float]:
    return {**EXTRA_TARGETS, **{k: float(v) for k, v in project_targets.items()}}


def dual_pairs(project: Project, states: dict[Any, Any] | None = None) -> list[DualPair]:
    """Images labeled by two annotators, in catalog order: the images with a label in
    two journals (work proportional to the labels, not to the catalog)."""
    from .golden import label_states

    states = label_states(project) if states is None else states
    out = []
    for image in in_catalog_order(project, labeled_twice(states)):
        labels = labelers(states, image)
        if len(labels) >= 2:
            (ua, a), (ub, b) = labels[:2]
            resolved = any(s.get(image, "final") is not None for s in states.values())
            out.append(DualPair(image, ua, ub, a, b, resolved))
    return out


def _tasks(project: Project, images: list[str]) -> dict[str, str]:
    """Each image's task as the plan names it (its `task` field; none is "")."""
    rows = project.store.catalog.select(
        "SELECT id, task FROM images WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(images),),
    )
    return {i: t or "" for i, t in rows}


def build_report(
    project: Project,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    executor: Any = None,
) -> dict[str, Any]:
    from . import golden
    from .plan import dual_image_ids

    raw = project.store.all_states()
    states = golden.label_states(project, raw)
    pairs = dual_pairs(project, states)
    tasks = _tasks(project, [p.image for p in pairs])
    duals = [replace(p, task=tasks[p.image]) for p in pairs]
    done = {p.image for p in duals}
    report = compute_report(
        duals,
        project.taxonomy.class_names(),
        project.qa,
        template_points(project),
        progress,
        cancel,
        project.taxonomy.semantic,
        executor,
    )
    report["project"] = project.name
    report["pending_dual"] = sum(1 for i in dual_image_ids(project) if i not in done)
    report["golden"] = golden.summary(project, raw)
    for d in report["disagreements"]:  # people read file names; "image" stays the id
        rec = project.store.catalog.get(d["image"])
        d["file"] = image_name(rec) if rec else d["image"]
    return report


def compute_report(
    duals: Sequence[DualPair],
    class_names: Sequence[str],
    qa: dict[str, Any],
    kp_templates: dict[Any, Any] | None = None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    semantic: bool = False,
    executor: Any = None,
) -> dict[str, Any]:
    """The report of `duals`; `progress(done, total)` about every 1 %, and `cancel()`
    is polled as often (a True stops it with ReportCancelled). With a
    `concurrent.futures` executor (a process pool, a Dask cluster's), the comparisons
    run on it in chunks; the tallies are filled in image order either way, so the
    report is the same."""
    targets = targets_of(qa.get("targets", {}))
    tallies = _Tallies(class_names)
    step = max(1, len(duals) // 100)
    args = (targets["box_iou"], targets["keypoint_px"], qa, kp_templates, semantic)
    comparisons = (
        _compare_on(executor, duals, step, args)
        if executor is not None
        else (compare(p.a, p.b, *args) for p in duals)
    )
    for n, (p, c) in enumerate(zip(duals, comparisons)):
        if cancel and n % step == 0 and cancel():
            raise ReportCancelled("QA report cancelled")
        tallies.add(p, c)
        if progress and (n % step == 0 or n == len(duals) - 1):
            progress(n + 1, len(duals))
    return _assemble(tallies, class_names, targets, int(qa.get("seed", 0)))


def _compare_chunk(
    pairs: list[tuple[Annotation, Annotation]], args: tuple[Any, ...]
) -> list[Comparison]:
    return [compare(a, b, *args) for a, b in pairs]


def _compare_on(executor: Any, duals: Sequence[DualPair], step: int, args: tuple[Any, ...]) -> Any:
    """Comparisons computed on `executor`, yielded in the order of `duals`."""
    futures = [
        executor.submit(_compare_chunk, [(p.a, p.b) for p in duals[i : i + step]], args)
        for i in range(0, len(duals), step)
    ]
    try:
        for fut in futures:
            yield from fut.result()
    finally:
        for fut in futures:
            fut.cancel()


def _assemble(
    t: _Tallies, class_names: Sequence[str], targets: dict[str, float], seed: int
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "targets": targets,
        "images": t.overall.images,
        "agreed": t.overall.agreed,
        "classification": class_section(t.overall, class_names, seed),
        "boxes": box_section(t.overall, targets),
        "keypoints": keypoint_section(t.kp, targets),
        "masks": t.overall.masks.section(targets["mask_iou"]),
        "severity": severity_section(t.severities, seed),
        "per_pair": group_section(t.per_pair, class_names, targets, seed),
        "per_task": group_section(t.per_task, class_names, targets, seed),
        "per_class": _per_class(t.per_class, seed),
        "worst_annotators": worst_annotators(t.per_user),
        "disagreements": sorted(t.disagreements, key=lambda d: d["priority"]),
    }
    ranked = [c for c, v in report["per_class"].items() if v["positive_agreement"] < 1]
    report["worst_classes"] = sorted(
        ranked, key=lambda c: report["per_class"][c]["positive_agreement"]
    )[:5]
    report["checks"] = checks(report, targets)
    return report


def _per_class(t: _ClassTally, seed: int) -> dict[str, Any]:
    out = {}
    for name in t.names:
        pairs = t.presence[name]
        both = sum(1 for a, b in pairs if a == b == "yes")
        one = sum(1 for a, b in pairs if a != b)
        if not both and not one:
            continue
        stats = agreement(pairs, ["no", "yes"], seed)
        ious = t.ious.get(name, [])
        out[name] = {
            "images_with_class": both + one,
            "both": both,
            "one_only": one,
            "positive_agreement": round(2 * both / (2 * both + one), 4),
            "kappa": stats.kappa,
            "ac1": stats.ac1,
            "ci": stats.ci,
            "box_pairs": len(ious),
            "box_mean_iou": round(float(np.mean(ious)), 4) if ious else None,
            "missing": t.missing.get(name, 0),
            "extra": t.extra.get(name, 0),
        }
    return out
