"""Every export of a project with real masks, read back by its consumer: pycocotools
(COCOeval segm of the export against itself, decoded pixels), a YOLO reader applying
Ultralytics' documented segment rules (Ultralytics needs torch, which is not
installable here), PIL for the VOC palette PNGs, the `tfrecord` reader, csv/json; and
each importable format round-tripped back into a project."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import tfrecord
import yaml
from PIL import Image
from pycocotools import mask as cocomask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mask_projects import all_masks, make_mask_project
from qclabel.core.mask_kind import mask_iou
from qclabel.formats import dataset_for, export_dataset, import_labels


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("maskfmt")
    return {
        "metal": make_mask_project(tmp, "metal"),
        "paint": make_mask_project(tmp, "paint"),
        "tmp": tmp,
    }


@pytest.fixture(scope="module")
def exports(projects):
    tmp, metal = projects["tmp"], projects["metal"]
    ds = dataset_for(metal)
    out = {
        f: export_dataset(ds, f, tmp / f"x-{f}").out
        for f in ("coco", "voc", "tfrecord", "csv", "jsonl")
    }
    out["yolo"] = export_dataset(ds, "yolo", tmp / "x-yolo", task="segment").out
    out["paint-voc"] = export_dataset(
        dataset_for(projects["paint"]), "voc", tmp / "x-pvoc", mask_png=True
    ).out
    return out


def quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def truth(projects, which="metal"):
    """file stem -> masks alice labeled."""
    return {Path(n).stem: m for n, m in all_masks(projects[which]).items()}


# -- COCO ---------------------------------------------------------------------------------
def test_coco_segm_self_eval_is_ap_1_and_masks_decode_to_the_labeled_pixels(projects, exports):
    f = exports["coco"] / "annotations" / "instances_train.json"
    gt = quiet(COCO, str(f))
    dt = quiet(gt.loadRes, [{**a, "score": 1.0} for a in gt.dataset["annotations"]])
    ev = COCOeval(gt, dt, "segm")
    for step in (ev.evaluate, ev.accumulate, ev.summarize):
        quiet(step)
    assert ev.stats[0] == pytest.approx(1.0)
    want = truth(projects)
    gt = quiet(COCO, str(f))  # COCOeval turned the segmentations into RLEs in place
    anns = gt.dataset["annotations"]
    assert len(anns) == sum(len(v) for v in want.values())
    for img in gt.imgs.values():
        masks = want[Path(img["file_name"]).stem]
        got = [a for a in anns if a["image_id"] == img["id"]]
        assert len(got) == len(masks)
        for a, m in zip(got, masks):
            pixels = gt.annToMask(a)
            assert np.array_equal(pixels, m.full(img["width"], img["height"])), a["id"]
            assert a["area"] == m.area == int(pixels.sum())
            assert a["bbox"] == list(cocomask.toBbox(gt.annToRLE(a)))
            assert a["iscrowd"] == 0
            assert isinstance(a["segmentation"], list) == bool(m.polygons)


def test_coco_round_trip_keeps_every_mask(projects, exports, tmp_path):
    metal = projects["metal"]
    metal.add_role("admin", "qm_bob", "annotator")
    import_labels(metal, "coco", exports["coco"], "admin", as_user="qm_bob")
    again = {Path(n).stem: m for n, m in all_masks(metal, "qm_bob").items()}
    want = truth(projects)
    assert again.keys() == want.keys()
    for stem, masks in want.items():
        assert len(again[stem]) == len(masks)
        for a, b in zip(masks, again[stem]):
            assert a.cls == b.cls and mask_iou(a, b) >= 0.99
            assert b.polygons == a.polygons or not a.polygons  # polygons stay polygons
    ds = dataset_for(metal)  # alice and bob agree now: the export is unchanged
    export_dataset(ds, "coco", tmp_path / "again")
    first = json.loads((exports["coco"] / "annotations/instances_train.json").read_text())
    second = json.loads((tmp_path / "again/annotations/instances_train.json").read_text())
    assert first["annotations"] == second["annotations"]


# -- YOLO ---------------------------------------------------------------------------------
def ultralytics_segment_labels(root: Path) -> dict[str, list]:
    """Ultralytics' segment dataset rules (data/utils.py verify_image_label): names in
    data.yaml, one row per instance `cls x1 y1 ...`, class < nc, every coordinate in
    [0, 1], at least 3 points; a row becomes a mask by polygon2mask (points scaled to
    pixels, int32, cv2.fillPoly)."""
    data = yaml.safe_load((root / "data.yaml").read_text())
    nc = len(data["names"])
    assert "path" not in data and data["train"] == "images/train"
    out = {}
    for txt in sorted((root / "labels/train").glob("*.txt")):
        img = next((root / "images/train").glob(txt.stem + ".*"))
        w, h = Image.open(img).size
        rows = []
        for line in txt.read_text().splitlines():
            vals = [float(v) for v in line.split()]
            assert vals[0] == int(vals[0]) and 0 <= vals[0] < nc
            pts = np.array(vals[1:]).reshape(-1, 2)
            assert len(pts) >= 3 and (pts >= 0).all() and (pts <= 1).all()
            assert all(len(v.split(".")[1]) == 6 for v in line.split()[1:])
            canvas = np.zeros((h, w), np.uint8)
            cv2.fillPoly(canvas, [(pts * (w, h)).astype(np.int32)], 1)
            rows.append((int(vals[0]), canvas))
        out[txt.stem] = rows
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def parts(m) -> int:
    if m.polygons:
        return len(m.polygons)
    contours, _ = cv2.findContours(np.pad(m.region(), 1), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return len(contours)


def test_yolo_segment_export_follows_ultralytics_rules_and_keeps_the_masks(projects, exports):
    labels = ultralytics_segment_labels(exports["yolo"])
    classes = projects["metal"].taxonomy.class_names()
    want = truth(projects)
    for stem, masks in want.items():
        rows = iter(labels[stem])
        assert len(labels[stem]) == sum(parts(m) for m in masks)
        for m in masks:  # one row per part, in mask order
            mine = [next(rows) for _ in range(parts(m))]
            assert {classes[c] for c, _ in mine} == {m.cls}
            pixels = np.logical_or.reduce([p for _, p in mine]).astype(np.uint8)
            full = m.full(800, 600)
            thin = m.area < 6 * max(m.width, m.height)  # scratches, cracks: 1-3 px wide
            assert iou(pixels, full) >= (0.6 if thin else 0.8), (stem, m.cls)


def test_yolo_bridges_holes_and_splits_parts(projects, exports):
    rows = ultralytics_segment_labels(exports["yolo"])["P1001_L07_S2_cam1_0002"]
    assert len(rows) == 2
    pixels = rows[0][1] | rows[1][1]
    assert pixels[300, 300] == 0  # the hole stays a hole
    assert pixels[300, 270] == 1  # the ring
    assert pixels[310, 420] == 1  # the second part
    assert iou(pixels, make_holey()) > 0.9


def make_holey() -> np.ndarray:
    from mask_projects import holey_dent

    return holey_dent().full(800, 600)


def test_yolo_segment_import_with_confidence_becomes_mask_suggestions(projects, exports, tmp_path):
    from qclabel.formats import suggestions

    metal = projects["metal"]
    folder = tmp_path / "pred"
    folder.mkdir()
    src = exports["yolo"] / "labels/train/P1001_L07_S2_cam1_0002.txt"
    ring, blob = src.read_text().splitlines()  # the two parts of the holey dent
    (folder / "P1001_L07_S2_cam1_0002.txt").write_text(f"{ring} 0.9\n{blob} 0.8\n{ring} 0.2\n")
    report = import_labels(metal, "yolo", folder, "admin", predictions="seg-model", min_score=0.5)
    assert report.images == 1
    image = next(
        r.id for r in metal.store.catalog.all() if r.source.endswith("P1001_L07_S2_cam1_0002.jpg")
    )
    s = suggestions.get(metal, image)
    assert len(s.annotation.masks) == 2 and s.scores == (0.9, 0.8)
    got = np.logical_or.reduce([m.full(800, 600) > 0 for m in s.annotation.masks])
    assert got[300, 270] and got[310, 420] and not got[300, 300]  # parts, hole kept
    assert iou(got, make_holey() > 0) > 0.9
    accepted = suggestions.accept(s, metal.store.state("alice").annotation(image)).after
    assert len(accepted.masks) == 3


# -- VOC ----------------------------------------------------------------------------------
def test_voc_segmentation_pngs_hold_classes_and_instances(projects, exports):
    root = exports["voc"]
    classes = projects["metal"].taxonomy.class_names()
    want = truth(projects)
    listed = (root / "ImageSets/Segmentation/train.txt").read_text().split()
    assert sorted(listed) == sorted(s for s, m in want.items() if m)
    labelmap = (root / "labelmap.txt").read_text().splitlines()[1:]
    for stem in listed:
        cls_png = Image.open(root / "SegmentationClass" / f"{stem}.png")
        obj_png = Image.open(root / "SegmentationObject" / f"{stem}.png")
        assert cls_png.mode == obj_png.mode == "P"
        pal = cls_png.getpalette()
        for n, line in enumerate(labelmap, start=0):  # palette colour = labelmap colour
            rgb = [int(v) for v in line.split(":")[1].split(",")]
            assert pal[3 * n : 3 * n + 3] == rgb
        cmap, omap = np.asarray(cls_png), np.asarray(obj_png)
        xml = (root / "Annotations" / f"{stem}.xml").read_text()
        assert "<segmented>1</segmented>" in xml
        for n, m in enumerate(want[stem], start=1):
            on = m.full(800, 600) > 0
            mine = omap == n
            assert (mine <= on).all() and mine.sum() >= 0.5 * on.sum()
            assert (cmap[mine] == classes.index(m.cls) + 1).all()
        assert (cmap[omap == 0] == 0).all()


def test_voc_round_trip_keeps_masks_and_does_not_double_them_as_boxes(projects, exports):
    metal = projects["metal"]
    metal.add_role("admin", "qm_vic", "annotator")
    import_labels(metal, "voc", exports["voc"], "admin", as_user="qm_vic")
    again = {Path(n).stem: m for n, m in all_masks(metal, "qm_vic").items()}
    state = metal.store.state("qm_vic")
    assert not any(a.boxes for a in state.annotations().values())
    for stem, masks in truth(projects).items():
        assert [m.cls for m in again[stem]] == [m.cls for m in masks]
        for a, b in zip(masks, again[stem]):  # overlaps flatten: the smaller one wins
            assert mask_iou(a, b) >= 0.9


def test_semantic_paint_voc_and_mask_pngs(projects, exports):
    root = exports["paint-voc"]
    classes = projects["paint"].taxonomy.class_names()
    for stem, masks in truth(projects, "paint").items():
        png = np.asarray(Image.open(root / "masks/train" / f"{stem}.png"))
        assert png.dtype == np.uint8 and png.shape == (480, 640)
        for m in masks:
            on = m.full(640, 480) > 0
            share = (png[on] == classes.index(m.cls) + 1).mean()
            assert share > 0.9
        if not masks:
            assert not png.any()
    assert (root / "masks/classes.txt").read_text().split() == ["background", *classes]


# -- TFRecord -----------------------------------------------------------------------------
def test_tfrecord_png_mask_per_object(projects, exports):
    want = truth(projects)
    path = exports["tfrecord"] / "train.tfrecord"
    seen = 0
    for rec in tfrecord.tfrecord_loader(str(path), None):
        stem = Path(bytes(rec["image/filename"]).decode()).stem
        masks = want[stem]
        pngs = list(np.atleast_1d(rec["image/object/mask"]))
        assert len(rec["image/object/bbox/xmin"]) == len(masks)
        pngs = [p for p in pngs if len(p)]
        assert len(pngs) == len(masks)
        for data, m in zip(pngs, masks):
            arr = cv2.imdecode(np.frombuffer(bytes(data), np.uint8), cv2.IMREAD_UNCHANGED)
            assert arr.shape == (600, 800) and np.array_equal(arr, m.full(800, 600))
        seen += 1
    assert seen == len(want)


# -- CSV / JSONL --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_tabular_rle_rows_decode_and_carry_measurements(projects, exports, kind):
    root = exports[kind]
    schema = json.loads((root / "schema.json").read_text())
    cols = schema["files"][f"objects.{kind}"]
    assert {"rle", "area_px", "area_mm2", "length_mm", "width_mm"} <= set(cols)
    text = (root / f"objects.{kind}").read_text()
    rows = (
        list(csv.DictReader(io.StringIO(text)))
        if kind == "csv"
        else [json.loads(line) for line in text.splitlines()]
    )
    masks = [r for r in rows if r["kind"] == "mask"]
    assert len(masks) == sum(len(v) for v in truth(projects).values())
    for r in masks:
        h, w = int(r["h"]), int(r["w"])
        region = cocomask.decode({"size": [h, w], "counts": r["rle"].encode()})
        assert int(region.sum()) == int(float(r["area_px"]))
        assert float(r["area_mm2"]) == pytest.approx(int(r["area_px"]) * 0.0025, abs=1e-3)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_tabular_round_trip(projects, exports, kind):
    metal = projects["metal"]
    user = f"qm_{kind}"
    metal.add_role("admin", user, "annotator")
    import_labels(metal, kind, exports[kind], "admin", as_user=user)
    again = {Path(n).stem: m for n, m in all_masks(metal, user).items()}
    for stem, masks in truth(projects).items():
        assert [(m.cls, m.rle, m.bbox, m.severity) for m in again[stem]] == [
            (m.cls, m.rle, m.bbox, m.severity) for m in masks
        ]
