"""YOLO (Ultralytics layout): detection, pose, segment (formats.masks_yolo) and
classification; detection, pose and segment import.

    data.yaml                     train: images/train, val: images/val, names: {0: ...}
    images/<split>/NAME.ext       labels/<split>/NAME.txt (empty file = background image)
    classify: <split>/<class>/NAME.ext

No `path:` key (Ultralytics resolves a relative one against the current directory);
numbers in plain `%.6f` (Datumaro skips files written in scientific notation);
coordinates clipped to [0, 1] (Ultralytics drops values outside).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from ..core.model import Annotation, Box, Keypoint, KeypointSet
from ..errors import FormatError
from . import masks_yolo, safe_read
from .dataset import Dataset, ExportImage, iter_progress

TASKS = ("detect", "pose", "segment", "classify")
PASS_FOLDER = "pass"


def export(ds: Dataset, out: Path, *, task: str = "detect", link: str = "copy",
           progress=None, cancel=None) -> dict[str, Any]:
    if task not in TASKS:
        raise FormatError(f"--task {task!r}: YOLO tasks are {', '.join(TASKS)}")
    if task == "classify":
        return _export_classify(ds, out, link, progress, cancel)
    template = _pose_template(ds) if task == "pose" else None
    for split in ds.splits:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    labels = str(out / "labels")
    for image in iter_progress(ds.images, progress, cancel):
        ds.place_image(image, out / "images" / image.split / image.name, link)
        rows = (_pose_rows(ds, image, template) if template
                else masks_yolo.segment_rows(ds, image) if task == "segment"
                else _detect_rows(ds, image))
        with open(os.path.join(labels, image.split, image.stem + ".txt"), "w") as fh:
            fh.write("".join(r + "\n" for r in rows))
    (out / "data.yaml").write_text(data_yaml(ds, "images", template))
    return {"images": len(ds.images)}


def data_yaml(ds: Dataset, prefix: str, template=None) -> str:
    lines = ["# Ultralytics dataset; paths resolve next to this file."]
    for split in ("train", "val", "test"):
        # Ultralytics needs a val set: without one, validate on train (said so here).
        target = split if split in ds.splits else ("train" if split == "val" else None)
        if target:
            sep = "/" if prefix else ""
            lines.append(f"{split}: {prefix}{sep}{target}")
    lines.append(f"nc: {len(ds.classes)}")
    lines.append("names:")
    lines += [f"  {i}: {_yaml_str(c)}" for i, c in enumerate(ds.classes)]
    if template is not None:
        lines.append(f"kpt_shape: [{len(template.points)}, 3]")
        lines.append(f"# keypoints, in order: {', '.join(template.points)}")
    return "\n".join(lines) + "\n"


def _yaml_str(s: str) -> str:
    return s if s.replace("-", "").replace("_", "").isalnum() and not s[0].isdigit() \
        else "'" + s.replace("'", "''") + "'"


def n6(v: float) -> str:
    """Normalized value, clipped to [0, 1], fixed point."""
    return f"{min(max(v, 0.0), 1.0):.6f}"


def _detect_rows(ds: Dataset, image: ExportImage) -> list[str]:
    w, h = image.record.width, image.record.height
    rows = []
    for box in ds.boxes(image):
        cx, cy = (box.x + box.w / 2) / w, (box.y + box.h / 2) / h
        rows.append(f"{ds.class_id(box.cls, image)} {n6(cx)} {n6(cy)} "
                    f"{n6(box.w / w)} {n6(box.h / h)}")
    return rows


def _pose_template(ds: Dataset):
    templates = ds.taxonomy.keypoint_templates
    if len(templates) != 1:
        raise FormatError(f"YOLO pose needs exactly one keypoint template (one kpt_shape); "
                          f"taxonomy {ds.taxonomy.name} has {len(templates)}")
    return templates[0]


def keypoint_bbox(kps: KeypointSet, w: int, h: int) -> tuple[float, float, float, float]:
    """Box around the labeled points (clipped), x, y, w, h in pixels."""
    pts = [(min(max(p.x, 0), w), min(max(p.y, 0), h)) for p in kps.points if p.v > 0]
    if not pts:
        return (0.0, 0.0, 0.0, 0.0)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _pose_rows(ds: Dataset, image: ExportImage, template) -> list[str]:
    w, h = image.record.width, image.record.height
    rows = []
    for kps in image.annotation.keypoints:
        if kps.template != template.name:
            raise FormatError(f"image {image.record.file}: keypoint set {kps.id} uses "
                              f"template {kps.template!r}, not {template.name!r}")
        cls = ds.class_id(ds.keypoint_class(kps, image), image)
        x, y, bw, bh = keypoint_bbox(kps, w, h)
        vals = [n6((x + bw / 2) / w), n6((y + bh / 2) / h), n6(bw / w), n6(bh / h)]
        for name in template.points:
            p = kps.point(name)
            vals += ([n6(p.x / w), n6(p.y / h), str(p.v)] if p.v > 0
                     else ["0.000000", "0.000000", "0"])
        rows.append(f"{cls} " + " ".join(vals))
    return rows


def _export_classify(ds: Dataset, out: Path, link: str, progress, cancel) -> dict[str, Any]:
    """One folder per class, by the image-level defect class; passed images without a
    defect go to `pass/` (the good class of an OK/NG model). A fail without an
    image-level class has no folder and is counted as skipped."""
    skipped = 0
    for image in iter_progress(ds.images, progress, cancel):
        cls = image.annotation.defect_class
        if cls is None and image.annotation.verdict == "pass":
            cls = PASS_FOLDER
        if cls is None:
            skipped += 1
            continue
        if cls != PASS_FOLDER:
            ds.class_id(cls, image)
        ds.place_image(image, out / image.split / cls / image.name, link)
    for split in ds.splits:
        for cls in ds.classes + [PASS_FOLDER]:
            (out / split / cls).mkdir(parents=True, exist_ok=True)
    return {"images": len(ds.images) - skipped, "skipped_without_class": skipped}


# -- import ------------------------------------------------------------------------------
def read_names(data_yaml_path: Path) -> tuple[list[str], int | None]:
    """Class names in index order and the keypoint count (kpt_shape[0]) of a data.yaml."""
    data = safe_read.load_yaml(data_yaml_path)  # bounded, no aliases
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        keys = list(names)
        if keys and all(isinstance(k, int) and not isinstance(k, bool) for k in keys):
            keys.sort()
        if keys != list(range(len(keys))):
            raise FormatError(f"{data_yaml_path}: names keys must be 0..{len(keys) - 1}")
        names = [names[k] for k in keys]
    if not isinstance(names, list) or not names:
        raise FormatError(f"{data_yaml_path}: field names = {safe_read.shown(names)}: "
                          "need a class list")
    if not all(isinstance(n, (str, int, float, bool)) or n is None for n in names):
        raise FormatError(f"{data_yaml_path}: field names = {safe_read.shown(names)}: "
                          "class names must be plain strings")
    return [str(n) for n in names], _kpt_count(data.get("kpt_shape"), data_yaml_path)


def _kpt_count(kpt: Any, where: Path) -> int | None:
    if kpt is None:
        return None
    if not (isinstance(kpt, list) and len(kpt) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in kpt)
            and 0 < kpt[0] <= 1000 and kpt[1] in (2, 3)):
        raise FormatError(f"{where}: field kpt_shape = {safe_read.shown(kpt)}: expected "
                          "[points, 2 or 3]")
    return kpt[0]


def parse_label_file(path: Path, names: list[str], width: int, height: int,
                     template=None) -> tuple[Annotation, tuple[float, ...]]:
    """One labels/*.txt as an Annotation (pixels of the canonical image), and the
    confidence of each object when the rows carry one (Ultralytics `save_conf`)."""
    boxes, sets, scores, masks, mask_scores = [], [], [], [], []
    n_values = 5 + 3 * len(template.points) if template else 5
    for n, line in enumerate(safe_read.read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        vals = _numbers(line, where)
        cls = _class_name(vals[0], names, where)
        if template is None and masks_yolo.is_segment_row(vals):
            mask, score = masks_yolo.parse_row(vals, cls, width, height, where)
            masks.append(mask)
            mask_scores += [score] if score is not None else []
            continue
        if len(vals) not in (n_values, n_values + 1):
            what = "a pose row" if template else "a row 'class cx cy w h [conf]'"
            raise FormatError(f"{where}: {what} needs {n_values} values (+1 confidence), "
                              f"got {len(vals)}")
        if len(vals) == n_values + 1:
            _check_unit(vals[-1:], where)
            scores.append(vals.pop())
        _check_unit(vals[1:5], where)
        if template is None:
            cx, cy, bw, bh = vals[1:5]
            boxes.append(Box(cls, (cx - bw / 2) * width, (cy - bh / 2) * height,
                             bw * width, bh * height))
        else:
            sets.append(_pose_set(vals[5:], cls, template, width, height, where))
    scores += mask_scores  # objects are scored boxes first, then masks
    if scores and len(scores) != len(boxes) + len(sets) + len(masks):
        raise FormatError(f"{path}: some rows have a confidence value and some do not")
    verdict = None if boxes or sets or masks else "pass"
    return Annotation(verdict=verdict, boxes=tuple(boxes), keypoints=tuple(sets),
                      masks=tuple(masks)), tuple(scores)


def _pose_set(vals: list[float], cls: str, template, width: int, height: int,
              where: str) -> KeypointSet:
    pts = []
    for i, name in enumerate(template.points):
        x, y, v = vals[3 * i:3 * i + 3]
        if v not in (0, 1, 2):
            raise FormatError(f"{where}: keypoint {name} visibility = {v}: expected 0, 1 or 2")
        _check_unit([x, y], where)
        pts.append(Keypoint(name, x * width, y * height, int(v)) if v else Keypoint(name))
    return KeypointSet(template.name, tuple(pts), cls)


def _numbers(line: str, where: str) -> list[float]:
    try:
        vals = [float(v) if len(v) <= safe_read.MAX_NUMBER_CHARS else math.nan
                for v in line.split()]
    except ValueError:
        raise FormatError(f"{where}: not a row of numbers: {safe_read.shown(line)}") \
            from None
    if not all(math.isfinite(v) for v in vals):
        raise FormatError(f"{where}: {safe_read.shown(line)}: NaN, inf and numbers of "
                          f"over {safe_read.MAX_NUMBER_CHARS} characters are not "
                          "coordinates or class indices")
    return vals


def _class_name(value: float, names: list[str], where: str) -> str:
    if value != int(value) or not 0 <= value < len(names):
        raise FormatError(f"{where}: class = {value:g}: not an index 0..{len(names) - 1}")
    return names[int(value)]


def _check_unit(vals: list[float], where: str) -> None:
    if any(v < 0 or v > 1 for v in vals):
        raise FormatError(f"{where}: coordinates {vals} outside [0, 1] (box outside image)")
