"""CSV and JSONL: our own documented schema (no standard exists).

    images.csv|jsonl    one row per image (path, sha256, size, verdict, class, status...)
    objects.csv|jsonl   one row per box or keypoint set
    schema.json         every column, its type and meaning, and the coordinate convention
    images/<split>/     the image files

Coordinates are pixels of the canonical (EXIF-corrected) image, origin at the top-left
corner of the top-left pixel; `class_index` is the 0-based taxonomy index. The columns
are in formats.tabular_schema, the import in formats.tabular_read.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from . import masks_tabular
from .dataset import Dataset, ExportImage, Progress, fmt, iter_progress
from .tabular_read import parse, read_rows  # noqa: F401  (import: formats.tabular_read)
from .tabular_schema import (  # noqa: F401  (the columns, importable from here)
    IMAGE_COLUMNS,
    OBJECT_COLUMNS,
    SYNTHETIC_COLUMN,
    image_columns,
    schema,
)


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
