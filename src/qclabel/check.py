"""`qclabel check`: every consistency finding (core.consistency) in a project's labels.

Checked: each annotator's labels, adjudicated final labels and reviewers' corrections
(what exports are made from). With a viewer, labels that viewer may not see (another
annotator's labels of a blind dual image, see qa.blind) are not checked, so the list
never reveals them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .core import consistency
from .core.model import Annotation
from .project import Project


@dataclass(frozen=True)
class LabelFinding:
    image: str  # id, for machines
    file: str  # file name, for people
    annotator: str  # whose labels
    kind: str  # label | final | review
    rule: str
    detail: str
    blocking: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def project_findings(
    project: Project,
    viewer: str | None = None,
    states: dict | None = None,
    hidden: Callable[[str, str], bool] | None = None,
    labels: dict[str, dict[str, Annotation]] | None = None,
) -> list[LabelFinding]:
    """Every finding, in catalog order, then by annotator. `hidden` (owner, image) is
    the viewer's blindness predicate, and `labels` each state's `annotations("label")`,
    when the caller has them already."""
    states = project.store.all_states() if states is None else states
    hidden = hidden or _hider(project, viewer, states)
    tax = project.taxonomy
    found: list[tuple[str, str, str, consistency.Finding]] = []
    # equal labels share one Annotation (store.labels): check each once; the entry holds
    # the Annotation so that its id is not reused while the dict lives
    checked: dict[int, tuple[Annotation, list[consistency.Finding]]] = {}
    for user, state in sorted(states.items()):
        own = labels.get(user) if labels is not None else None
        for kind, image, ann in _checked_labels(state, own, tax, checked):
            if not hidden(user, image):
                if id(ann) not in checked:
                    checked[id(ann)] = (ann, consistency.check(ann, tax))
                found += [(image, user, kind, f) for f in checked[id(ann)][1]]
    if not found:
        return []
    # only the images with findings are looked up (the catalog may hold a million)
    records = project.store.catalog.get_many(t[0] for t in found)
    last = float("inf")  # labels of a removed image go last
    found.sort(key=lambda t: (records[t[0]].seq if t[0] in records else last, t[1], t[2]))
    return [
        LabelFinding(
            image,
            Path(records[image].file).name if image in records else image,
            user,
            kind,
            f.rule,
            f.detail,
            f.blocking,
        )
        for image, user, kind, f in found
    ]


def _checked_labels(
    state: Any,
    own: dict[str, Annotation] | None = None,
    tax: Any = None,
    checked: dict[int, tuple[Annotation, list[consistency.Finding]]] | None = None,
) -> Iterator[tuple[str, str, Annotation]]:
    """(kind, image, annotation) of what one journal says about each image. With
    `checked` (id -> findings, filled here), labels whose Annotation has no finding
    are left out: 100k labels are mostly a handful of distinct Annotations."""
    own = state.annotations("label") if own is None else own
    if checked is not None:
        for ann in {id(a): a for a in own.values()}.values():
            if id(ann) not in checked:
                checked[id(ann)] = (ann, consistency.check(ann, tax))
        own = {i: a for i, a in own.items() if checked[id(a)][1]}
    for image, ann in own.items():
        yield "label", image, ann
    for image, entry in state.items("final"):
        yield "final", image, Annotation.from_dict(entry["after"].get("annotation"))
    for image, entry in state.items("review"):
        if entry["after"].get("outcome") == "corrected":  # "ok" repeats the label
            yield "review", image, Annotation.from_dict(entry["after"].get("annotation"))


def _hider(project: Project, viewer: str | None, states: dict):
    if viewer is None:
        return lambda owner, image: False
    from .qa.blind import hider

    return hider(project, viewer, states)


def rule_counts(findings: list[LabelFinding]) -> dict[str, int]:
    """Images per rule (an image two annotators both got wrong counts once)."""
    images: dict[str, set[str]] = {r: set() for r in consistency.RULES}
    for f in findings:
        images.setdefault(f.rule, set()).add(f.image)
    return {r: len(i) for r, i in images.items()}


def format_findings(findings: list[LabelFinding]) -> str:
    if not findings:
        return "no inconsistencies"
    who = [f.annotator if f.kind == "label" else f"{f.annotator} ({f.kind})" for f in findings]
    wf, wa = max(len(f.file) for f in findings), max(len(w) for w in who)
    wr = max(len(f.rule) for f in findings)
    lines = [
        f"{f.file:<{wf}}  {w:<{wa}}  {f.rule:<{wr}}  {f.detail}" for f, w in zip(findings, who)
    ]
    counts = {r: n for r, n in rule_counts(findings).items() if n}
    lines.append(
        f"{len(findings)} findings: "
        + ", ".join(f"{r} {n} images" if n != 1 else f"{r} 1 image" for r, n in counts.items())
    )
    return "\n".join(lines)
