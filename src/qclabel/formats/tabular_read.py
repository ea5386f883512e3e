"""Importing our CSV/JSONL export (formats.tabular): every cell is checked, and a refusal
names the file, the line and the bad value."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..core.model import Annotation, Box, Keypoint, KeypointSet
from ..errors import FormatError
from . import masks_tabular, safe_read
from .tabular_schema import IMAGE_COLUMNS, OBJECT_COLUMNS


def read_rows(path: Path, kind: str, columns: dict[str, str]) -> list[dict[str, Any]]:
    text = safe_read.read_text(path, safe_read.MAX_JSON_BYTES)
    if kind == "csv":
        try:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise FormatError(f"{path}: not valid CSV: {exc}") from None
        missing = set(columns) - set(rows[0] if rows else columns)
        if any(None in r or None in r.values() for r in rows):
            bad = next(n for n, r in enumerate(rows, start=2) if None in r or None in r.values())
            raise FormatError(f"{path}:{bad}: the row has more or fewer cells than the header")
    else:
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                rows.append(
                    safe_read.obj(
                        safe_read.loads_json(line, f"{path}:{n}"), f"{path}:{n}", "the line"
                    )
                )
        missing = set().union(*(set(columns) - set(r) for r in rows)) if rows else set()
    if missing:
        raise FormatError(f"{path}: missing column(s) {sorted(missing)}")
    return rows


def parse(
    folder: Path, kind: str, templates: dict[str, Any]
) -> dict[str, tuple[str, str, Annotation]]:
    """image_id -> (sha256, file name, annotation) from an images/objects pair."""
    images = read_rows(folder / f"images.{kind}", kind, IMAGE_COLUMNS)
    objects = read_rows(folder / f"objects.{kind}", kind, OBJECT_COLUMNS)
    per_image: dict[str, list[dict[str, Any]]] = {}
    first = 2 if kind == "csv" else 1
    for n, o in enumerate(objects, start=first):
        if o["kind"] not in ("box", "keypoints", "mask"):
            raise FormatError(
                f"{folder / f'objects.{kind}'}:{n}: kind = "
                f"{safe_read.shown(o['kind'])}: expected box, keypoints or mask"
            )
        per_image.setdefault(str(o["image_id"]), []).append(o)
    out: dict[str, tuple[str, str, Annotation]] = {}
    for n, row in enumerate(images, start=first):
        where = f"{folder / f'images.{kind}'}:{n}"
        iid = str(row["image_id"])
        if iid in out:
            raise FormatError(f"{where}: image_id = {iid!r} is listed twice")
        for col in ("verdict", "defect_class", "severity", "sha256", "path"):
            if not isinstance(row[col], (str, type(None))):
                raise FormatError(
                    f"{where}: {col} = {safe_read.shown(row[col])}: expected a string"
                )
        objs = per_image.pop(iid, [])
        boxes = [_box(o, folder, kind) for o in objs if o["kind"] == "box"]
        sets = [_kps(o, templates, folder, kind) for o in objs if o["kind"] == "keypoints"]
        masks = [masks_tabular.parse_row(o, folder, kind) for o in objs if o["kind"] == "mask"]
        verdict = row["verdict"] or None
        if verdict not in (None, "pass", "fail"):
            raise FormatError(f"{where}: verdict = {verdict!r}: expected pass, fail or empty")
        out[iid] = (
            str(row["sha256"]),
            Path(str(row["path"])).name,
            Annotation(
                verdict=verdict,
                defect_class=row["defect_class"] or None,
                severity=row["severity"] or None,
                boxes=tuple(boxes),
                keypoints=tuple(sets),
                masks=tuple(masks),
                also=tuple(c for c in str(row.get("also") or "").split(";") if c),
            ),
        )
    if per_image:
        raise FormatError(
            f"{folder / f'objects.{kind}'}: image_id = "
            f"{next(iter(per_image))!r} is not in images.{kind}"
        )
    return out


def _float(o: dict[str, Any], key: str, where: str) -> float:
    return safe_read.number(o[key], where, key)


def _box(o: dict[str, Any], folder: Path, kind: str) -> Box:
    where = f"{folder / f'objects.{kind}'}: image {o['image_id']} object {o['object']}"
    x, y, w, h = (_float(o, k, where) for k in ("x", "y", "w", "h"))
    return Box(str(o["class"]), x, y, w, h, o["severity"] or None)


def _kps(o: dict[str, Any], templates: dict[str, Any], folder: Path, kind: str) -> KeypointSet:
    where = f"{folder / f'objects.{kind}'}: image {o['image_id']} object {o['object']}"
    template = templates.get(o["template"])
    if template is None:
        raise FormatError(f"{where}: template = {o['template']!r}: not in the taxonomy")
    flat = o["keypoints"]
    if not isinstance(flat, (str, list)):
        raise FormatError(f"{where}: keypoints = {safe_read.shown(flat)}: expected numbers")
    flat = [
        safe_read.number(v, where, "keypoints")
        for v in (flat.split() if isinstance(flat, str) else flat)
    ]
    if len(flat) != 3 * len(template.points) or any(v not in (0, 1, 2) for v in flat[2::3]):
        raise FormatError(
            f"{where}: keypoints needs x y v (v in 0/1/2) for each of {list(template.points)}"
        )
    pts = tuple(
        Keypoint(n, flat[3 * i], flat[3 * i + 1], int(flat[3 * i + 2]))
        if flat[3 * i + 2]
        else Keypoint(n)
        for i, n in enumerate(template.points)
    )
    return KeypointSet(template.name, pts, str(o["class"]))
