"""The caption under each grid-triage cell: its position in the queue, then the mark the
operator set on this page (PASS, FAIL and class), else the label as saved, dim when the
image has none. Colour is never the only signal: the words are there too."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text

from ..triage import PASS, Mark, unlabeled


def cell_captions(
    page_ids: list[str],
    page_start: int,
    marks: dict[str, Mark],
    annotation: Callable[[str], Any],
) -> list[Text]:
    out = []
    for n, image_id in enumerate(page_ids):
        pos = page_start + n + 1
        ann = annotation(image_id)
        mark = marks.get(image_id)
        if mark is not None and mark.verdict == PASS:
            out.append(Text(f"{pos} PASS", style="bold green"))
        elif mark is not None:
            cls = mark.defect_class or ann.defect_class or "?"
            out.append(Text(f"{pos} FAIL {cls}", style="bold red"))
        elif unlabeled(ann):
            out.append(Text(f"{pos}", style="dim"))
        else:
            out.append(Text(f"{pos} {_stored(ann)}", style="green" if ann.verdict == PASS else ""))
    return out


def _stored(ann) -> str:
    """A cell's label as saved (kept by an accept unless the cell is marked)."""
    if ann.state == "flagged":
        return "flagged"
    label = (ann.verdict or "") + (f" {ann.defect_class}" if ann.defect_class else "")
    return label or (f"{len(ann.boxes)} boxes" if ann.boxes else "labeled")
