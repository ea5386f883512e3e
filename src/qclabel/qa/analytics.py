"""Annotator analytics: per annotator and ISO week, from the journals.

- images, objects: images the annotator first labeled that week, and the boxes and
  keypoint sets those images now hold
- seconds per image, by task: the time between one label event and the annotator's
  previous one counts for the event's image, unless the gap is longer than
  `[qa] idle_s` (300 s: a break, or the first label of a session). The task is read
  from what the event changed: keypoints, boxes, component checks (assembly), class or
  severity (classification), else the verdict (passfail)
- agreement with the other annotator on dual images, and with adjudicated finals
  (an adjudication or a golden reference) on the images the annotator labeled
- golden accuracy, and the spot-check correction rate (reviews of their labels)
- per-class confusion against finals (the annotator's image category by the final's)
- drift: each weekly figure's latest week against the mean of the weeks before it

`build_analytics(project)` reads the journals; `compute(...)` is the pure part.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from ..core.model import Annotation
from ..project import Project
from ..store.audit import iter_log
from .decisions import compare_for
from .report import dual_pairs, image_category

IDLE_S = 300.0
WEEKLY = (
    "images",
    "objects",
    "seconds_per_image",
    "agreement_other",
    "agreement_final",
    "golden_accuracy",
    "correction_rate",
)
Agree = Callable[[Annotation, Annotation], bool]


def week_of(ts: str) -> str:
    year, week, _ = datetime.fromisoformat(ts).isocalendar()
    return f"{year}-W{week:02d}"


def task_of(before: Annotation, after: Annotation) -> str:
    if before.keypoints != after.keypoints:
        return "keypoint"
    if before.boxes != after.boxes:
        return "box"
    if before.checks != after.checks:
        return "assembly"
    if (before.defect_class, before.severity) != (after.defect_class, after.severity):
        return "classification"
    return "passfail"


@dataclass
class _Week:
    images: set[str] = field(default_factory=set)
    objects: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    timed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    shares: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))

    def figures(self) -> dict[str, Any]:
        per_task = {
            t: round(self.seconds[t] / len(self.timed[t]), 1)
            for t in sorted(self.seconds)
            if self.timed[t]
        }
        timed = set().union(*self.timed.values()) if self.timed else set()
        total = round(sum(self.seconds.values()) / len(timed), 1) if timed else None
        out = {
            "images": len(self.images),
            "objects": self.objects,
            "seconds_per_image": total,
            "seconds_by_task": per_task,
        }
        for key in ("agreement_other", "agreement_final", "golden_accuracy", "correction_rate"):
            v = self.shares.get(key, [])
            out[key] = round(sum(v) / len(v), 4) if v else None
            out[f"{key}_n"] = len(v)
        return out


class _User:
    def __init__(self) -> None:
        self.weeks: dict[str, _Week] = defaultdict(_Week)
        self.total = _Week()
        self.confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def share(self, ts: str, key: str, ok: bool) -> None:
        for w in (self.weeks[week_of(ts)], self.total):
            w.shares[key].append(bool(ok))


def timing(
    events: Iterable[dict[str, Any]], idle_s: float = IDLE_S
) -> list[tuple[str, str, str, float | None]]:
    """(ts, image, task, seconds or None) for one annotator's label events in order."""
    out: list[tuple[str, str, str, float | None]] = []
    last: datetime | None = None
    for e in events:
        t = datetime.fromisoformat(e["ts"])
        gap = (t - last).total_seconds() if last is not None else None
        last = t
        secs = gap if gap is not None and 0 <= gap <= idle_s else None
        task = task_of(Annotation.from_dict(e.get("before")), Annotation.from_dict(e.get("after")))
        out.append((e["ts"], e["image"], task, secs))
    return out


