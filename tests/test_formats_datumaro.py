"""Datumaro's (CVAT's) importers read our COCO, YOLO and VOC exports.

Datumaro pins its own numpy/OpenCV/Pillow, so it is not a test dependency; this module
runs where it is installed (`pip install datumaro`) and is skipped elsewhere.
"""

from __future__ import annotations

import pytest

from qclabel.formats import dataset_for, export_dataset
from test_formats_common import make_box_project

dm = pytest.importorskip("datumaro")

EXPECTED = {"a": [("scratch", [10, 20, 30, 15]), ("dent", [60, 50, 40, 30])],
            "b": [("crack", [5, 5, 10, 20])], "c": []}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("datumaro")
    ds = dataset_for(make_box_project(tmp), ratios=(0.5, 0.5))
    return {f: export_dataset(ds, f, tmp / f).out for f in ("coco", "yolo", "voc")}


def boxes(path, fmt: str) -> dict[str, list]:
    data = dm.Dataset.import_from(str(path), fmt)
    cats = data.categories()[dm.AnnotationType.label]
    return {item.id: [(cats[a.label].name, [round(v, 3) for v in a.get_bbox()])
                      for a in sorted(item.annotations, key=lambda a: a.get_bbox()[0])]
            for item in data}


def test_coco_and_yolo_import_exactly(exports):
    assert boxes(exports["coco"], "coco_instances") == EXPECTED
    assert boxes(exports["yolo"], "yolo") == EXPECTED


def test_voc_imports_with_the_known_one_pixel_convention_difference(exports):
    """We write the devkit's 1-based inclusive corners; Datumaro reads VOC corners as
    0-based exclusive, so each box comes back 1 px right/down and 1 px smaller."""
    got = boxes(exports["voc"], "voc_detection")
    shifted = {k: [(c, [x + 1, y + 1, w - 1, h - 1]) for c, (x, y, w, h) in v]
               for k, v in EXPECTED.items()}
    assert got == shifted
