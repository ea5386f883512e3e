"""CSV and JSONL: our own documented schema (no standard exists).

    images.csv|jsonl    one row per image (path, sha256, size, verdict, class, status...)
    objects.csv|jsonl   one row per box or keypoint set
    schema.json         every column, its type and meaning, and the coordinate convention
    images/<split>/     the image files

Coordinates are pixels of the canonical (EXIF-corrected) image, origin at the top-left
corner of the top-left pixel; `class_index` is the 0-based taxonomy index.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..core.model import Annotation, Box, Keypoint, KeypointSet
from ..errors import FormatError
from . import masks_tabular, safe_read
from .dataset import Dataset, ExportImage, Progress, fmt, iter_progress

IMAGE_COLUMNS = {
    "image_id": "catalog id of the image (first 16 hex digits of its sha256)",
    "split": "train, val or test",
    "path": "image file, relative to this folder",
    "sha256": "SHA-256 of the source image file",
    "width": "canonical width in pixels (after EXIF orientation)",
    "height": "canonical height in pixels (after EXIF orientation)",
    "verdict": "pass, fail or empty",
    "defect_class": "image-level defect class, or empty",
    "class_index": "0-based taxonomy index of defect_class, or empty",
    "severity": "severity of the image-level defect class, or empty",
    "status": "final-label status: single, reviewed, agreed or adjudicated",
    "annotators": "annotators whose labels this is, ';'-separated",
    "labeled_at": "UTC time of the last label or decision on the image (ISO 8601)",
    "also": "further image-level classes (multi-label), ';'-separated, or empty",
}
SYNTHETIC_COLUMN = {
    "synthetic": "1: made by augmentation from the images in "
    "qclabel_version.json's synthetic list; 0: a real image"
}
OBJECT_COLUMNS = {
    "image_id": "image the object belongs to (images file)",
    "object": "1-based object number within the image",
    "kind": "box or keypoints",
    "class": "defect class",
    "class_index": "0-based taxonomy index of class",
    "severity": "severity of the box, or empty",
    "x": "left edge, pixels",
    "y": "top edge, pixels",
    "w": "width, pixels",
    "h": "height, pixels (box of the labeled points for keypoints)",
    "template": "keypoint template (kind keypoints), or empty",
    "keypoints": "x y v per template point, space-separated (v: 0 unlabeled, 1 occluded,"
    " 2 visible); a list in JSONL",
}


def export(
    ds: Dataset,
    out: Path,
    *,
    kind: str = "csv",
    link: str = "copy",
    progress: Progress | None = None,
    cancel: Any = None,
    **_: Any,
) -> dict[str, Any]:
    image_rows, object_rows = [], []
    mask_cols = masks_tabular.columns(ds)
    for image in iter_progress(ds.images, progress, cancel):
        ds.place_image(image, out / "images" / image.split / image.name, link)
        image_rows.append(_image_row(ds, image))
        rows = _object_rows(ds, image)
        if mask_cols:
            rows = [masks_tabular.blank(r) for r in rows]
            rows += masks_tabular.mask_rows(ds, image, len(rows) + 1)
        object_rows += rows
    write = _write_csv if kind == "csv" else _write_jsonl
    write(out / f"images.{kind}", image_columns(ds), image_rows)
    write(out / f"objects.{kind}", {**OBJECT_COLUMNS, **mask_cols}, object_rows)
    (out / "schema.json").write_text(json.dumps(schema(ds, kind), indent=2) + "\n")
    return {"images": len(image_rows), "objects": len(object_rows)}


def schema(ds: Dataset, kind: str) -> dict[str, Any]:
    return {
        "format": f"qclabel-{kind}",
        "version": 1,
        "coordinates": "pixels of the canonical image (EXIF orientation applied), origin "
        "at the top-left corner of the top-left pixel",
        "classes": ds.classes,
        "keypoint_templates": {t.name: list(t.points) for t in ds.taxonomy.keypoint_templates},
        "files": {
            f"images.{kind}": image_columns(ds),
            f"objects.{kind}": {**OBJECT_COLUMNS, **masks_tabular.columns(ds)},
        },
    }


def image_columns(ds: Dataset) -> dict[str, str]:
    """The image columns; `synthetic` only when the dataset has augmented images."""
    return {**IMAGE_COLUMNS, **SYNTHETIC_COLUMN} if ds.has_synthetic else IMAGE_COLUMNS


def _image_row(ds: Dataset, image: ExportImage) -> dict[str, Any]:
    a, rec = image.annotation, image.record
    return {
        "synthetic": int(image.synthetic is not None),
        "image_id": rec.id,
        "split": image.split,
        "path": f"images/{image.split}/{image.name}",
        "sha256": rec.sha256,
        "width": rec.width,
        "height": rec.height,
        "verdict": a.verdict,
        "defect_class": a.defect_class,
        "class_index": ds.class_id(a.defect_class, image) if a.defect_class else None,
        "severity": a.severity,
        "status": image.status,
        "annotators": ";".join(image.annotators),
        "labeled_at": image.labeled_at,
        "also": ";".join(a.also) or None,
    }


def _object_rows(ds: Dataset, image: ExportImage) -> list[dict[str, Any]]:
    from .yolo import keypoint_bbox

    rows: list[dict[str, Any]] = []
    for box in ds.boxes(image):
        rows.append(
            _obj(
                image,
                len(rows) + 1,
                "box",
                box.cls,
                ds.class_id(box.cls, image),
                box.severity,
                (box.x, box.y, box.w, box.h),
                None,
                None,
            )
        )
    w, h = image.record.width, image.record.height
    for kps in image.annotation.keypoints:
        cls = ds.keypoint_class(kps, image)
        flat = [
            v
            for p in kps.points
            for v in ((min(max(p.x, 0), w), min(max(p.y, 0), h), p.v) if p.v else (0, 0, 0))
        ]
        rows.append(
            _obj(
                image,
                len(rows) + 1,
                "keypoints",
                cls,
                ds.class_id(cls, image),
                None,
                keypoint_bbox(kps, w, h),
                kps.template,
                flat,
            )
        )
    return rows


def _obj(
    image: ExportImage,
    n: int,
    kind: str,
    cls: str,
    index: int,
    severity: str | None,
    box: tuple[Any, ...],
    template: str | None,
    flat: list[Any] | None,
) -> dict[str, Any]:
    x, y, w, h = (round(float(v), 3) for v in box)
    return {
        "image_id": image.record.id,
        "object": n,
        "kind": kind,
        "class": cls,
        "class_index": index,
        "severity": severity,
        "x": x,
        "y": y,
        "w": w,
        "h": h,
        "template": template,
        "keypoints": [round(float(v), 3) if i % 3 < 2 else int(v) for i, v in enumerate(flat)]
        if flat is not None
        else None,
    }


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return fmt(v)
    if isinstance(v, list):
        sep = ";" if v and isinstance(v[0], list) else " "  # mask polygons: rings by ';'
        return sep.join(_cell(x) for x in v)
    return str(v)


def _write_csv(path: Path, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r[c]) for c in columns])
    path.write_text(buf.getvalue())


def _write_jsonl(path: Path, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
    path.write_text(
        "".join(json.dumps({c: r[c] for c in columns}, ensure_ascii=False) + "\n" for r in rows)
    )


# -- import ------------------------------------------------------------------------------
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
