"""Quality gates: what must hold before a dataset version may be released.

    [qa.gates]
    calibration_complete = true      # every planned dual image labeled twice, every
                                     # disagreement adjudicated
    class_agreement = 0.95           # image-class percent agreement of the dual images
    verdict_agreement = 0.95         # pass/fail percent agreement of the dual images
    box_iou_share = 0.95             # share of matched box pairs at the box IoU target
    lots_accepted = true             # every lot accepted, or rectified by full review
    golden_accuracy = true           # nobody flagged; a number: every annotator with
                                     # enough golden answers at least that accurate
    no_consistency_problems = true   # no open consistency problems (`qclabel check`)

A gate with no data to measure fails: a release is never waved through because nothing
was measured. `version create` refuses when a gate fails, naming it; an admin may
release anyway with `--override --note WHY`, which records a `gate_override` event in
the admin's journal and the override in the version's QA evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ConfigError, QclabelError
from ..project import Project
from .kinds import GATE_OVERRIDE as OVERRIDE  # noqa: F401  (re-exported)

FLAG_GATES = ("calibration_complete", "lots_accepted", "no_consistency_problems")
SHARE_GATES = ("class_agreement", "verdict_agreement", "box_iou_share")
GATES = FLAG_GATES[:2] + SHARE_GATES + ("golden_accuracy", FLAG_GATES[2])


class GateFailed(QclabelError):
    """A quality gate refused a dataset version."""

    exit_code = 6


@dataclass(frozen=True)
class GateResult:
    gate: str
    passed: bool
    value: Any
    target: Any
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def configured(project: Project) -> dict[str, Any]:
    """The `[qa.gates]` table, validated (errors name the field)."""
    gates = project.config.get("qa", {}).get("gates", {})
    path = project.config_path
    if not isinstance(gates, dict):
        raise ConfigError(path, "qa.gates", gates, "must be a table of gate = target")
    for name, target in gates.items():
        field = f"qa.gates.{name}"
        if name not in GATES:
            raise ConfigError(
                path, field, target, f"unknown gate; expected one of {', '.join(GATES)}"
            )
        if name in FLAG_GATES and not isinstance(target, bool):
            raise ConfigError(path, field, target, "must be true or false")
        if name in SHARE_GATES or (name == "golden_accuracy" and not isinstance(target, bool)):
            if (
                isinstance(target, bool)
                or not isinstance(target, (int, float))
                or not 0 <= target <= 1
            ):
                raise ConfigError(
                    path,
                    field,
                    target,
                    "must be a share from 0 to 1"
                    + (" (or true)" if name == "golden_accuracy" else ""),
                )
    return {k: v for k, v in gates.items() if v is not False}


def evaluate(
    project: Project, report: dict[str, Any], plan: Any, only: list[str] | None = None
) -> list[GateResult]:
    """Every configured gate (or those in `only`), in the order of GATES."""
    gates = configured(project)
    if only is not None:
        unknown = [g for g in only if g not in gates]
        if unknown:
            raise ConfigError(
                project.config_path, "pipeline.gates", unknown[0], "not configured in [qa.gates]"
            )
        gates = {k: v for k, v in gates.items() if k in only}
    return [_CHECKS[name](project, report, plan, gates[name]) for name in GATES if name in gates]


def _calibration(project: Project, report: dict[Any, Any], plan: Any, target: Any) -> GateResult:
    pending = report.get("pending_dual", 0)
    open_ = sum(1 for d in report.get("disagreements", []) if not d["resolved"])
    ok = pending == 0 and open_ == 0
    detail = (
        "every dual image labeled twice and adjudicated"
        if ok
        else f"{pending} dual image(s) still being labeled, {open_} disagreement(s) not adjudicated"
    )
    return GateResult(
        "calibration_complete",
        ok,
        {"pending_dual": pending, "open_disagreements": open_},
        True,
        detail,
    )


def _share(name: str, value: float | None, target: float, what: str) -> GateResult:
    if value is None:
        return GateResult(name, False, None, target, f"no {what} to measure")
    ok = value >= target
    return GateResult(
        name,
        ok,
        value,
        target,
        f"{what} {value * 100:.1f} % {'>=' if ok else '<'} {target * 100:g} %",
    )


def _class(project: Project, report: dict[Any, Any], plan: Any, target: float) -> GateResult:
    v = report["classification"]["class"]["percent"] if report.get("images") else None
    return _share("class_agreement", v, float(target), "class agreement of dual images")


def _verdict(project: Project, report: dict[Any, Any], plan: Any, target: float) -> GateResult:
    v = report["classification"]["verdict"]["percent"] if report.get("images") else None
    return _share("verdict_agreement", v, float(target), "verdict agreement of dual images")


def _boxes(project: Project, report: dict[Any, Any], plan: Any, target: float) -> GateResult:
    v = report.get("boxes", {}).get("share_at_target")
    return _share("box_iou_share", v, float(target), "box pairs at the IoU target")


def _lots(project: Project, report: dict[Any, Any], plan: Any, target: Any) -> GateResult:
    if project.qa.get("spot_check_by") != "aql":
        return GateResult(
            "lots_accepted",
            False,
            None,
            True,
            'lots are sampled only with [qa] spot_check_by = "aql"',
        )
    bad = [lot for lot in plan.lots if not lot.passes]
    detail = (
        "every lot accepted or rectified"
        if not bad
        else "; ".join(
            f"lot {lot.name} {lot.outcome} ({lot.reviewed}/{len(lot.review_set())} reviewed, "
            f"{lot.corrections} corrections)"
            for lot in bad[:5]
        )
    )
    return GateResult(
        "lots_accepted", not bad, {"lots": len(plan.lots), "not_passed": len(bad)}, True, detail
    )


def _golden(project: Project, report: dict[Any, Any], plan: Any, target: Any) -> GateResult:
    g = report.get("golden") or {}
    if target is True:
        flagged = g.get("flagged", [])
        return GateResult(
            "golden_accuracy",
            not flagged,
            flagged,
            True,
            "nobody flagged" if not flagged else "flagged: " + ", ".join(flagged),
        )
    need = g.get("settings", {}).get("golden_min_answers", 1)
    low = [
        a["annotator"]
        for a in g.get("annotators", [])
        if a["answers"] >= need and a["accuracy"] < float(target)
    ]
    return GateResult(
        "golden_accuracy",
        not low,
        low,
        target,
        f"every annotator at least {float(target) * 100:g} %"
        if not low
        else "below target: " + ", ".join(low),
    )


def _consistency(project: Project, report: dict[Any, Any], plan: Any, target: Any) -> GateResult:
    """Blocking findings of `qclabel check` (labels, finals, corrections) fail the gate;
    incomplete images are named but do not: detection exports leave them out."""
    from ..check import project_findings

    found = project_findings(project)
    blocking = [f for f in found if f.blocking]
    incomplete = len({f.image for f in found if not f.blocking})
    tail = f"; {incomplete} incomplete images (left out of detection exports)" if incomplete else ""
    if not blocking:
        return GateResult(
            "no_consistency_problems", True, 0, True, "no blocking inconsistency" + tail
        )
    first = blocking[0]
    return GateResult(
        "no_consistency_problems",
        False,
        len(blocking),
        True,
        f"{len(blocking)} blocking inconsistencies, e.g. {first.file} "
        f"({first.annotator}): {first.rule}{tail}; see `qclabel check`",
    )


_CHECKS = {
    "calibration_complete": _calibration,
    "class_agreement": _class,
    "verdict_agreement": _verdict,
    "box_iou_share": _boxes,
    "lots_accepted": _lots,
    "golden_accuracy": _golden,
    "no_consistency_problems": _consistency,
}


def refusal(name: str, failed: list[GateResult]) -> GateFailed:
    lines = "; ".join(f"{g.gate}: {g.detail}" for g in failed)
    return GateFailed(
        f"dataset version {name!r} not created: {len(failed)} quality gate(s) "
        f"failed ({lines}); an admin may release it anyway with "
        "--override --note WHY"
    )
