"""Acceptance sampling of labeled lots (ISO 2859-1 single sampling, `spot_check_by = "aql"`).

A lot is the single-labeled images (dual images are checked in full by adjudication)
that share the ingest field `[qa] lot_by` (lot, station or shift). Each lot gets the
sampling plan of its size at the current severity; reviewers spot-check its sample
(the `n` images with the lowest SHA-256 of "seed:image"), and a review that corrects
the label is one nonconforming image. The lot is accepted once the whole sample is
reviewed with at most Ac corrections, and rejected as soon as corrections reach Re;
a rejected lot goes back to the reviewers in full and is "rectified" once every image
is reviewed. Lots are taken in catalog order for the switching rules (ISO 2859-1 9.3):

- normal -> tightened: 2 of the last 5 (or fewer) lots on normal not accepted
- tightened -> normal: 5 lots in a row accepted
- tightened -> discontinued: 5 lots not accepted while on tightened; every later lot is
  then reviewed in full until `[qa] aql_resume = "LOT"` resumes tightened inspection
- normal -> reduced: switching score >= 30, only with `[qa] allow_reduced = true`
  (the standard leaves this to the responsible authority)
- reduced -> normal: a lot not accepted

Switching score (9.3.3.2): on normal inspection, when Ac >= 2 add 3 if the lot would
also have been accepted at the next tighter AQL, else reset to 0; when Ac is 0 or 1,
add 2 if the lot is accepted, else reset to 0. A lot still waiting for reviews does
not count until it is decided. Everything is computed from the catalog, the config and
the review events; nothing is stored.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import ConfigError
from .iso2859 import SamplingError, aql_key, cell, levels, sampling_plan, tighter_aql

LOT_FIELDS = ("lot", "station", "shift")
NO_LOT = "(no lot)"
SWITCH_TO_REDUCED = 30


@dataclass
class Lot:
    name: str
    images: list[str]
    severity: str = "normal"
    plan: dict[str, Any] = field(default_factory=dict)
    sample: list[str] = field(default_factory=list)
    labeled: int = 0
    reviewed: int = 0
    corrections: int = 0
    full_reviewed: int = 0
    outcome: str = "sampling"  # sampling | accepted | rejected | rectified | full review
    score: int = 0  # switching score after this lot

    @property
    def decided(self) -> bool:
        return self.outcome in ("accepted", "rejected", "rectified")

    @property
    def passes(self) -> bool:
        """Fit to train on: accepted on sampling, or every image reviewed."""
        return self.outcome in ("accepted", "rectified")

    def review_set(self) -> list[str]:
        """The images reviewers must check: the sample, or all of a rejected lot."""
        return (
            list(self.images)
            if self.outcome in ("rejected", "rectified", "full review")
            else list(self.sample)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "lot": self.name,
            "size": len(self.images),
            "severity": self.severity,
            "plan": self.plan,
            "labeled": self.labeled,
            "reviewed": self.reviewed,
            "corrections": self.corrections,
            "full_reviewed": self.full_reviewed,
            "outcome": self.outcome,
            "switching_score": self.score,
        }


def settings(project: Any) -> dict[str, Any]:
    qa, path = project.qa, project.config_path
    try:
        aql = aql_key(qa.get("aql", "1.0"))
    except SamplingError as exc:
        raise ConfigError(path, "qa.aql", qa.get("aql"), str(exc)) from None
    level = qa.get("inspection_level", "II")
    if level not in levels():
        raise ConfigError(path, "qa.inspection_level", level, f"use one of {levels()}")
    lot_by = qa.get("lot_by", "lot")
    if lot_by not in LOT_FIELDS:
        raise ConfigError(path, "qa.lot_by", lot_by, f"use one of {list(LOT_FIELDS)}")
    reduced = qa.get("allow_reduced", False)
    if not isinstance(reduced, bool):
        raise ConfigError(path, "qa.allow_reduced", reduced, "must be true or false")
    resume = qa.get("aql_resume", "")
    if not isinstance(resume, str):
        raise ConfigError(path, "qa.aql_resume", resume, "must be a lot name")
    return {
        "aql": aql,
        "inspection_level": level,
        "lot_by": lot_by,
        "allow_reduced": reduced,
        "aql_resume": resume,
        "seed": int(qa.get("seed", 0)),
    }


def lots_for(
    project: Any, records: Iterable[Any], states: dict[Any, Any] | None = None
) -> list[Lot]:
    """The evaluated lots of `records` (the single-labeled images, catalog order)."""
    cfg = settings(project)
    states = project.store.all_states() if states is None else states
    labeled = {img for s in states.values() for img, a in s.annotations().items() if a.is_labeled}
    return evaluate(group_lots(records, cfg["lot_by"]), cfg, review_outcomes(states), labeled)


def group_lots(records: Iterable[Any], lot_by: str) -> list[Lot]:
    """Lots in the order their first image entered the catalog."""
    groups: dict[str, list[str]] = defaultdict(list)
    for rec in records:
        groups[rec.fields.get(lot_by) or NO_LOT].append(rec.id)
    return [Lot(name, ids) for name, ids in groups.items()]


def review_outcomes(states: dict[Any, Any]) -> dict[str, str]:
    """image -> latest review outcome ("ok" | "corrected") across reviewers' journals."""
    best: dict[str, tuple[str, str]] = {}
    for state in states.values():
        for image, entry in state.items("review"):
            if image not in best or entry["ts"] > best[image][0]:
                best[image] = (entry["ts"], entry["after"].get("outcome", "ok"))
    return {image: outcome for image, (_, outcome) in best.items()}


