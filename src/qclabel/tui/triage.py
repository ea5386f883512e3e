"""What accepting a grid page writes: the rule, without Textual.

A page accept never overwrites a label the operator did not touch on this page:
- a cell marked on this page gets its mark (fail, fail + class, or an explicit pass);
- an unmarked cell without a label (never labeled, or only skipped) becomes pass;
- an unmarked cell that already has a label (pass, fail, fail + class, boxes, a flag)
  keeps it exactly: it is not part of what the page writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core import edits
from ..core.model import Annotation

PASS, FAIL = "pass", "fail"


@dataclass(frozen=True)
class Mark:
    """What the operator set on a cell of this page."""

    verdict: str  # PASS or FAIL
    defect_class: str | None = None


@dataclass(frozen=True)
class PagePlan:
    writes: list[tuple[str, list[edits.Edit]]]
    passes: int  # cells that will read pass (marked pass or unlabeled)
    fails: int  # cells marked fail
    kept: int  # cells already labeled, left as they are

    def describe(self) -> str:
        kept = f", {self.kept} kept as labeled" if self.kept else ""
        return f"{self.passes} pass, {self.fails} fail{kept}"


def unlabeled(ann: Annotation) -> bool:
    return ann.state in ("unlabeled", "skipped")


def mark_edits(mark: Mark) -> list[edits.Edit]:
    if mark.verdict == PASS:
        return [edits.set_verdict(PASS)]
    if mark.defect_class:
        return [edits.set_class(mark.defect_class)]
    return [edits.set_verdict(FAIL)]  # keeps a class the image already has


def page_plan(
    ids: list[str], marks: dict[str, Mark], annotation: Callable[[str], Annotation]
) -> PagePlan:
    writes, passes, fails, kept = [], 0, 0, 0
    for image_id in ids:
        mark = marks.get(image_id)
        if mark is not None:
            writes.append((image_id, mark_edits(mark)))
            passes, fails = passes + (mark.verdict == PASS), fails + (mark.verdict == FAIL)
        elif unlabeled(annotation(image_id)):
            writes.append((image_id, [edits.set_verdict(PASS)]))
            passes += 1
        else:
            kept += 1
    return PagePlan(writes, passes, fails, kept)
