"""Datumaro's (CVAT's) importers read our COCO, YOLO and VOC exports.

Datumaro pins its own numpy/OpenCV/Pillow, so it is not a test dependency; this module
runs where it is installed (`pip install datumaro`) and is skipped elsewhere.
"""

from __future__ import annotations

import pytest

from qclabel.formats import dataset_for, export_dataset
from test_formats_common import make_box_project

dm = pytest.importorskip("datumaro")

EXPECTED = {
    "a": [("scratch", [10, 20, 30, 15]), ("dent", [60, 50, 40, 30])],
    "b": [("crack", [5, 5, 10, 20])],
    "c": [],
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("datumaro")
    ds = dataset_for(make_box_project(tmp), ratios=(0.5, 0.5))
    return {f: export_dataset(ds, f, tmp / f).out for f in ("coco", "yolo", "voc")}


def boxes(path, fmt: str) -> dict[str, list]:
    data = dm.Dataset.import_from(str(path), fmt)
    cats = data.categories()[dm.AnnotationType.label]
    return {
        item.id: [
            (cats[a.label].name, [round(v, 3) for v in a.get_bbox()])
            for a in sorted(item.annotations, key=lambda a: a.get_bbox()[0])
        ]
        for item in data
    }


def test_coco_and_yolo_import_exactly(exports):
    assert boxes(exports["coco"], "coco_instances") == EXPECTED
    assert boxes(exports["yolo"], "yolo") == EXPECTED


def test_voc_imports_with_the_known_one_pixel_convention_difference(exports):
    """We write the devkit's 1-based inclusive corners; Datumaro reads VOC corners as
    0-based exclusive, so each box comes back 1 px right/down and 1 px smaller."""
    got = boxes(exports["voc"], "voc_detection")
    shifted = {
        k: [(c, [x + 1, y + 1, w - 1, h - 1]) for c, (x, y, w, h) in v] for k, v in EXPECTED.items()
    }
    assert got == shifted


@pytest.fixture(scope="module")
def mask_exports(tmp_path_factory):
    from mask_projects import all_masks, make_mask_project

    tmp = tmp_path_factory.mktemp("datumaro-masks")
    project = make_mask_project(tmp, "metal")
    ds = dataset_for(project)
    out = {f: export_dataset(ds, f, tmp / f).out for f in ("coco", "voc")}
    return out, {k.rsplit(".", 1)[0]: v for k, v in all_masks(project).items()}


def _pixels(a, h: int = 600, w: int = 800):
    from pycocotools import mask as mu

    if hasattr(a, "image"):
        return a.image.astype(bool)
    return mu.decode(mu.merge(mu.frPyObjects([a.points], h, w))).astype(bool)


def test_coco_masks_import_with_the_same_pixels(mask_exports):
    """Datumaro reads our polygons and RLEs as the masks we labeled (by class, any order)."""
    out, want = mask_exports
    data = dm.Dataset.import_from(str(out["coco"]), "coco_instances")
    cats = data.categories()[dm.AnnotationType.label]
    for item in data:
        got = [
            (cats[a.label].name, _pixels(a))
            for a in item.annotations
            if a.type in (dm.AnnotationType.mask, dm.AnnotationType.polygon)
        ]
        masks = want[item.id.split("/")[-1]]
        assert len(got) == len(masks)
        for m in masks:
            full = m.full(800, 600).astype(bool)
            assert any(c == m.cls and (g == full).all() for c, g in got), (item.id, m.cls)


def test_voc_segmentation_imports_the_same_class_masks(mask_exports):
    import numpy as np

    out, want = mask_exports
    data = dm.Dataset.import_from(str(out["voc"]), "voc_segmentation")
    cats = data.categories()[dm.AnnotationType.label]
    assert len(data) == sum(1 for v in want.values() if v)
    for item in data:
        masks = want[item.id.split("/")[-1]]
        for cls in {m.cls for m in masks}:
            mine = np.logical_or.reduce([m.full(800, 600) > 0 for m in masks if m.cls == cls])
            theirs = [
                a.image.astype(bool)
                for a in item.annotations
                if a.type == dm.AnnotationType.mask and cats[a.label].name == cls
            ]
            assert theirs and (np.logical_or.reduce(theirs) == mine).all(), (item.id, cls)
