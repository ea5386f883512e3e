"""QA decisions: spot-check reviews, consensus requests, adjudications.

Each decision is an event in the deciding user's own journal (so it is audited, hash
chained and attributed to the OS user who made it):
- `review`    after = {"outcome": "ok"|"corrected", "of": annotator, "annotation": ...}
- `consensus` after = {"requested": true, "note": why}, note = why
- `final`     after = {"annotation": ..., "source": "A"|"B"|"edited", "annotators": [a, b]},
              note = why
Roles are checked here, not in the UI, so the CLI and the app refuse alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..core import consistency
from ..core.model import Annotation
from ..errors import QclabelError
from ..project import Project
from ..store import AnnotatorSession
from .agreement import KINDS, Comparison, compare

SOURCES = ("A", "B", "edited")
CONSENSUS = "consensus"


class DecisionError(QclabelError):
    """A QA decision that cannot be made (unknown image, missing note, own labels)."""


@dataclass
class Disagreement:
    image: str
    annotators: tuple[str, ...]  # (A, B); one name for a single-labeled consensus
    labels: tuple[Annotation, ...]
    comparison: Comparison | None
    kind: str  # verdict | class | geometry | severity | consensus
    detail: str
    resolved: bool = False
    consensus_note: str | None = None

    @property
    def priority(self) -> int:
        return (KINDS + (CONSENSUS,)).index(self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "annotators": list(self.annotators),
            "kind": self.kind,
            "detail": self.detail,
            "resolved": self.resolved,
            "consensus_note": self.consensus_note,
        }


def targets(project: Project) -> tuple[float, float]:
    t = project.qa["targets"]
    return float(t["box_iou"]), float(t["keypoint_px"])


def template_points(project: Project) -> dict[str, tuple[str, ...]]:
    return {t.name: t.points for t in project.taxonomy.keypoint_templates}


def compare_for(project: Project, a: Annotation, b: Annotation) -> Comparison:
    box_iou, px = targets(project)
    return compare(
        a, b, box_iou, px, project.qa, template_points(project), semantic=project.taxonomy.semantic
    )


def labelers(states: dict[Any, Any], image: str) -> list[tuple[str, Annotation]]:
    """Annotators with real labels on `image`, by name (A is the first)."""
    out = []
    for user in sorted(states):
        if states[user].get(image, "label") is not None:
            ann = states[user].annotation(image)
            if ann.is_labeled:
                out.append((user, ann))
    return out


def adjudication_queue(
    project: Project, states: dict[Any, Any] | None = None, pending_only: bool = True
) -> list[Disagreement]:
    """Disagreements and consensus requests, most important first (pass/fail, class,
    geometry, severity, then consensus requests), catalog order within a kind."""
    from .golden import label_states

    states = label_states(project) if states is None else states
    # only an image labeled twice or sent to consensus can be in it: found from the
    # journals (proportional to the labels), not by asking a million catalog images
    wanted = labeled_twice(states)
    wanted.update(i for s in states.values() for i, e in s.items(CONSENSUS) if e["after"])
    order = in_catalog_order(project, wanted)
    out = []
    for image in order:
        d = disagreement_for(project, states, image)
        if d and not (pending_only and d.resolved):
            out.append(d)
    return sorted(out, key=lambda d: (d.priority, order[d.image]))


def labeled_twice(states: dict[Any, Any]) -> set[str]:
    """Images with a label in two or more journals (labelers() may still drop some:
    a label can be empty)."""
    seen: Counter[str] = Counter(i for s in states.values() for i, _ in s.items("label"))
    return {i for i, n in seen.items() if n >= 2}


def in_catalog_order(project: Project, images: set[str]) -> dict[str, int]:
    """Those of `images` in the catalog, in catalog order, each with its position key."""
    from ..store.catalog_queue import seqs_of

    found = seqs_of(project.store.catalog, images)
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def disagreement_for(project: Project, states: dict[Any, Any], image: str) -> Disagreement | None:
    labels = labelers(states, image)
    resolved = any(s.get(image, "final") is not None for s in states.values())
    note = _consensus_note(states, image)
    if len(labels) >= 2:
        (ua, a), (ub, b) = labels[:2]
        c = compare_for(project, a, b)
        if not c.agree:
            kind = c.kind or ""  # never empty here: they disagree
            return Disagreement(image, (ua, ub), (a, b), c, kind, c.summary(), resolved, note)
        if note is None:
            return None
        return Disagreement(image, (ua, ub), (a, b), c, CONSENSUS, note, resolved, note)
    if note is not None:
        users = tuple(u for u, _ in labels)
        return Disagreement(
            image, users, tuple(a for _, a in labels), None, CONSENSUS, note, resolved, note
        )
    return None


def _consensus_note(states: dict[Any, Any], image: str) -> str | None:
    for state in states.values():
        entry = state.entries.get((CONSENSUS, image))
        if entry and entry["after"]:
            return entry["after"].get("note") or "consensus requested"
    return None


def _check_image(project: Project, image: str) -> None:
    if image not in project.store.catalog:
        raise DecisionError(f"{project.root}: image {image!r} is not in the catalog")


def _need_note(note: str | None, action: str) -> str:
    if not note or not note.strip():
        raise DecisionError(f"{action} needs a note saying why (--note)")
    return note.strip()


def adjudicate(
    project: Project,
    session: AnnotatorSession,
    image: str,
    source: str,
    annotation: Annotation,
    note: str | None,
) -> dict[str, Any]:
    """Record the final label of `image`. Only an adjudicator who did not label it."""
    project.require(session.user, "adjudicator", "adjudicate")
    _check_image(project, image)
    if source not in SOURCES:
        raise DecisionError(f"adjudication source must be one of {SOURCES}, not {source!r}")
    from .golden import label_states

    states = label_states(project)
    users = [u for u, _ in labelers(states, image)][:2]
    if session.user in users:
        raise DecisionError(
            f"{session.user} labeled image {image} and may not adjudicate "
            "it; another adjudicator must decide"
        )
    annotation = _consistent(project, image, _final_before(states, image), annotation)
    after = {"annotation": annotation.to_dict(), "source": source, "annotators": users}
    return session.record(
        "final", image, session.get(image, "final"), after, _need_note(note, "an adjudication")
    )


def _final_before(states: dict[Any, Any], image: str) -> Annotation:
    for state in states.values():
        entry = state.get(image, "final")
        if entry:
            return Annotation.from_dict(entry.get("annotation"))
    return Annotation()


def _consistent(project: Project, image: str, before: Annotation, after: Annotation) -> Annotation:
    """A decision's labels obey the same rules as an annotator's (core.consistency)."""
    tax = project.taxonomy
    after = consistency.complete(after, tax)
    consistency.refuse_new(before, after, tax, image)
    return after


def review(
    project: Project,
    session: AnnotatorSession,
    image: str,
    correction: Annotation | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Spot-check `image`: ok (no correction) or corrected. Only a reviewer, never of
    their own labels."""
    project.require(session.user, "reviewer", "spot-check labels")
    _check_image(project, image)
    from .golden import label_states

    states = label_states(project)
    labels = labelers(states, image)
    if not labels:
        raise DecisionError(f"image {image} has no labels to review yet")
    _not_blind(project, session.user, image, labels, states)
    of, ann = labels[0]
    if of == session.user:
        raise DecisionError(
            f"{session.user} labeled image {image} and may not review their own labels"
        )
    if correction is not None:
        correction = _consistent(project, image, ann, correction)
    outcome = "ok" if correction is None or correction == ann else "corrected"
    after = {"outcome": outcome, "of": of, "annotation": (correction or ann).to_dict()}
    if outcome == "corrected":
        note = _need_note(note, "a correction")
    return session.record("review", image, session.get(image, "review"), after, note)


def _not_blind(
    project: Project,
    user: str,
    image: str,
    labels: list[tuple[str, Annotation]],
    states: dict[Any, Any],
) -> None:
    """A spot check shows the labels: not of a blind dual image (qa.blind) the reviewer
    may not see; the adjudicator decides those."""
    from .blind import hider

    hidden = hider(project, user, states)
    if any(hidden(owner, image) for owner, _ in labels):
        raise DecisionError(
            f"image {image} is blind dual-annotated and not adjudicated "
            "yet; it is the adjudicators' to decide, not a spot check"
        )


def request_consensus(
    project: Project, session: AnnotatorSession, image: str, note: str | None
) -> dict[str, Any]:
    """Send `image` to consensus review (the adjudicators' queue), with why."""
    if not project.roles_of(session.user):
        project.require(session.user, "annotator", "send images to consensus review")
    _check_image(project, image)
    note = _need_note(note, "a consensus request")
    # The note is also kept in `after`: replayed state holds only `after`.
    return session.record(
        CONSENSUS, image, session.get(image, CONSENSUS), {"requested": True, "note": note}, note
    )
