"""Text for the side panel (legend, info) and the status bar: plain functions of the
domain objects, so they are easy to test and cheap to update (a label key changes a
few hundred bytes of text, never the picture)."""

from __future__ import annotations

from rich.text import Text

from ...core import consistency
from ...core.model import Annotation, ImageRecord
from ...core.naming import image_name
from ...core.taxonomy import DefectClass, Taxonomy

EXIF_FIRST = ("make", "model", "datetime_original", "exposure_time")


def exif_summary(exif: dict) -> str:
    """The camera facts an inspector asks about first, then the rest (as ingest
    recorded them); orientation only when the image was rotated."""
    keys = [k for k in EXIF_FIRST if k in exif] + [k for k in exif if k not in EXIF_FIRST]
    parts = []
    for k in keys:
        v = exif[k]
        if k == "orientation" and v in (1, None):
            continue
        if k == "exposure_time" and isinstance(v, (int, float)) and 0 < v < 1:
            v = f"1/{round(1 / v)} s"
        elif isinstance(v, float):
            v = f"{v:.4g}"
        parts.append(f"{k.replace('_', ' ')} {v}")
    return ", ".join(parts)


def legend_text(tax: Taxonomy, pending: DefectClass | None, passfail: bool) -> Text:
    """The keys; it does not show the current labels, so a label key leaves it alone."""
    t = Text()
    if pending is not None:
        t.append(f"severity of {pending.name}\n", style="bold")
        for n, sev in enumerate(pending.severities, start=1):
            t.append(f" {n} ", style="reverse")
            t.append(f" {sev.name}\n")
        t.append(" esc  none\n", style="dim")
        return t
    t.append(f" {tax.pass_key} ", style="reverse bold green")
    t.append(" pass\n")
    t.append(f" {tax.fail_key} ", style="reverse bold red")
    t.append(" fail\n")
    for c in tax.classes:
        t.append(f" {c.hotkey} ", style=f"reverse bold {c.colour}")
        t.append(f" {c.name}\n")
    if passfail and tax.classes:
        t.append("fail, then its class\n", style="dim")
    return t


def label_summary(ann: Annotation) -> str:
    if ann.state == "unlabeled" and not ann.skipped:
        return "not labeled"
    parts = []
    if ann.verdict:
        parts.append(ann.verdict.upper())
    if ann.defect_class:
        parts.append(ann.defect_class + (f" ({ann.severity})" if ann.severity else ""))
    parts += [f"+ {cls}" for cls in ann.also]
    if ann.boxes:
        parts.append(f"{len(ann.boxes)} boxes")
    if ann.keypoints:
        parts.append(f"{len(ann.keypoints)} keypoint sets")
    if ann.skipped and not ann.is_labeled:
        parts.append("skipped")
    if ann.flag is not None:
        parts.append(f"FLAGGED: {ann.flag}")
    return ", ".join(parts)


def labels_text(ann: Annotation, tax: Taxonomy | None = None) -> Text:
    t = Text()
    _row(t, "labels", label_summary(ann))
    note = consistency_note(ann, tax) if tax is not None else ""
    if note:
        t.append(note + "\n", style="bold yellow")
    return t


def consistency_note(ann: Annotation, tax: Taxonomy) -> str:
    """'INCOMPLETE: fail without any box' (and any other rule the labels break), or ''."""
    return "  ".join(
        f"{f.rule.upper() if f.rule == consistency.INCOMPLETE else f.rule}: {f.detail}"
        for f in consistency.check(ann, tax)
    )


def info_text(rec: ImageRecord, highlighted: DefectClass | None) -> Text:
    t = Text()
    _row(t, "file", image_name(rec))
    _row(t, "source", rec.source)
    _row(t, "size", f"{rec.width}x{rec.height} px, {rec.bit_depth}-bit {rec.mode}")
    if rec.mm_per_px:
        _row(t, "scale", f"{rec.mm_per_px} mm/px")
    exif = exif_summary(rec.exif)
    if exif:
        _row(t, "exif", exif)
    for k, v in rec.fields.items():
        _row(t, k, str(v))
    if highlighted is not None:
        t.append(f"\n{highlighted.name}", style=f"bold {highlighted.colour}")
        t.append(f" [{highlighted.criticality}]\n", style="dim")
        t.append(highlighted.description + "\n")
    return t


def _row(t: Text, key: str, value: str) -> None:
    t.append(f"{key}: ", style="bold")
    t.append(value + "\n")


def status_text(
    pos: int, total: int, done: int, rate: float, queue: str, auto: bool | None, extra: str = ""
) -> str:
    """Position, done/total, labels per hour, queue (auto-advance when it applies)."""
    where = f"{pos}/{total}" if total else "0/0"
    auto_text = "" if auto is None else f"  auto {'on' if auto else 'off'}"
    return (
        f"{where}  done {done}/{total}  {rate:.0f}/h  queue {queue}{auto_text}"
        f"{'  ' + extra if extra else ''}"
    )
