"""The tools' own readers load our CVAT and Label Studio exports: Datumaro's `cvat`
importer (the code CVAT itself imports "CVAT for images 1.1" with) and
label_studio_converter (Label Studio's converter: its brush decoder and its COCO export).

Both pin their own dependencies, so they are not test dependencies: each test runs where
its package is installed (`pip install datumaro label-studio-converter`) and is skipped
elsewhere.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mask_projects import make_mask_project
from qclabel.formats import dataset_for, export_dataset
from test_formats_common import make_box_project, make_keypoint_project


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("consumers")
    projects = {
        "boxes": make_box_project(tmp / "b"),
        "keypoints": make_keypoint_project(tmp / "k"),
        "masks": make_mask_project(tmp / "m"),
    }
    return {
        (kind, fmt): (export_dataset(dataset_for(p), fmt, tmp / f"{kind}-{fmt}").out, p)
        for kind, p in projects.items()
        for fmt in ("cvat", "labelstudio")
    }


def test_datumaro_reads_boxes_attributes_and_tags(exports):
    dm = pytest.importorskip("datumaro")
    out, _ = exports["boxes", "cvat"]
    data = dm.Dataset.import_from(str(out), "cvat")
    cats = data.categories()[dm.AnnotationType.label]
    got = {}
    for item in data:
        got[item.id] = sorted(
            (
                cats[a.label].name,
                a.type.name,
                [round(v, 3) for v in a.get_bbox()] if a.type.name == "bbox" else None,
                a.attributes.get("severity"),
            )
            for a in item.annotations
        )
    assert got["a"] == [
        ("dent", "bbox", [60, 50, 40, 30], None),
        ("fail", "label", None, None),
        ("scratch", "bbox", [10, 20, 30, 15], "minor"),
    ]
    assert got["b"] == [
        ("crack", "bbox", [5, 5, 10, 20], "critical"),
        ("crack", "label", None, "critical"),
        ("fail", "label", None, None),
    ]
    assert got["c"] == [("pass", "label", None, None)]


def test_datumaro_reads_keypoints_and_polygons(exports):
    """Datumaro reads a skeleton's points (as points shapes, with occlusion)."""
    dm = pytest.importorskip("datumaro")
    out, _ = exports["keypoints", "cvat"]
    data = dm.Dataset.import_from(str(out), "cvat")
    cats = data.categories()[dm.AnnotationType.label]
    (a,) = [item for item in data if item.id == "a"]
    points = {
        cats[x.label].name: (x.points, x.attributes["occluded"])
        for x in a.annotations
        if x.type.name == "points"
    }
    assert points["hole_left"] == ([20.0, 30.0], False)
    assert points["hole_right"] == ([80.0, 30.0], True)
    assert points["tab_tip"] == ([50.0, 10.0], False)
    out, _ = exports["masks", "cvat"]
    data = dm.Dataset.import_from(str(out), "cvat")
    polygons = [x for item in data for x in item.annotations if x.type.name == "polygon"]
    assert [p.points for p in polygons] == [
        [500.0, 400.0, 560.5, 405.0, 550.0, 452.0, 505.0, 440.0]
    ]


def test_datumaro_reads_a_project_export_with_splits(exports, tmp_path):
    dm = pytest.importorskip("datumaro")
    _, project = exports["boxes", "cvat"]
    out = export_dataset(
        dataset_for(project, ratios=(0.5, 0.5), seed=1), "cvat", tmp_path / "split"
    ).out
    data = dm.Dataset.import_from(str(out), "cvat")
    assert sorted((item.subset, item.id) for item in data) == sorted(
        (i.split, i.stem) for i in dataset_for(project, ratios=(0.5, 0.5), seed=1).images
    )
    assert all(item.media.has_data for item in data)


def _accepted(tasks):
    """Tasks as Label Studio exports them once the pre-annotations were accepted."""
    return [
        {
            **{k: v for k, v in t.items() if k != "predictions"},
            "annotations": [{"id": t["id"], "result": t["predictions"][0]["result"]}],
        }
        for t in tasks
    ]


def test_converter_decodes_our_brush_masks(exports):
    brush = pytest.importorskip("label_studio_converter.brush")
    out, project = exports["masks", "labelstudio"]
    finals = {i.record.sha256: i for i in dataset_for(project).images}
    checked = 0
    for task in json.loads((out / "tasks.json").read_text()):
        image = finals[task["data"]["sha256"]]
        w, h = image.record.width, image.record.height
        masks = {m.id: m for m in image.annotation.masks}
        for r in task["predictions"][0]["result"]:
            if r["type"] != "brushlabels":
                continue
            flat = brush.decode_rle(r["value"]["rle"])
            got = np.reshape(flat, [h, w, 4])[:, :, 3] > 0
            assert np.array_equal(got, masks[r["id"]].full(w, h).astype(bool))
            checked += 1
    assert checked >= 10


def test_converter_exports_our_tasks_to_coco(exports, tmp_path):
    converter = pytest.importorskip("label_studio_converter.converter")
    out, _ = exports["boxes", "labelstudio"]
    tasks = _accepted(json.loads((out / "tasks.json").read_text()))
    src = tmp_path / "accepted.json"
    src.write_text(json.dumps(tasks))
    c = converter.Converter((out / "labeling_config.xml").read_text(), str(out))
    c.convert_to_coco(str(src), str(tmp_path / "coco"), is_dir=False)
    doc = json.loads((tmp_path / "coco" / "result.json").read_text())
    names = {c["id"]: c["name"] for c in doc["categories"]}
    boxes = sorted(
        (names[a["category_id"]], [round(v, 3) for v in a["bbox"]]) for a in doc["annotations"]
    )
    assert boxes == [
        ("crack", [5, 5, 10, 20]),
        ("dent", [60, 50, 40, 30]),
        ("scratch", [10, 20, 30, 15]),
    ]
