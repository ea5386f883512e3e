"""Every export read back by its consumer's reader: pycocotools (with COCOeval of the
ground truth against itself), the `tfrecord` reader, xml.etree for VOC, and a YOLO
checker that applies Ultralytics' own dataset rules (Ultralytics itself pulls in torch
and CUDA, so it is not installed here)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import tfrecord
import yaml
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from qclabel.formats import dataset_for, export_dataset
from test_formats_common import make_box_project, make_keypoint_project

IMG_FORMATS = {"bmp", "jpg", "jpeg", "png", "tif", "tiff", "dng", "webp", "mpo"}


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("readback")
    boxes, kps = make_box_project(tmp), make_keypoint_project(tmp)
    out = {}
    for fmt in ("yolo", "coco", "voc", "tfrecord", "csv", "jsonl"):
        out[fmt] = export_dataset(dataset_for(boxes), fmt, tmp / fmt).out
    out["pose"] = export_dataset(dataset_for(kps), "yolo", tmp / "pose", task="pose").out
    out["kcoco"] = export_dataset(dataset_for(kps), "coco", tmp / "kcoco").out
    out["ktf"] = export_dataset(dataset_for(kps), "tfrecord", tmp / "ktf").out
    out["classify"] = export_dataset(dataset_for(boxes), "yolo", tmp / "cls", task="classify").out
    return out


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def _coco_eval(gt_file: Path, iou_type: str) -> float:
    gt = _quiet(COCO, str(gt_file))
    dets = [{**a, "score": 1.0} for a in gt.dataset["annotations"]]
    dt = _quiet(gt.loadRes, dets)
    ev = COCOeval(gt, dt, iou_type)
    if iou_type == "keypoints":  # the default sigmas are the 17 COCO person keypoints
        k = len(next(iter(gt.cats.values()))["keypoints"])
        ev.params.kpt_oks_sigmas = np.full(k, 0.05)
    _quiet(ev.evaluate)
    _quiet(ev.accumulate)
    _quiet(ev.summarize)
    return float(ev.stats[0])


def test_coco_instances_load_and_self_eval_is_ap_1(exports):
    f = exports["coco"] / "annotations" / "instances_train.json"
    gt = _quiet(COCO, str(f))
    assert sorted(gt.getCatIds()) == [1, 2, 3, 4, 5, 6]
    assert [gt.imgs[i]["file_name"] for i in sorted(gt.imgs)] == ["a.png", "b.png", "c.png"]
    assert (gt.imgs[2]["width"], gt.imgs[2]["height"]) == (48, 64)  # EXIF-corrected
    assert gt.getAnnIds(imgIds=[3]) == []  # background image present, no objects
    assert gt.anns[2]["bbox"] == [60.0, 50.0, 40.0, 30.0]  # clipped to the image
    assert _coco_eval(f, "bbox") == pytest.approx(1.0)
    for img in gt.imgs.values():
        with Image.open(exports["coco"] / "images" / "train" / img["file_name"]) as im:
            assert im.size == (img["width"], img["height"])


def test_coco_keypoints_keep_visibility_and_self_eval_is_ap_1(exports):
    f = exports["kcoco"] / "annotations" / "person_keypoints_train.json"
    gt = _quiet(COCO, str(f))
    ann = gt.anns[1]
    assert ann["keypoints"] == [20.0, 30.0, 2, 80.0, 30.0, 1, 50.0, 10.0, 2, 0, 0, 0]
    assert ann["num_keypoints"] == 3 and ann["area"] == 1200.0
    cat = gt.cats[1]
    assert cat["keypoints"] == ["hole_left", "hole_right", "tab_tip", "screw"]
    assert cat["skeleton"] == [[1, 2], [1, 3], [2, 3]]
    assert _coco_eval(f, "keypoints") == pytest.approx(1.0)


def _records(path: Path) -> list[dict]:
    return list(tfrecord.tfrecord_loader(str(path), None))


def test_tfrecord_reads_with_the_tfrecord_package(exports, tmp_path):
    recs = _records(exports["tfrecord"] / "train.tfrecord")
    assert [r["image/filename"] for r in recs] == [b"a.png", b"b.png", b"c.png"]
    a, b, c = recs
    assert list(a["image/object/class/label"]) == [1, 2]  # 1-based
    assert list(a["image/object/class/text"]) == [b"scratch", b"dent"]
    np.testing.assert_allclose(a["image/object/bbox/xmax"], [0.4, 1.0], rtol=1e-6)
    assert (int(b["image/width"][0]), int(b["image/height"][0])) == (48, 64)
    assert len(c["image/object/class/label"]) == 0  # empty but present
    assert len(c["image/object/bbox/xmin"]) == 0
    assert list(b["image/class/label"]) == [3] and len(a["image/class/label"]) == 0
    decoded = Image.open(io.BytesIO(a["image/encoded"]))
    assert decoded.size == (100, 80)
    label_map = (exports["tfrecord"] / "label_map.pbtxt").read_text()
    assert "item {\n  id: 1\n  name: 'scratch'\n}" in label_map
    assert "id: 0" not in label_map


def test_tfrecord_framing_has_masked_crc32c_of_length_and_payload(exports):
    """Checked with the crc32c package directly, as TensorFlow's reader does."""
    import crc32c

    def masked(b: bytes) -> int:
        c = crc32c.crc32c(b)
        return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    data = (exports["tfrecord"] / "train.tfrecord").read_bytes()
    pos, count = 0, 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 8], "little")
        assert int.from_bytes(data[pos + 8 : pos + 12], "little") == masked(data[pos : pos + 8])
        payload = data[pos + 12 : pos + 12 + length]
        end = pos + 12 + length
        assert int.from_bytes(data[end : end + 4], "little") == masked(payload)
        pos, count = end + 4, count + 1
    assert count == 3 and pos == len(data)


