"""Consistency rules: what one annotation of one image may say, given the taxonomy.

One pure module, used wherever labels are made or used: the labeler refuses a change
that breaks a blocking rule, `status` counts the findings, `qclabel check` lists them
and detection exports leave incomplete images out.

The rules speak of the *objects* of an annotation rather than of boxes: every object
kind (boxes, keypoint sets, masks) is registered once in `core.kinds` with the taxonomy
task that labels it (`task`) and whether it marks a defect (`defect`); a new kind
registered there is followed by every rule, the check and the exports.

Rules (id: meaning):
- pass-with-objects (blocking): a pass image carries defect objects; allowed when the
  taxonomy sets `pass_allows_objects = true`.
- pass-with-class (blocking): a pass image names a defect class.
- unknown-class (blocking): a class (image-level or of an object) the taxonomy lacks.
- unknown-severity (blocking): a severity the class does not define.
- incomplete: a fail image without any defect object in a taxonomy with a detection
  task (`box`, `segmentation`); a step in the work, never refused, but detection
  exports leave the image out (it is no background image).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from ..errors import InconsistentLabel
from . import kinds
from .kind_base import ObjectKind
from .model import FAIL, PASS, Annotation
from .taxonomy import Taxonomy


def register_kind(kind_: ObjectKind) -> ObjectKind:
    """Add an object kind; the one registry is core.kinds (see there)."""
    return kinds.register(kind_)


def kind(name: str) -> ObjectKind:
    """A kind by its noun ("keypoint set"), export name or Annotation field."""
    for k in kinds.KINDS:
        if name in (k.noun, k.name, k.field):
            return k
    raise KeyError(name)


def defect_kinds() -> list[ObjectKind]:
    return [k for k in kinds.KINDS if k.defect]


def detection_tasks() -> set[str]:
    """Taxonomy tasks whose labels are defect objects (a fail image needs one)."""
    return {k.task for k in defect_kinds()}


def is_detection(taxonomy: Taxonomy) -> bool:
    return any(taxonomy.has_task(t) for t in detection_tasks())


def objects(
    ann: Annotation, of: Iterable[ObjectKind] | None = None
) -> list[tuple[ObjectKind, Any]]:
    """(kind, object) for every object of the given kinds (default: every kind)."""
    return [(k, o) for k in (kinds.KINDS if of is None else of) for o in getattr(ann, k.field, ())]


@dataclass(frozen=True)
class Finding:
    rule: str
    detail: str
    blocking: bool

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "detail": self.detail, "blocking": self.blocking}


PASS_WITH_OBJECTS, PASS_WITH_CLASS = "pass-with-objects", "pass-with-class"
UNKNOWN_CLASS, UNKNOWN_SEVERITY, INCOMPLETE = "unknown-class", "unknown-severity", "incomplete"
RULES = (PASS_WITH_OBJECTS, PASS_WITH_CLASS, UNKNOWN_CLASS, UNKNOWN_SEVERITY, INCOMPLETE)


def check(ann: Annotation, taxonomy: Taxonomy) -> list[Finding]:
    """Every rule `ann` breaks, in RULES order; an unlabeled annotation breaks none."""
    if not ann.is_labeled:
        return []
    out = _pass_findings(ann, taxonomy) + _name_findings(ann, taxonomy)
    labeled_here = [k for k in defect_kinds() if taxonomy.has_task(k.task)]
    if labeled_here and incomplete(ann, labeled_here):
        out.append(Finding(INCOMPLETE, f"fail without any {_kind_names(labeled_here)}", False))
    return out


def incomplete(ann: Annotation, of: Iterable[ObjectKind] | None = None) -> bool:
    """A fail image with no object of the kinds `of` (default: the defect kinds)."""
    return ann.verdict == FAIL and not objects(ann, defect_kinds() if of is None else of)


def _pass_findings(ann: Annotation, taxonomy: Taxonomy) -> list[Finding]:
    if ann.verdict != PASS:
        return []
    out = []
    found = objects(ann, defect_kinds())
    if found and not taxonomy.pass_allows_objects:
        counts = ", ".join(
            f"{n} {k.noun if n == 1 else k.plural}" for k, n in _count_by_kind(found)
        )
        out.append(
            Finding(
                PASS_WITH_OBJECTS,
                f"pass with {counts}: a pass image "
                "carries no defect objects; label it fail or delete them "
                "(taxonomy pass_allows_objects = true allows them)",
                True,
            )
        )
    for cls in ([ann.defect_class] if ann.defect_class else []) + list(ann.also):
        out.append(Finding(PASS_WITH_CLASS, f"pass with defect class {cls!r}", True))
    return out


def _name_findings(ann: Annotation, taxonomy: Taxonomy) -> list[Finding]:
    """Classes the taxonomy lacks and severities their class does not define."""
    known = {c.name: c for c in taxonomy.classes}
    named = [("image", ann.defect_class, ann.severity)]
    named += [("image", cls, None) for cls in ann.also]
    named += [
        (k.noun, getattr(o, "cls", None), getattr(o, "severity", None)) for k, o in objects(ann)
    ]
    unknown, bad_sev = [], []
    for where, cls, sev in named:
        if cls is None:
            continue
        if cls not in known:
            unknown.append(f"{where} class {cls!r}")
        elif sev is not None and sev not in known[cls].severity_names():
            bad_sev.append(
                f"{where} {cls} severity {sev!r} (defined: "
                f"{', '.join(known[cls].severity_names()) or 'none'})"
            )
    out = []
    if unknown:
        out.append(Finding(UNKNOWN_CLASS, "not in the taxonomy: " + "; ".join(unknown), True))
    if bad_sev:
        out.append(Finding(UNKNOWN_SEVERITY, "; ".join(bad_sev), True))
    return out


def _count_by_kind(found: list[tuple[ObjectKind, Any]]) -> list[tuple[ObjectKind, int]]:
    counts: dict[str, int] = {}
    for k, _ in found:
        counts[k.noun] = counts.get(k.noun, 0) + 1
    return [(kind(n), c) for n, c in counts.items()]


def _kind_names(of: list[ObjectKind]) -> str:
    return " or ".join(k.noun for k in of) or "object"


# -- label time ------------------------------------------------------------------------
def complete(ann: Annotation, taxonomy: Taxonomy) -> Annotation:
    """Fill in what the taxonomy decides alone: the severity of a class that has just
    one (image-level and per object), so no screen has to ask for it."""
    fixed = {c.name: c.fixed_severity for c in taxonomy.classes if c.fixed_severity}
    if not fixed:
        return ann
    out = ann
    if ann.defect_class in fixed and ann.severity is None:
        out = replace(out, severity=fixed[ann.defect_class])
    for k in kinds.KINDS:
        objs = getattr(out, k.field, ())
        if any(
            getattr(o, "severity", "") is None and getattr(o, "cls", None) in fixed for o in objs
        ):
            changed: dict[str, Any] = {
                k.field: tuple(
                    replace(o, severity=fixed[o.cls])
                    if getattr(o, "severity", "") is None and o.cls in fixed
                    else o
                    for o in objs
                )
            }
            out = replace(out, **changed)
    return out


def breaks_new(before: Annotation, after: Annotation, taxonomy: Taxonomy) -> list[Finding]:
    """The blocking rules `after` breaks that `before` did not. An image that was
    already inconsistent (labels from before a rule existed) can still be edited
    towards consistency."""
    old = {f.rule for f in check(before, taxonomy) if f.blocking}
    return [f for f in check(after, taxonomy) if f.blocking and f.rule not in old]


def refuse_new(before: Annotation, after: Annotation, taxonomy: Taxonomy, image: str = "") -> None:
    """Raise InconsistentLabel when `after` breaks a blocking rule `before` did not."""
    new = breaks_new(before, after, taxonomy)
    if new:
        where = f"image {image}: " if image else ""
        raise InconsistentLabel(f"{where}refused, {new[0].rule}: {new[0].detail}", new)
