"""YOLO import: `read_names` reads data.yaml's class names (and keypoint shape),
`parse_label_file` one label file back into an Annotation, every value checked."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..core.model import Annotation, Box, Keypoint, KeypointSet
from ..errors import FormatError
from . import masks_yolo, safe_read


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
        raise FormatError(
            f"{data_yaml_path}: field names = {safe_read.shown(names)}: need a class list"
        )
    for i, n in enumerate(names):
        # An unquoted `on`, `null` or `1` is a boolean, None or number to YAML: the
        # writer meant a name, but guessing which spelling would be wrong.
        if not isinstance(n, str) or not n:
            raise FormatError(
                f"{data_yaml_path}: names[{i}] = {safe_read.shown(n)} is not "
                "a string (quote class names like 'on', 'null' or '1')"
            )
    return list(names), _kpt_count(data.get("kpt_shape"), data_yaml_path)


def _kpt_count(kpt: Any, where: Path) -> int | None:
    if kpt is None:
        return None
    if not (
        isinstance(kpt, list)
        and len(kpt) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in kpt)
        and 0 < kpt[0] <= 1000
        and kpt[1] in (2, 3)
    ):
        raise FormatError(
            f"{where}: field kpt_shape = {safe_read.shown(kpt)}: expected [points, 2 or 3]"
        )
    result: int | None = kpt[0]
    return result


def parse_label_file(
    path: Path, names: list[str], width: int, height: int, template: Any = None
) -> tuple[Annotation, tuple[float, ...]]:
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
            raise FormatError(
                f"{where}: {what} needs {n_values} values (+1 confidence), got {len(vals)}"
            )
        if len(vals) == n_values + 1:
            _check_unit(vals[-1:], where)
            scores.append(vals.pop())
        _check_unit(vals[1:5], where)
        if template is None:
            cx, cy, bw, bh = vals[1:5]
            boxes.append(
                Box(cls, (cx - bw / 2) * width, (cy - bh / 2) * height, bw * width, bh * height)
            )
        else:
            sets.append(_pose_set(vals[5:], cls, template, width, height, where))
    scores += mask_scores  # objects are scored boxes first, then masks
    if scores and len(scores) != len(boxes) + len(sets) + len(masks):
        raise FormatError(f"{path}: some rows have a confidence value and some do not")
    verdict = None if boxes or sets or masks else "pass"
    return Annotation(
        verdict=verdict, boxes=tuple(boxes), keypoints=tuple(sets), masks=tuple(masks)
    ), tuple(scores)


def _pose_set(
    vals: list[float], cls: str, template: Any, width: int, height: int, where: str
) -> KeypointSet:
    pts = []
    for i, name in enumerate(template.points):
        x, y, v = vals[3 * i : 3 * i + 3]
        if v not in (0, 1, 2):
            raise FormatError(f"{where}: keypoint {name} visibility = {v}: expected 0, 1 or 2")
        _check_unit([x, y], where)
        pts.append(Keypoint(name, x * width, y * height, int(v)) if v else Keypoint(name))
    return KeypointSet(template.name, tuple(pts), cls)


def _numbers(line: str, where: str) -> list[float]:
    try:
        vals = [
            float(v) if len(v) <= safe_read.MAX_NUMBER_CHARS else math.nan for v in line.split()
        ]
    except ValueError:
        raise FormatError(f"{where}: not a row of numbers: {safe_read.shown(line)}") from None
    if not all(math.isfinite(v) for v in vals):
        raise FormatError(
            f"{where}: {safe_read.shown(line)}: NaN, inf and numbers of "
            f"over {safe_read.MAX_NUMBER_CHARS} characters are not "
            "coordinates or class indices"
        )
    return vals


def _class_name(value: float, names: list[str], where: str) -> str:
    if value != int(value) or not 0 <= value < len(names):
        raise FormatError(f"{where}: class = {value:g}: not an index 0..{len(names) - 1}")
    return names[int(value)]


def _check_unit(vals: list[float], where: str) -> None:
    if any(v < 0 or v > 1 for v in vals):
        raise FormatError(f"{where}: coordinates {vals} outside [0, 1] (box outside image)")
