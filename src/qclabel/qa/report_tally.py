"""Tallying the QA report's comparisons: one pass over the dual images fills every grouping
the report needs (overall, per pair, per task, per annotator, per class, keypoints,
severities, the disagreement list). qa.report assembles the sections from these."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..core.model import Annotation
from .agreement import Comparison, effective_verdict
from .mask_report import MaskTally
from .report_parts import UNCLASSIFIED


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
