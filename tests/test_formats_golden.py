"""Golden files: the small hand-checked project exported in every format must match
tests/golden/<case>/ exactly. Image bytes are compared separately (test_formats_common);
image ids, hashes and label times vary with the generated images and the clock, so
they are replaced by named placeholders before comparing.

Regenerate after an intended change with QCLABEL_REGEN_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import tfrecord

from qclabel.formats import dataset_for, export_dataset
from test_formats_common import make_box_project, make_keypoint_project

GOLDEN = Path(__file__).parent / "golden"
IMAGE_DIRS = {"images", "JPEGImages"}
CASES = {  # case -> (project, format, task)
    "yolo": ("boxes", "yolo", "detect"),
    "yolo_pose": ("keypoints", "yolo", "pose"),
    "yolo_classify": ("boxes", "yolo", "classify"),
    "coco": ("boxes", "coco", "detect"),
    "coco_keypoints": ("keypoints", "coco", "detect"),
    "voc": ("boxes", "voc", "detect"),
    "tfrecord": ("boxes", "tfrecord", "detect"),
    "csv": ("boxes", "csv", "detect"),
    "jsonl": ("boxes", "jsonl", "detect"),
    "csv_keypoints": ("keypoints", "csv", "detect"),
}
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("golden")
    return tmp, {"boxes": make_box_project(tmp), "keypoints": make_keypoint_project(tmp)}


def normalize(text: str, project) -> str:
    for rec in project.store.catalog.all():
        name = Path(rec.source).name
        text = text.replace(rec.sha256, f"<sha256:{name}>").replace(rec.id, f"<id:{name}>")
    text = re.sub(r'"content_hash": "[0-9a-f]{64}"', '"content_hash": "<hash>"', text)
    return _TS.sub("<time>", text)


def tfrecord_as_json(path: Path) -> str:
    rows = []
    for rec in tfrecord.tfrecord_loader(str(path), None):
        row = {}
        for key, value in sorted(rec.items()):
            if key == "image/encoded":
                row[key] = "<image bytes>"  # compared in test_formats_common
            elif isinstance(value, bytes):
                row[key] = value.decode()
            else:
                row[key] = [
                    v.decode()
                    if isinstance(v, bytes)
                    else v
                    if isinstance(v, int)
                    else round(float(v), 6)
                    for v in value.tolist()
                ]
        rows.append(row)
    return json.dumps(rows, indent=1, sort_keys=True) + "\n"


def label_files(root: Path) -> dict[str, str]:
    """relative path -> text of every non-image file (TFRecords decoded to JSON)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or rel.parts[0] in IMAGE_DIRS | {"train", "val", "test"}:
            continue
        if path.suffix == ".tfrecord":
            out[str(rel) + ".json"] = tfrecord_as_json(path)
        elif rel.parts[0] == "annotations":  # compact COCO JSON, pretty for review
            out[str(rel)] = (
                json.dumps(json.loads(path.read_text()), indent=1, sort_keys=True) + "\n"
            )
        else:
            out[str(rel)] = path.read_text()
    return out


def _listing(root: Path) -> str:
    """Image files of the export (names only): part of the golden layout."""
    return "".join(
        f"{p.relative_to(root)}\n"
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] in IMAGE_DIRS | {"train", "val", "test"}
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_export_matches_golden(case, projects):
    tmp, by_kind = projects
    kind, fmt, task = CASES[case]
    project = by_kind[kind]
    out = export_dataset(dataset_for(project), fmt, tmp / f"out-{case}", task=task).out
    files = {k: normalize(v, project) for k, v in label_files(out).items()}
    files["IMAGES.txt"] = _listing(out)
    golden = GOLDEN / case
    if os.environ.get("QCLABEL_REGEN_GOLDEN"):
        for rel, text in files.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_text(text)
    expected = {
        str(p.relative_to(golden)): p.read_text() for p in sorted(golden.rglob("*")) if p.is_file()
    }
    assert sorted(files) == sorted(expected)
    for rel in expected:
        assert files[rel] == expected[rel], f"{case}/{rel} differs from the golden file"
