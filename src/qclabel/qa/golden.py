"""Golden images (honeypots): images with a reference label an admin vouches for.

An admin promotes an image with its reference label, taken from its adjudicated (or
agreed) final label or imported from a file. The reference is a `golden` event in the
admin's own journal, so annotators, whose processes cannot read other journals, never
see it. The published queues (qa.queues) mix golden images into each annotator's
queue, where they look like any other image; the annotator's label of a golden image
is their answer. Answers are scored against the reference with the project's agreement
rule (verdict and class, boxes matched at the box IoU target, keypoints within the
pixel target; qa.agreement), and each annotator gets a golden accuracy with a 95 %
Wilson interval. An annotator with at least `golden_min_answers` answers and an
accuracy below `golden_min` is flagged; with `golden_action = "calibration"` the
published plan sends their images to a second annotator again (dual annotation).

Answers never count as ordinary labels: `without_answers` removes them from the states
the agreement report, the adjudication queue and the final labels read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.model import Annotation
from ..errors import ConfigError
from ..project import Project
from ..store import AnnotatorSession, LabelState
from .decisions import DecisionError, compare_for
from .kinds import EVENT_ROLES, GOLDEN

ACTIONS = ("flag", "calibration")
DEFAULTS = {
    "golden_rate": 0.0,
    "golden_min": 0.9,
    "golden_min_answers": 10,
    "golden_action": "flag",
}


@dataclass(frozen=True)
class Reference:
    image: str
    annotation: Annotation
    source: str  # "final" (its final label) or "import:FILE"
    labelers: tuple[str, ...]  # who had labeled it when it was promoted
    by: str


@dataclass(frozen=True)
class Answer:
    user: str
    image: str
    correct: bool
    detail: str
    ts: str


@dataclass
class Accuracy:
    user: str
    answers: int
    correct: int
    flagged: bool = False

    @property
    def rate(self) -> float | None:
        return self.correct / self.answers if self.answers else None

    def interval(self) -> list[float] | None:
        return wilson(self.correct, self.answers)

    def to_dict(self) -> dict[str, Any]:
        rate = self.rate
        return {
            "annotator": self.user,
            "answers": self.answers,
            "correct": self.correct,
            "accuracy": None if rate is None else round(rate, 4),
            "ci": self.interval(),
            "flagged": self.flagged,
        }


def settings(project: Project) -> dict[str, Any]:
    qa, path = {**DEFAULTS, **project.config.get("qa", {})}, project.config_path
    for key in ("golden_rate", "golden_min"):
        v = qa[key]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1:
            raise ConfigError(path, f"qa.{key}", v, "must be a number from 0 to 1")
    n = qa["golden_min_answers"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(path, "qa.golden_min_answers", n, "must be a whole number >= 1")
    if qa["golden_action"] not in ACTIONS:
        raise ConfigError(
            path, "qa.golden_action", qa["golden_action"], f"expected one of {', '.join(ACTIONS)}"
        )
    return {k: qa[k] for k in DEFAULTS}


def wilson(k: int, n: int) -> list[float] | None:
    """95 % Wilson score interval of a share k/n (sensible at small n and near 0 or 1)."""
    if n == 0:
        return None
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return [round(float(ci.low), 4), round(float(ci.high), 4)]


# -- the golden set ------------------------------------------------------------------
def golden_set(
    project: Project, states: dict[str, LabelState] | None = None
) -> dict[str, Reference]:
    """Current references by image, from admins' journals (latest event wins)."""
    states = project.store.all_states() if states is None else states
    best: dict[str, tuple[str, str, dict[Any, Any] | None]] = {}
    for user, state in states.items():
        if not project.has_role(user, EVENT_ROLES[GOLDEN]):
            continue  # a golden event counts only from an admin
        for (kind, image), entry in state.entries.items():
            if kind == GOLDEN and (image not in best or entry["ts"] > best[image][0]):
                best[image] = (entry["ts"], user, entry["after"])
    out = {}
    for image, (_, user, after) in best.items():
        if after:
            out[image] = Reference(
                image,
                Annotation.from_dict(after["annotation"]),
                after.get("source", ""),
                tuple(after.get("labelers", ())),
                user,
            )
    return out


def promote(
    project: Project,
    session: AnnotatorSession,
    image: str,
    note: str | None,
    annotation: Annotation | None = None,
    source: str = "final",
) -> dict[str, Any]:
    """Make `image` golden: its final label (adjudicated or agreed) is the reference,
    unless an imported `annotation` is given."""
    project.require(session.user, "admin", "manage golden images")
    if image not in project.store.catalog:
        raise DecisionError(f"{project.root}: image {image!r} is not in the catalog")
    states = project.store.all_states()
    if annotation is None:
        annotation = _final_reference(project, image)
    earlier = golden_set(project, states).get(image)
    # A new reference for a golden image keeps who labeled it before it was golden:
    # everyone else's labels of it are answers, before and after.
    labelers = (
        list(earlier.labelers)
        if earlier
        else sorted(u for u, s in states.items() if s.annotation(image).is_labeled)
    )
    after = {"annotation": annotation.to_dict(), "source": source, "labelers": labelers}
    return session.record(
        GOLDEN, image, session.get(image, GOLDEN), after, _note(note, "promoting a golden image")
    )