def compute(
    label_events: dict[str, list[dict[str, Any]]],
    states: dict[Any, Any],
    duals: list[Any],
    finals: dict[str, Annotation],
    answers: list[Any],
    agree: Agree,
    idle_s: float = IDLE_S,
) -> dict[str, Any]:
    """The analytics of every annotator with label events (see the module docstring)."""
    users: dict[str, _User] = defaultdict(_User)
    for user, events in label_events.items():
        if events:  # reviewers and adjudicators write no label events
            _activity(users[user], events, states.get(user), idle_s)
    for p in duals:
        for me, ts_of in ((p.a_user, p.a_ts), (p.b_user, p.b_ts)):
            users[me].share(ts_of, "agreement_other", p.agreed)
    for user, state in states.items():
        for image, final in finals.items():
            entry = state.entries.get(("label", image))
            if entry is None or not Annotation.from_dict(entry["after"]).is_labeled:
                continue
            mine = Annotation.from_dict(entry["after"])
            users[user].share(entry["ts"], "agreement_final", agree(mine, final))
            users[user].confusion[image_category(mine)][image_category(final)] += 1
    for a in answers:
        users[a.user].share(a.ts, "golden_accuracy", a.correct)
    _reviews(users, states)
    return {"idle_s": idle_s, "annotators": {u: _assemble(users[u]) for u in sorted(users)}}


def _activity(u: _User, events: list[dict[str, Any]], state: Any, idle_s: float) -> None:
    first_labeled: dict[str, str] = {}
    for e in events:
        if Annotation.from_dict(e.get("after")).is_labeled:
            first_labeled.setdefault(e["image"], e["ts"])
    for image, ts in first_labeled.items():
        now = state.annotation(image) if state is not None else Annotation()
        for w in (u.weeks[week_of(ts)], u.total):
            w.images.add(image)
            w.objects += len(now.boxes) + len(now.keypoints)
    for ts, image, task, secs in timing(events, idle_s):
        if secs is None:
            continue
        for w in (u.weeks[week_of(ts)], u.total):
            w.seconds[task] += secs
            w.timed[task].add(image)


def _reviews(users: dict[str, _User], states: dict[Any, Any]) -> None:
    for state in states.values():
        for _image, entry in state.items("review"):
            of = entry["after"].get("of")
            if of:
                users[of].share(
                    entry["ts"], "correction_rate", entry["after"].get("outcome") == "corrected"
                )


def _assemble(u: _User) -> dict[str, Any]:
    weeks = {w: u.weeks[w].figures() for w in sorted(u.weeks)}
    return {
        "totals": u.total.figures(),
        "weeks": weeks,
        "drift": drift(weeks),
        "confusion": {a: dict(sorted(b.items())) for a, b in sorted(u.confusion.items())},
    }


def drift(weeks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per weekly figure: the latest week's value, the mean of the earlier weeks, and
    the change (None with fewer than two weeks holding the figure)."""
    out: dict[str, Any] = {}
    for key in WEEKLY:
        series = [(w, f[key]) for w, f in weeks.items() if f.get(key) is not None]
        if len(series) < 2:
            out[key] = None
            continue
        earlier = [v for _, v in series[:-1]]
        mean = sum(earlier) / len(earlier)
        out[key] = {
            "week": series[-1][0],
            "last": series[-1][1],
            "before": round(mean, 4),
            "change": round(series[-1][1] - mean, 4),
        }
    return out


# -- reading a project -------------------------------------------------------------------
@dataclass(frozen=True)
class PairOutcome:
    a_user: str
    b_user: str
    a_ts: str
    b_ts: str
    agreed: bool


def build_analytics(project: Project, user: str | None = None) -> dict[str, Any]:
    from . import golden
    from .final import final_labels, project_agree

    raw = project.store.all_states()
    states = golden.label_states(project, raw)
    agree = project_agree(project)
    duals = [
        PairOutcome(
            p.a_user,
            p.b_user,
            states[p.a_user].entries[("label", p.image)]["ts"],
            states[p.b_user].entries[("label", p.image)]["ts"],
            compare_for(project, p.a, p.b).agree,
        )
        for p in dual_pairs(project, states)
    ]
    # Adjudicated: an image with a decision in some journal, or a golden reference;
    # only those are looked at (a million catalog images otherwise, 12 s).
    decided = {img for s in raw.values() for kind, img in s.entries if kind == "final"}
    finals = {
        i: f.annotation
        for i, f in final_labels(
            project, "adjudicated", images=decided | set(golden.golden_set(project, raw))
        ).items()
    }
    events = {
        u: [e for e in iter_log(project.store.labels_dir, user=u) if e["kind"] == "label"]
        for u in project.store.users()
        if user in (None, u)
    }
    out = compute(
        events,
        states,
        duals,
        finals,
        golden.answers(project, raw),
        agree,
        float(project.qa.get("idle_s", IDLE_S)),
    )
    if user is not None:
        out["annotators"] = {u: v for u, v in out["annotators"].items() if u == user}
    out["project"] = project.name
    return out
