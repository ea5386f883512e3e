"""The assignment plan: who labels, reviews and adjudicates which image.

Policy, from the project config `[qa]`:
- Images belong to a task: the ingest field `task` (`record.fields["task"]`), or one
  task for the whole project when images carry none.
- The first `dual_first_n` images of each task (catalog order) are labeled by two
  different annotators, blind. Pairs rotate deterministically through every pair of the
  `annotator` role (in the order the config lists them), so each pair gets images and
  per-pair agreement can be measured.
- Later images go to one annotator each, round-robin.
- A spot-check sample of the single-labeled images (`spot_check_rate`) goes to a
  reviewer who is not the image's annotator. With `spot_check_by` = lot, station or
  shift the sample is drawn per value of that ingest field, so every lot is checked.
  The sample is the `rate` share of each group with the lowest SHA-256 of
  "seed:image": the same seed and catalog always give the same sample.
- Disagreeing dual images and images sent to consensus go to the adjudicators.
The plan is computed, never stored: it follows the config and the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple

import numpy as np

from ..errors import ConfigError
from ..project import Project
from .plan_table import DUAL, PlanTable, build_table

SPOT_CHECK_FIELDS = ("", "lot", "station", "shift", "aql")


@dataclass(frozen=True)
class Assignment:
    image: str
    task: str
    phase: str  # "dual" | "single"
    annotators: tuple[str, ...]  # 2 for dual, 1 for single, () if nobody has the role
    reviewer: str | None = None  # set for spot-checked images


@dataclass
class Plan:
    annotators: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lots: list[Any] = field(default_factory=list)  # acceptance-sampling lots (qa.aql)
    table: PlanTable | None = None  # the plan as columns (qa.plan_table)
    _assignments: dict[str, Assignment] | None = field(default=None, repr=False)

    @property
    def assignments(self) -> dict[str, Assignment]:
        """Every image's Assignment, in plan order: built on first use only."""
        if self._assignments is None:
            t, out = self.table, {}
            if t is not None:
                reviewers = t.reviewers
                for row, (image, task, phase, rev) in enumerate(
                    zip(t.ids, t.task.tolist(), t.phase.tolist(), t.reviewer.tolist())
                ):
                    out[image] = Assignment(
                        image,
                        t.tasks[task],
                        "dual" if phase == DUAL else "single",
                        t.annotators_of(row),
                        reviewers[rev] if rev >= 0 else None,
                    )
            self._assignments = out
        return self._assignments

    def assignments_for(self, user: str) -> list[Assignment]:
        """The Assignments `user` labels or reviews, in plan order: a user's share of
        a million-image plan, without building everybody's."""
        t = self.table
        if t is None:
            return []
        pairs = [w for w, p in enumerate(t.pairs) if user in p]
        mine = (t.phase == DUAL) & np.isin(t.who, pairs)
        if user in t.annotators:
            mine |= (t.phase != DUAL) & (t.who == t.annotators.index(user))
        if user in t.reviewers:
            mine |= t.reviewer == t.reviewers.index(user)
        return [self._assignment(int(row)) for row in np.flatnonzero(mine)]

    def _assignment(self, row: int) -> Assignment:
        t = self.table
        assert t is not None
        rev = int(t.reviewer[row])
        return Assignment(
            t.ids[row],
            t.tasks[int(t.task[row])],
            "dual" if t.phase[row] == DUAL else "single",
            t.annotators_of(row),
            t.reviewers[rev] if rev >= 0 else None,
        )

    def dual_images(self) -> list[str]:
        t = self.table
        return [] if t is None else [t.ids[i] for i in np.flatnonzero(t.phase == DUAL)]

    def spot_checks(self) -> list[str]:
        t = self.table
        return [] if t is None else [t.ids[i] for i in np.flatnonzero(t.reviewer >= 0)]

    def to_dict(self) -> dict[str, Any]:
        return {**self.head(), "images": list(self.image_dicts())}

    def head(self) -> dict[str, Any]:
        """`to_dict()` but its per-image list (what `qa plan --json` streams after it)."""
        return {
            "settings": self.settings,
            "annotators": self.annotators,
            "reviewers": self.reviewers,
            "warnings": self.warnings,
            "summary": self.summary(),
            "lots": [lot.to_dict() for lot in self.lots],
        }

    def image_dicts(self) -> Iterator[dict[str, Any]]:
        """Each image's assignment as a dict, in plan order, straight from the table
        (no Assignment objects: a million of them cost seconds and hundreds of MB)."""
        t = self.table
        if t is None:
            return
        duals = [list(p) for p in t.pairs]
        singles = [[a] for a in t.annotators]
        for image, task, phase, who, rev in zip(
            t.ids, t.task.tolist(), t.phase.tolist(), t.who.tolist(), t.reviewer.tolist()
        ):
            yield {
                "image": image,
                "task": t.tasks[task],
                "phase": "dual" if phase == DUAL else "single",
                "annotators": [] if who < 0 else list((duals if phase == DUAL else singles)[who]),
                "reviewer": t.reviewers[rev] if rev >= 0 else None,
            }

    def summary(self) -> dict[str, Any]:
        t = self.table
        if t is None:
            return {"images": 0, "dual": 0, "single": 0, "spot_checks": 0, "per_user": {}}
        dual = int((t.phase == DUAL).sum())
        return {
            "images": len(t.ids),
            "dual": dual,
            "single": len(t.ids) - dual,
            "spot_checks": int((t.reviewer >= 0).sum()),
            "per_user": t.per_user(),
        }


