"""A version's QA evidence: the agreement headline and what it was released on
(metrics, lots, golden scores, quality gates), computed once per state of the project,
and its hash (kept beside the content hash, so tampering with the evidence shows)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from typing import Any

from .project import Project


def _qa_summary(project: Project, finals: dict, gates: list[str] | None) -> dict[str, Any]:
    statuses = Counter(f.status for f in finals.values())
    # Only images without a final label need their labels built to tell whether they
    # are labeled (the others are, by having one).
    labeled = set()
    for state in project.store.all_states().values():
        labeled |= {
            img
            for img, _ in state.items("label")
            if img not in finals and img not in labeled and state.annotation(img).is_labeled
        }
    return {
        "images_in_catalog": len(project.store.catalog),
        "images_in_version": len(finals),
        "status_counts": dict(sorted(statuses.items())),
        "labeled_without_final_label": len(labeled),
        **copy.deepcopy(_qa_evidence(project, gates)),
    }


_QA_CACHE: dict[str, dict[str, Any]] = {}


def _qa_evidence(project: Project, gates: list[str] | None) -> dict[str, Any]:
    """The agreement report's headline and the release evidence, computed once per
    state of the project: keyed by every journal's position (seq and hash of its last
    event), the config, roles and the catalog (its files' state too), so a second
    export with no label changed in between (a version, then its export; the app's
    export after a preview; the next `qclabel export`) reuses it: in this process, and
    across processes through the exporting user's own cache folder (evidence_cache).
    Evidence is kept only when that state was the same before and after computing it."""
    from . import evidence_cache
    from .qa.plan import build_plan
    from .qa.report import build_report

    key = evidence_cache.digest(project.root, _state(project, gates))
    value = _QA_CACHE.get(key) or evidence_cache.load(project.root, key)
    if value is None:
        report = build_report(project)
        value = {
            "agreement": _agreement(report),
            "evidence": _evidence(project, report, build_plan(project), gates),
        }
        if evidence_cache.digest(project.root, _state(project, gates)) != key:
            return value  # something changed meanwhile: kept as no state's
        evidence_cache.store(project.root, key, value)
    if key not in _QA_CACHE:
        if len(_QA_CACHE) >= 4:
            _QA_CACHE.pop(next(iter(_QA_CACHE)))
        _QA_CACHE[key] = value
    return value


def _state(project: Project, gates: list[str] | None) -> tuple[Any, ...]:
    """What the evidence is computed from, as the key of its cache (evidence_cache)."""
    states = project.store.all_states()
    catalog = project.store.catalog
    return (
        str(project.root),
        tuple(sorted((u, s.tail.seq, s.tail.hash) for u, s in states.items())),
        json.dumps([project.config, project.role_table()], sort_keys=True, default=str),
        len(catalog),
        tuple(catalog.ids_after(len(catalog) - 1)),
        tuple(gates) if gates else None,
    )


def _agreement(report: dict[str, Any]) -> dict[str, Any] | None:
    """The QA report's headline figures (dual images, agreed, checks against targets)."""
    if not report.get("images"):
        return None
    keep = ("images", "agreed", "targets", "checks", "worst_classes", "pending_dual")
    return _plain({k: report.get(k) for k in keep})


def _evidence(
    project: Project, report: dict[str, Any], plan: Any, gates: list[str] | None
) -> dict[str, Any]:
    """What the version was released on: metrics, lots, golden scores, gates."""
    from .qa.gates import evaluate

    results = evaluate(project, report, plan, gates)
    lots = [
        {k: lot.to_dict()[k] for k in ("lot", "size", "severity", "plan", "corrections", "outcome")}
        for lot in plan.lots
    ]
    golden = report.get("golden") or {}
    return _plain(
        {
            "metrics": report.get("checks") if report.get("images") else [],
            "lots": lots,
            "lots_passed": sum(lot.passes for lot in plan.lots),
            "golden": {k: golden.get(k) for k in ("images", "annotators", "flagged")},
            "gates": [r.to_dict() for r in results],
            "overrides": [],
        }
    )


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def evidence_hash(qa: dict[str, Any]) -> str:
    raw = json.dumps(qa, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()
