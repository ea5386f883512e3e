"""Import Label Studio JSON tasks (the layout is described in formats.labelstudio).

A file (or a folder's `tasks.json`) holds a list of tasks. Per task the labels are its
annotation (the ground-truth one, else the last one not cancelled), or, in a task
without annotations, its last prediction (with `score`s, kept for `--min-score`). The
image is found by `data.sha256` (our exports), else by the file name of `data.image`
(a `?d=` local-files path or a URL; the 8-hex-digit prefix Label Studio gives uploads is
dropped when needed). Results are read as formats.labelstudio writes them; keypoints
with no `parentID` at all form one set per image. Brush masks are decoded only after
their `original_width` x `original_height` is found to be the catalog image's size.
One task's results become labels in formats.labelstudio_regions.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from ..core.taxonomy import Taxonomy
from ..errors import FormatError
from ..project import Project
from .importing import Matcher, Parsed
from .interchange import source_file
from .labelstudio_regions import task_annotation, TaskResults, is_number, sort_result
from .safe_read import load_json

_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")


def task_file(src: Path) -> Path:
    return source_file(src, "tasks.json", "Label Studio JSON")


def read(project: Project, src: Path) -> list[Parsed]:
    path = task_file(src)
    doc = load_json(path)
    tasks = [doc] if isinstance(doc, dict) else doc
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise FormatError(f"{path}: expected a list of Label Studio tasks")
    matcher = Matcher(project.store.catalog.all())
    parsed = [
        _task(project.taxonomy, matcher, t, f"{path}: task {t.get('id', n)}")
        for n, t in enumerate(tasks)
    ]
    return [p for p in parsed if p is not None]


def _image_name(data: Any, matcher: Matcher, where: str) -> tuple[str, str | None]:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: field data missing or not an object")
    sha = data.get("sha256") if isinstance(data.get("sha256"), str) else None
    url = data.get("image")
    if not isinstance(url, str):
        strings = [v for v in data.values() if isinstance(v, str) and v != sha]
        url = strings[0] if len(strings) == 1 else None
    if not url:
        raise FormatError(f"{where}: data.image (the image's path or URL) is missing")
    parsed = urlparse(url)
    local = parse_qs(parsed.query).get("d")
    name = os.path.basename(unquote(local[0] if local else parsed.path))
    known = name in matcher.by_name or os.path.splitext(name)[0] in matcher.by_stem
    if not known and _UPLOAD_PREFIX.match(name):
        name = name[9:]
    return name, sha


def _labels(task: dict[str, Any], where: str) -> tuple[list[Any] | None, float | None]:
    """The result list a task's labels come from (None: nobody labeled it), and a
    prediction's score."""
    anns = [
        a
        for a in task.get("annotations") or []
        if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    if anns:
        chosen = next((a for a in anns if a.get("ground_truth")), anns[-1])
        return _result_list(chosen, where), None
    preds = [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    if preds:
        score = preds[-1].get("score")
        return _result_list(preds[-1], where), score if is_number(score) else None
    return None, None


def _result_list(item: dict[str, Any], where: str) -> list[Any]:
    result = item.get("result", [])
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise FormatError(f"{where}: result is not a list of objects")
    return result


def _task(tax: Taxonomy, matcher: Matcher, task: dict[str, Any], where: str) -> Parsed | None:
    name, sha = _image_name(task.get("data"), matcher, where)
    rec = matcher.find(name, sha, where)
    results, score = _labels(task, where)
    if results is None:
        return None  # a task without annotations or predictions: not labeled yet
    img = TaskResults(rec.width, rec.height, f"{where} ({name})")
    for n, res in enumerate(results):
        sort_result(img, res, f"{img.where}: result[{n}]")
    # A choice sharing a region's id belongs to that region (perRegion controls);
    # the others are about the whole image.
    img.image_choices = [(f, v) for rid, f, v in img.choice_from if rid not in img.regions]
    ann, scores = task_annotation(tax, img, score)
    return Parsed(name, ann, img.where, sha256=rec.sha256, scores=scores)