def evaluate(
    lots: list[Lot], cfg: dict[str, Any], reviews: dict[str, str], labeled: set[str]
) -> list[Lot]:
    """Plans, outcomes and switching over `lots` (in order); fills each lot in place."""
    sw = _Switching(cfg)
    for lot in lots:
        if cfg["aql_resume"] and lot.name == cfg["aql_resume"]:
            sw.resume()
        lot.severity = sw.state
        lot.labeled = sum(1 for i in lot.images if i in labeled)
        if sw.state == "discontinued":
            _full_review(lot, reviews)
        else:
            _sample(lot, cfg, reviews)
        lot.score = sw.score
        if lot.decided and lot.severity != "discontinued":
            sw.record(lot, cfg)
    return lots


def _rank(seed: int, image: str) -> str:
    return hashlib.sha256(f"{seed}:{image}".encode()).hexdigest()


def _sample(lot: Lot, cfg: dict[str, Any], reviews: dict[str, str]) -> None:
    plan = sampling_plan(len(lot.images), cfg["aql"], cfg["inspection_level"], lot.severity)
    lot.plan = {**plan.to_dict(), "aql": cfg["aql"]}
    lot.sample = sorted(lot.images, key=lambda i: _rank(cfg["seed"], i))[: plan.n]
    done = [reviews[i] for i in lot.sample if i in reviews]
    lot.reviewed, lot.corrections = len(done), done.count("corrected")
    lot.full_reviewed = sum(1 for i in lot.images if i in reviews)
    if lot.corrections >= plan.re:
        lot.outcome = "rectified" if lot.full_reviewed == len(lot.images) else "rejected"
    elif lot.reviewed == len(lot.sample) and lot.corrections <= plan.ac:
        lot.outcome = "accepted"
    else:
        lot.outcome = "sampling"


def _full_review(lot: Lot, reviews: dict[str, str]) -> None:
    lot.plan = {"n": len(lot.images), "full": True, "severity": "discontinued"}
    lot.sample = list(lot.images)
    lot.full_reviewed = lot.reviewed = sum(1 for i in lot.images if i in reviews)
    lot.corrections = sum(1 for i in lot.images if reviews.get(i) == "corrected")
    lot.outcome = "rectified" if lot.full_reviewed == len(lot.images) else "full review"


class _Switching:
    """The normal / tightened / reduced / discontinued state over decided lots."""

    def __init__(self, cfg: dict[str, Any]):
        self.state, self.score = "normal", 0
        self.allow_reduced = cfg["allow_reduced"]
        self.recent: deque[bool] = deque(maxlen=5)
        self.run = self.rejects = 0

    def resume(self) -> None:
        if self.state == "discontinued":
            self._enter("tightened")

    def _enter(self, state: str) -> None:
        self.state, self.run, self.rejects = state, 0, 0
        self.recent.clear()
        self.score = 0

    def record(self, lot: Lot, cfg: dict[str, Any]) -> None:
        accepted = lot.outcome == "accepted"
        if self.state == "normal":
            self.recent.append(accepted)
            self.score = lot.score = _next_score(self.score, lot, accepted)
            if list(self.recent).count(False) >= 2:
                self._enter("tightened")
            elif self.allow_reduced and self.score >= SWITCH_TO_REDUCED:
                self._enter("reduced")
        elif self.state == "tightened":
            self.run = self.run + 1 if accepted else 0
            self.rejects += not accepted
            if self.rejects >= 5:
                self._enter("discontinued")
            elif self.run >= 5:
                self._enter("normal")
        elif self.state == "reduced" and not accepted:
            self._enter("normal")


def _next_score(score: int, lot: Lot, accepted: bool) -> int:
    ac = lot.plan["ac"]
    if ac >= 2:
        tighter = tighter_aql_ac(lot)
        return score + 3 if tighter is not None and lot.corrections <= tighter else 0
    return score + 2 if accepted else 0


def tighter_aql_ac(lot: Lot) -> int | None:
    """Ac of the next tighter AQL in the row the lot's plan came from."""
    aql = lot.plan.get("aql")
    tighter = tighter_aql(aql) if aql else None
    if tighter is None:
        return None
    value = cell("normal", lot.plan["letter"], tighter)
    return int(value.split("/")[0]) if "/" in value else None