def settings(project: Project) -> dict[str, Any]:
    """The `[qa]` assignment settings, validated (errors name the config field)."""
    qa, path = project.qa, project.config_path
    n, rate, by, seed = qa["dual_first_n"], qa["spot_check_rate"], qa["spot_check_by"], qa["seed"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(path, "qa.dual_first_n", n, "must be a whole number >= 0")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise ConfigError(path, "qa.spot_check_rate", rate, "must be a number from 0 to 1")
    if by not in SPOT_CHECK_FIELDS:
        raise ConfigError(
            path,
            "qa.spot_check_by",
            by,
            f"expected one of {', '.join(repr(f) for f in SPOT_CHECK_FIELDS)}",
        )
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(path, "qa.seed", seed, "must be a whole number")
    return {"dual_first_n": n, "spot_check_rate": float(rate), "spot_check_by": by, "seed": seed}


def build_plan(project: Project) -> Plan:
    cfg = settings(project)
    roles = project.role_table()
    plan = Plan(
        annotators=list(dict.fromkeys(roles["annotator"])),
        reviewers=list(dict.fromkeys(roles["reviewer"])),
        settings=cfg,
    )
    if len(plan.annotators) < 2 and cfg["dual_first_n"]:
        plan.warnings.append(
            "dual annotation needs two users with the annotator role "
            f"(have {len(plan.annotators)}); first images stay single"
        )
    choose = None
    if cfg["spot_check_by"] == "aql":

        def choose(single_ids: list[str]) -> set[str]:
            from .aql import lots_for  # ISO 2859-1 sampling per lot, see qa.aql

            wanted = set(single_ids)
            plan.lots = lots_for(
                project, [r for r in project.store.catalog.light() if r.id in wanted]
            )
            return {i for lot in plan.lots for i in lot.review_set()}

    plan.table, chosen = build_table(
        project.store.catalog, cfg, plan.annotators, plan.reviewers, choose
    )
    if chosen and not plan.reviewers:
        plan.warnings.append("spot checks need a user with the reviewer role")
    return plan


def dual_image_ids(project: Project) -> list[str]:
    """The images of `build_plan(project).dual_images()` without planning all others: the
    first `dual_first_n` of each task, when there are two annotators to pair."""
    n = settings(project)["dual_first_n"]
    if not n or len(dict.fromkeys(project.role_table()["annotator"])) < 2:
        return []
    # a task is a manufacturing field; "" and no task are the same task here
    return project.store.catalog.first_per("task", n) if n else []


# -- the queue a user works through ------------------------------------------------
class QueueItem(NamedTuple):
    """One image of a queue and the role it is worked in (a tuple: a published queue
    at a million images makes half a million of them)."""

    image: str
    role: str  # "annotator" | "reviewer" | "adjudicator"


def queue_items(project: Project, user: str, pending_only: bool = True) -> list[QueueItem]:
    """What `user` should work on, in order: own labeling (dual images first, as they
    come first in the catalog), then spot checks, then adjudications."""
    states = project.store.all_states()
    own = states.get(user)
    items, assignments = _published(project, user, own if pending_only else None)
    for a in assignments:
        if user in a.annotators and not (pending_only and own and _done_label(own, a.image)):
            items.append(QueueItem(a.image, "annotator"))
    for a in assignments:
        if a.reviewer == user and _reviewable(a, states, own, pending_only):
            items.append(QueueItem(a.image, "reviewer"))
    if project.has_role(user, "adjudicator"):
        from .decisions import adjudication_queue
        from .golden import label_states

        items += [
            QueueItem(d.image, "adjudicator")
            for d in adjudication_queue(project, label_states(project, states), pending_only)
            if user not in d.annotators
        ]
    return items


def _published(project: Project, user: str, own: Any) -> tuple[list[QueueItem], list[Assignment]]:
    """The user's published queue (qa.queues), and the assignments it does not cover:
    images ingested since it was published (the plan is made only when there are any).
    Without one: every assignment of theirs (queue_items looks at no other)."""
    from .queues import published_items, read_published

    doc = read_published(project, user)
    if doc is None:
        return [], build_plan(project).assignments_for(user)
    newer = set(project.store.catalog.ids_after(int(doc.get("catalog", 0))))
    return (
        published_items(project, user, own, doc) or [],  # a list: doc is published
        [a for a in build_plan(project).assignments_for(user) if a.image in newer] if newer else [],
    )


def queue_for(project: Project, user: str, pending_only: bool = True) -> list[str]:
    """Image ids in the order `user` should work on them (see `queue_items` for roles)."""
    return list(dict.fromkeys(i.image for i in queue_items(project, user, pending_only)))


def _done_label(state: Any, image: str) -> bool:
    ann = state.annotation(image)
    return ann.is_labeled or ann.flag is not None


def _reviewable(a: Assignment, states: dict[Any, Any], own: Any, pending_only: bool) -> bool:
    by = [
        u
        for u, s in states.items()
        if s.get(a.image, "label") is not None and s.annotation(a.image).is_labeled
    ]
    if len(by) >= 2:  # labeled twice: blind, the adjudicators' to decide (qa.blind)
        return False
    if not pending_only:
        return True
    reviewed = own is not None and own.get(a.image, "review") is not None
    return any(u in by for u in a.annotators) and not reviewed
