"""The adjudicator's side panel: the image (file name, manufacturing fields), the
disagreement, and both annotators' labels in full, side by side, with every field that
differs marked. Plain functions of domain objects (testable without an app)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ...core import kinds
from ...core.model import Annotation, ImageRecord
from ...core.naming import image_name

DIFFERS = "≠"
MAX_LISTED = 8  # objects listed per side; the rest are counted (t opens the tools)


def case_text(
    pos: int, total: int, rec: ImageRecord | None, kind: str, detail: str, note: str | None
) -> Text:
    t = Text()
    t.append(f"{pos}/{total}  {image_name(rec) if rec else '-'}\n", style="bold")
    if rec is not None:
        fields = [f"{k} {v}" for k, v in rec.fields.items()]
        fields.append(
            f"{rec.width}x{rec.height} px" + (f", {rec.mm_per_px} mm/px" if rec.mm_per_px else "")
        )
        t.append("  ".join(fields) + "\n", style="dim")
    t.append(f"{kind}: ", style="bold")
    t.append(f"{detail}\n")
    t.append(f"note: {note or '-'}\n")
    return t


def _fields(ann: Annotation) -> dict[str, str]:
    return {
        "verdict": ann.verdict or "-",
        "class": ann.defect_class or "-",
        "severity": ann.severity or "-",
        **{k.field: str(len(getattr(ann, k.field))) for k in kinds.KINDS},
        "checks": str(len(ann.checks)) if ann.checks else "-",
        "flag": ann.flag if ann.flag is not None else "-",
    }


def comparison(
    a: Annotation, b: Annotation, names: tuple[str, str], colours: dict[str, str], shown: str
) -> Table:
    """Field | A | B, a mark on every row where they differ; the side hidden from the
    picture (`o`) says so in its header."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(width=1)
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    heads = [
        Text(f"{w} {n}" + ("" if shown in ("both", w) else " (hidden)"), style=f"bold {colours[w]}")
        for w, n in zip("AB", names)
    ]
    grid.add_row("", "", *heads)
    fa, fb = _fields(a), _fields(b)
    for key in fa:
        if fa[key] == fb[key] and fa[key] in ("-", "0"):
            continue  # neither side has it: a row would only cost a line
        mark = Text(DIFFERS, style="bold yellow") if fa[key] != fb[key] else ""
        grid.add_row(key, mark, fa[key], fb[key])
    return grid


def object_lines(which: str, name: str, ann: Annotation, colour: str) -> Text:
    """Every object (each kind's own line) and check of one side (the first MAX_LISTED)."""
    items = [k.describe(obj) for k, obj in kinds.objects(ann)]
    items += [f"check {pos}: {outcome}" for pos, outcome in ann.checks]
    t = Text()
    if not items:
        return t
    t.append(f"{which} {name}\n", style=f"bold {colour}")
    for line in items[:MAX_LISTED]:
        t.append(f" {line}\n")
    if len(items) > MAX_LISTED:
        t.append(f" ... {len(items) - MAX_LISTED} more (t opens them in the tools)\n", style="dim")
    return t


def sides_panel(
    a: Annotation | None,
    b: Annotation | None,
    names: tuple[str, str],
    colours: dict[str, str],
    shown: str,
) -> Group:
    a, b = a or Annotation(), b or Annotation()
    parts = [comparison(a, b, names, colours, shown)]
    for which, name, ann in (("A", names[0], a), ("B", names[1], b)):
        parts.append(object_lines(which, name, ann, colours[which]))
    return Group(*parts)