def test_tfrecord_keypoints_one_row_of_k_per_object(exports):
    a = _records(exports["ktf"] / "train.tfrecord")[0]
    n_objects = len(a["image/object/class/label"])
    assert n_objects == 2 and len(a["image/object/keypoint/x"]) == 4 * n_objects
    assert list(a["image/object/keypoint/visibility"]) == [0, 0, 0, 0, 2, 1, 2, 0]
    assert list(a["image/object/keypoint/num"]) == [0, 3]


def test_voc_parses_with_etree_and_follows_devkit(exports):
    import xml.etree.ElementTree as ET

    root = exports["voc"]
    ids = (root / "ImageSets" / "Main" / "train.txt").read_text().split()
    assert ids == ["a", "b", "c"]
    a = ET.parse(root / "Annotations" / "a.xml").getroot()
    objs = a.findall("object")
    assert [o.findtext("name") for o in objs] == ["scratch", "dent"]
    assert [int(objs[0].findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")] == [
        11,
        21,
        40,
        35,
    ]
    assert objs[1].findtext("truncated") == "1"
    b = ET.parse(root / "Annotations" / "b.xml").getroot()
    assert (b.findtext("size/width"), b.findtext("size/height")) == ("48", "64")
    labelmap = (root / "labelmap.txt").read_text().splitlines()
    assert labelmap[2] == "scratch:79,195,247::"
    for i in ids:
        name = ET.parse(root / "Annotations" / f"{i}.xml").getroot().findtext("filename")
        assert (root / "JPEGImages" / name).is_file()


def check_ultralytics_dataset(root: Path, kpt: bool = False) -> int:
    """Ultralytics' check_det_dataset + verify_image_label rules; returns label rows."""
    data = yaml.safe_load((root / "data.yaml").read_text())
    assert "path" not in data  # resolved against the cwd by Ultralytics
    names = data["names"]
    assert sorted(names) == list(range(len(names))) and data["nc"] == len(names)
    assert "train" in data and "val" in data
    nk = data["kpt_shape"][0] if kpt else 0
    rows = 0
    for folder in sorted({data[k] for k in ("train", "val", "test") if k in data}):
        images = root / folder
        assert images.is_dir(), images
        for img in images.iterdir():
            assert img.suffix[1:].lower() in IMG_FORMATS
            label = Path(str(img).replace("/images/", "/labels/")).with_suffix(".txt")
            assert label.is_file(), f"{label}: Ultralytics needs a label file per image"
            text = label.read_text()
            assert "e-" not in text and "e+" not in text  # no scientific notation
            lines = [ln.split() for ln in text.splitlines() if ln.strip()]
            if not lines:
                continue
            lb = np.array(lines, dtype=np.float32)
            assert lb.shape[1] == 5 + 3 * nk
            # Ultralytics checks box coordinates and keypoint x, y (not visibility) <= 1
            points = lb[:, 5:].reshape(-1, 3)[:, :2] if nk else lb[:, 1:]
            assert points.max() <= 1 and lb[:, 1:5].max() <= 1 and lb.min() >= 0
            assert lb[:, 0].max() < len(names)
            assert len(np.unique(lb, axis=0)) == len(lb)  # duplicates are dropped
            if nk:
                assert set(lb[:, 7::3].ravel()) <= {0.0, 1.0, 2.0}
            rows += len(lb)
    return rows


def test_yolo_detection_passes_ultralytics_rules(exports):
    assert check_ultralytics_dataset(exports["yolo"]) == 3
    assert (exports["yolo"] / "labels" / "train" / "c.txt").read_text() == ""


def test_yolo_pose_passes_ultralytics_rules(exports):
    assert check_ultralytics_dataset(exports["pose"], kpt=True) == 1
    data = yaml.safe_load((exports["pose"] / "data.yaml").read_text())
    assert data["kpt_shape"] == [4, 3]


def test_yolo_classify_layout(exports):
    root = exports["classify"]
    # Only classes with images: torchvision's ImageFolder refuses an empty class folder.
    assert sorted(p.name for p in (root / "train").iterdir()) == ["crack", "pass"]
    assert [p.name for p in (root / "train" / "crack").iterdir()] == ["b.png"]
    assert [p.name for p in (root / "train" / "pass").iterdir()] == ["c.png"]
    info = json.loads((root / "qclabel_version.json").read_text())
    assert info["task"] == "classify"  # a.png (fail, boxes only) has no folder


def test_csv_and_jsonl_read_back_with_their_schema(exports):
    for kind in ("csv", "jsonl"):
        root = exports[kind]
        schema = json.loads((root / "schema.json").read_text())
        if kind == "csv":
            images = list(csv.DictReader(open(root / "images.csv")))
            objects = list(csv.DictReader(open(root / "objects.csv")))
        else:
            images = [json.loads(x) for x in open(root / "images.jsonl")]
            objects = [json.loads(x) for x in open(root / "objects.jsonl")]
        assert list(images[0]) == list(schema["files"][f"images.{kind}"])
        assert list(objects[0]) == list(schema["files"][f"objects.{kind}"])
        assert [Path(r["path"]).name for r in images] == ["a.png", "b.png", "c.png"]
        for r in images:
            assert (root / r["path"]).is_file()
        assert [(o["class"], float(o["w"])) for o in objects] == [
            ("scratch", 30.0),
            ("dent", 40.0),
            ("crack", 10.0),
        ]
        assert "top-left corner" in schema["coordinates"]