def remove(
    project: Project, session: AnnotatorSession, image: str, note: str | None
) -> dict[str, Any]:
    project.require(session.user, "admin", "manage golden images")
    if image not in golden_set(project):
        raise DecisionError(f"image {image} is not a golden image")
    return session.record(
        GOLDEN, image, session.get(image, GOLDEN), None, _note(note, "removing a golden image")
    )


def _final_reference(project: Project, image: str) -> Annotation:
    from .final import RANK, final_labels

    final = final_labels(project, "single", images=[image]).get(image)
    if final is None or RANK[final.status] < RANK["agreed"]:
        status = final.status if final else "no final label"
        raise DecisionError(
            f"image {image} has {status}; a golden reference needs an "
            "adjudicated or agreed label (or import one with --from FILE)"
        )
    return final.annotation


def _note(note: str | None, action: str) -> str:
    if not note or not note.strip():
        raise DecisionError(f"{action} needs a note saying why (--note)")
    return note.strip()


# -- answers and scores ----------------------------------------------------------------
def answers(
    project: Project,
    states: dict[str, LabelState] | None = None,
    golden: dict[str, Reference] | None = None,
) -> list[Answer]:
    """Every annotator's scored answer to a golden image, oldest first."""
    states = project.store.all_states() if states is None else states
    golden = golden_set(project, states) if golden is None else golden
    out = []
    for image, ref in golden.items():
        for user, state in states.items():
            entry = state.entries.get(("label", image))
            if user in ref.labelers or entry is None:
                continue
            ann = Annotation.from_dict(entry["after"])
            if ann.is_labeled:
                correct, detail = score(project, ann, ref.annotation)
                out.append(Answer(user, image, correct, detail, entry["ts"]))
    return sorted(out, key=lambda a: (a.ts, a.user))


def score(project: Project, answer: Annotation, reference: Annotation) -> tuple[bool, str]:
    """(correct, what differs): the answer is held against the reference like annotator A
    against B, so "only A" boxes are extra boxes and "only B" boxes were missed."""
    c = compare_for(project, answer, reference)
    return c.agree, ("matches the reference" if c.agree else c.summary())


def accuracy(project: Project, states: dict[str, LabelState] | None = None) -> dict[str, Accuracy]:
    cfg = settings(project)
    out: dict[str, Accuracy] = {}
    for a in answers(project, states):
        acc = out.setdefault(a.user, Accuracy(a.user, 0, 0))
        acc.answers += 1
        acc.correct += a.correct
    for acc in out.values():
        acc.flagged = (
            acc.answers >= cfg["golden_min_answers"]
            and acc.rate is not None
            and acc.rate < cfg["golden_min"]
        )
    return dict(sorted(out.items()))


def summary(project: Project, states: dict[str, LabelState] | None = None) -> dict[str, Any]:
    """The golden section of the QA report and of a version's QA evidence."""
    states = project.store.all_states() if states is None else states
    cfg = settings(project)
    acc = accuracy(project, states)
    return {
        "images": len(golden_set(project, states)),
        "settings": cfg,
        "annotators": [a.to_dict() for a in acc.values()],
        "flagged": [u for u, a in acc.items() if a.flagged],
    }


def flag_message(acc: Accuracy, cfg: dict[str, Any]) -> str:
    what = (
        "back to calibration: your images are labeled by a second annotator again"
        if cfg["golden_action"] == "calibration"
        else "flagged for retraining"
    )
    return (
        f"golden accuracy {(acc.rate or 0.0) * 100:.0f} % on {acc.answers} checks is below "
        f"{cfg['golden_min'] * 100:.0f} %: {what}"
    )


def without_answers(
    states: dict[str, LabelState], golden: dict[str, Reference]
) -> dict[str, LabelState]:
    """The states with every golden answer left out (answers are scored, not labels)."""
    if not golden:
        return states
    out = {}
    for user, state in states.items():
        drop = {
            ("label", i)
            for i, ref in golden.items()
            if user not in ref.labelers and ("label", i) in state.entries
        }
        if drop:
            entries = {k: v for k, v in state.entries.items() if k not in drop}
            state = LabelState(user, entries, state.tail, state.torn, state.snapshot)
        out[user] = state
    return out


def label_states(
    project: Project, states: dict[str, LabelState] | None = None
) -> dict[str, LabelState]:
    """Every journal's state without golden answers: what agreement, adjudication and
    final labels are computed from."""
    states = project.store.all_states() if states is None else states
    return without_answers(states, golden_set(project, states))
