"""The QA report: agreement of dual-annotated images, each metric against its target.

`build_report(project, progress, cancel)` reads the journals; `compute_report(duals, ...)`
is the pure part (the app runs it in a worker thread, the benchmark on synthetic pairs).
Annotator A of a pair is the first by name; "missing" boxes are boxes only A drew,
"extra" boxes only B drew.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import numpy as np

from ..core.model import Annotation
from ..core.naming import image_name
from ..errors import QclabelError
from ..project import Project
from .agreement import Comparison, compare, effective_verdict
from .decisions import labelers, template_points
from .report_parts import (
    UNCLASSIFIED,
    box_section,
    checks,
    class_section,
    keypoint_section,
    group_section,
    severity_section,
    worst_annotators,
)
from .mask_report import MaskTally
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


@dataclass(frozen=True)
class DualPair:
    image: str
    a_user: str
    b_user: str
    a: Annotation
    b: Annotation
    resolved: bool = False
    task: str = ""


@dataclass
class _Tally:
    """Everything one group of dual images (all, one pair) contributes."""

    images: int = 0
    agreed: int = 0
    verdicts: list[tuple[str, str]] = field(default_factory=list)
    classes: list[tuple[str, str]] = field(default_factory=list)
    ious: list[float] = field(default_factory=list)
    missing: int = 0
    extra: int = 0
    class_mismatch: int = 0
    masks: MaskTally = field(default_factory=MaskTally)

    def add(self, p: DualPair, c: Comparison) -> None:
        self.images += 1
        self.masks.add(p.a, p.b, c.masks)
        self.agreed += c.agree
        va, vb = effective_verdict(p.a), effective_verdict(p.b)
        if va and vb:
            self.verdicts.append((va, vb))
            self.classes.append((image_category(p.a), image_category(p.b)))
        if c.boxes:
            self.ious += [v for *_, v in c.boxes.pairs]
            self.missing += len(c.boxes.unmatched_a)
            self.extra += len(c.boxes.unmatched_b)
            self.class_mismatch += sum(
                p.a.boxes[i].cls != p.b.boxes[j].cls for i, j, _ in c.boxes.pairs
            )


def image_category(a: Annotation) -> str:
    """One image-level category: the defect class, else pass, else unclassified fail."""
    if a.defect_class:
        return a.defect_class
    return "pass" if effective_verdict(a) == "pass" else UNCLASSIFIED


def targets_of(project_targets: dict[str, Any]) -> dict[str, float]:
    return {**EXTRA_TARGETS, **{k: float(v) for k, v in project_targets.items()}}


def dual_pairs(project: Project, states: dict[Any, Any] | None = None) -> list[DualPair]:
    from .golden import label_states

    states = label_states(project) if states is None else states
    out = []
    for image in project.store.catalog.ids():
        labels = labelers(states, image)
        if len(labels) >= 2:
            (ua, a), (ub, b) = labels[:2]
            resolved = any(s.get(image, "final") is not None for s in states.values())
            out.append(DualPair(image, ua, ub, a, b, resolved))
    return out


def build_report(
    project: Project,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    executor: Any = None,
) -> dict[str, Any]:
    from . import golden
    from .plan import build_plan

    raw = project.store.all_states()
    states = golden.label_states(project, raw)
    plan = build_plan(project)
    duals = [replace(p, task=plan.assignments[p.image].task) for p in dual_pairs(project, states)]
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
    report["pending_dual"] = sum(1 for i in plan.dual_images() if i not in done)
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


class _Tallies:
    """Every grouping the report needs, filled in one pass over the dual images."""

    def __init__(self, class_names: Sequence[str]):
        self.overall = _Tally()
        self.per_pair: dict[str, _Tally] = defaultdict(_Tally)
        self.per_task: dict[str, _Tally] = defaultdict(_Tally)
        self.per_user: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.per_class = _ClassTally(class_names)
        self.kp = _KeypointTally()
        self.severities: list[tuple[str, str]] = []
        self.disagreements: list[dict[str, Any]] = []

    def add(self, p: DualPair, c: Comparison) -> None:
        self.overall.add(p, c)
        self.per_pair[f"{p.a_user}|{p.b_user}"].add(p, c)
        self.per_task[p.task or "(project)"].add(p, c)
        for u in (p.a_user, p.b_user):
            self.per_user[u][0] += 1
            self.per_user[u][1] += c.agree
        self.per_class.add(p, c)
        self.kp.add(c)
        self.severities += _severity_pairs(p, c)
        if not c.agree:
            self.disagreements.append(
                {
                    "image": p.image,
                    "annotators": [p.a_user, p.b_user],
                    "kind": c.kind,
                    "priority": c.priority,
                    "detail": c.summary(),
                    "resolved": p.resolved,
                }
            )


class _ClassTally:
    def __init__(self, class_names: Sequence[str]):
        self.names = list(class_names)
        self.presence: dict[str, list[tuple[str, str]]] = {c: [] for c in self.names}
        self.ious: dict[str, list[float]] = defaultdict(list)
        self.missing: dict[str, int] = defaultdict(int)
        self.extra: dict[str, int] = defaultdict(int)

    def add(self, p: DualPair, c: Comparison) -> None:
        ca, cb = set(p.a.classes()), set(p.b.classes())
        for name in self.names:
            self.presence[name].append(
                ("yes" if name in ca else "no", "yes" if name in cb else "no")
            )
        if c.boxes:
            for i, j, v in c.boxes.pairs:
                if p.a.boxes[i].cls == p.b.boxes[j].cls:
                    self.ious[p.a.boxes[i].cls].append(v)
            for i in c.boxes.unmatched_a:
                self.missing[p.a.boxes[i].cls] += 1
            for j in c.boxes.unmatched_b:
                self.extra[p.b.boxes[j].cls] += 1


class _KeypointTally:
    def __init__(self) -> None:
        self.distances: dict[str, list[float]] = defaultdict(list)
        self.oks: list[float] = []
        self.one_sided = self.sets_only_a = self.sets_only_b = 0

    def add(self, c: Comparison) -> None:
        for pair in c.keypoints:
            for name, d in pair.distances.items():
                self.distances[f"{pair.template}.{name}"].append(d)
            if pair.oks is not None:
                self.oks.append(pair.oks)
            self.one_sided += len(pair.one_sided)
        self.sets_only_a += c.kp_only_a
        self.sets_only_b += c.kp_only_b


def _severity_pairs(p: DualPair, c: Comparison) -> list[tuple[str, str]]:
    out = []
    if p.a.defect_class and p.a.defect_class == p.b.defect_class and (p.a.severity or p.b.severity):
        out.append((p.a.severity or "-", p.b.severity or "-"))
    if c.boxes:
        for i, j, _ in c.boxes.pairs:
            ba, bb = p.a.boxes[i], p.b.boxes[j]
            if ba.cls == bb.cls and (ba.severity or bb.severity):
                out.append((ba.severity or "-", bb.severity or "-"))
    return out


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
