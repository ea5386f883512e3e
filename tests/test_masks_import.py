"""Mask imports: labelme polygon/mask shapes grouped into instances, and every broken
mask refused before anything is written, naming the file and the object."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mask_projects import make_mask_project
from qclabel.errors import FormatError
from qclabel.formats import dataset_for, export_dataset, import_labels
from test_formats_common import tree_digest

NAME = "P1001_L07_S2_cam1_0001.jpg"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("maskimp")
    project = make_mask_project(tmp, "metal")
    coco = export_dataset(dataset_for(project), "coco", tmp / "coco", link="none").out
    return project, coco


def damaged(base, tmp_path, change) -> Path:
    src = tmp_path / "coco"
    shutil.copytree(base[1], src)
    f = src / "annotations/instances_train.json"
    doc = json.loads(f.read_text())
    change(doc)
    f.write_text(json.dumps(doc))
    return src


def refused(project, fmt, src, match):
    project.add_role("admin", "qm_imp", "annotator")
    before = tree_digest(project.root)
    with pytest.raises(FormatError, match=match):
        import_labels(project, fmt, src, "admin", as_user="qm_imp")
    assert tree_digest(project.root) == before


def first_polygon(doc):
    return next(a for a in doc["annotations"] if isinstance(a["segmentation"], list))


def first_rle(doc):
    return next(a for a in doc["annotations"] if isinstance(a["segmentation"], dict))


def test_polygon_outside_the_image(base, tmp_path):
    def change(doc):
        first_polygon(doc)["segmentation"][0][2] = 900.0

    src = damaged(base, tmp_path, change)
    refused(
        base[0],
        "coco",
        src,
        r"instances_train.json: image P1001_L07_S2_cam1_0001.jpg, mask 3 "
        r"\(dent\): polygon 0 reaches .* outside the 800x600 image",
    )


def test_self_intersecting_polygon(base, tmp_path):
    def change(doc):
        first_polygon(doc)["segmentation"] = [[500, 400, 560, 450, 560, 400, 500, 450]]

    refused(
        base[0],
        "coco",
        damaged(base, tmp_path, change),
        r"image P1001_L07_S2_cam1_0001.jpg, mask 3 \(dent\): polygon 0 crosses itself",
    )


def test_rle_size_disagreeing_with_the_image(base, tmp_path):
    def change(doc):
        first_rle(doc)["segmentation"]["size"] = [601, 800]  # one row taller (CVAT#9316)

    refused(
        base[0],
        "coco",
        damaged(base, tmp_path, change),
        r"annotations\[\d+\]: RLE size \[601, 800\] disagrees with the 800x600 image",
    )


def test_rle_with_more_pixels_than_its_size(base, tmp_path):
    def change(doc):  # CVAT#9460: runs adding up past the mask
        a = first_rle(doc)
        a["segmentation"] = {"size": [600, 800], "counts": [479990, 20]}

    refused(
        base[0],
        "coco",
        damaged(base, tmp_path, change),
        r"annotations\[\d+\]: RLE runs add up to 480010 pixels, not the 600x800",
    )


def test_iscrowd_rle_becomes_a_mask_not_a_box(base, tmp_path):
    project = base[0]

    def change(doc):
        for a in doc["annotations"]:
            if isinstance(a["segmentation"], dict):
                a["iscrowd"] = 1
                from pycocotools import mask as cm

                rle = dict(a["segmentation"], counts=a["segmentation"]["counts"].encode())
                full = cm.decode(rle)
                flat = full.flatten(order="F")
                edges = np.flatnonzero(np.diff(np.concatenate(([0], flat, [0]))))
                runs = np.diff(np.concatenate(([0], edges, [flat.size]))).tolist()
                a["segmentation"] = {
                    "size": rle["size"],
                    "counts": [r for r in runs if r] if runs[0] else runs,
                }

    src = damaged(base, tmp_path, change)
    project.add_role("admin", "qm_crowd", "annotator")
    import_labels(project, "coco", src, "admin", as_user="qm_crowd")
    state = project.store.state("qm_crowd")
    alice = project.store.state("alice")
    for image, ann in state.annotations().items():
        assert not ann.boxes
        assert [m.area for m in ann.masks] == [m.area for m in alice.annotation(image).masks]


def png_b64(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8) * 255).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_labelme_polygons_and_masks_grouped_into_instances(base, tmp_path):
    project = base[0]
    blob = np.zeros((10, 20), bool)
    blob[2:8, 3:17] = True
    doc = {
        "imagePath": NAME,
        "imageWidth": 800,
        "imageHeight": 600,
        "shapes": [
            {
                "label": "scratch",
                "shape_type": "polygon",
                "group_id": 1,
                "points": [[10, 10], [60, 10], [60, 20], [10, 20]],
            },
            {
                "label": "scratch",
                "shape_type": "polygon",
                "group_id": 1,
                "points": [[100, 10], [150, 10], [150, 20], [100, 20]],
            },
            {
                "label": "dent",
                "shape_type": "polygon",
                "points": [[300, 300], [340, 300], [320, 340]],
            },
            {
                "label": "porosity",
                "shape_type": "mask",
                "points": [[400, 100], [419, 109]],
                "mask": png_b64(blob),
            },
        ],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    project.add_role("admin", "qm_lm", "annotator")
    import_labels(project, "labelme", tmp_path / "a.json", "admin", as_user="qm_lm")
    image = next(r.id for r in project.store.catalog.all() if r.source.endswith(NAME))
    masks = project.store.state("qm_lm").annotation(image).masks
    assert [m.cls for m in masks] == ["scratch", "dent", "porosity"]
    assert len(masks[0].polygons) == 2 and masks[0].area == 2 * 50 * 10
    assert masks[2].polygons == () and masks[2].area == blob.sum()
    assert (masks[2].left, masks[2].top) == (403, 102)


def test_labelme_mask_of_the_wrong_size_is_refused(base, tmp_path):
    doc = {
        "imagePath": NAME,
        "shapes": [
            {
                "label": "porosity",
                "shape_type": "mask",
                "points": [[400, 100], [430, 109]],
                "mask": png_b64(np.ones((10, 20), bool)),
            }
        ],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    refused(
        base[0],
        "labelme",
        tmp_path / "a.json",
        r"a.json: shapes\[0\]: mask PNG is 20x10 but its points span 31x10",
    )
