"""Exports read by their real consumers: pixels they can decode (PIL, cv2, the tfrecord
reader), keypoint sets on their part's box, severities and verdicts through COCO / YOLO
/ VOC and back, COCO ids across splits, VOC image sets, YOLO classify folders."""

from __future__ import annotations

import contextlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
import tfrecord
import yaml
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
from qclabel.formats import dataset_for, export_dataset, import_labels
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.render.decode import apply_window, auto_window
from test_formats_common import by_name, label

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _annotators(project: Project, *users: str) -> Project:
    project.config["roles"]["annotator"] = sorted(set(users))
    project.save_config()
    return Project.open(project.root)


# -- pixels ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xray(tmp_path_factory) -> Project:
    tmp = tmp_path_factory.mktemp("xray")
    project = Project.init(tmp / "proj", "metal-stamping", user="admin")
    ingest_paths(project, [SAMPLES / "xray"], profile="xray", workers=1)
    for _name, image in by_name(project).items():
        label(
            project,
            "alice",
            image,
            Annotation(verdict="fail", boxes=(Box("porosity", 100, 100, 40, 30, "minor"),)),
        )
    return project


def _source(project: Project, name: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / "xray" / name))


def test_16_bit_stays_16_bit_by_default_and_8bit_is_windowed(xray, tmp_path):
    coco = export_dataset(dataset_for(xray), "coco", tmp_path / "c").out
    kept = cv2.imread(str(coco / "images/train/hub_001.tif"), cv2.IMREAD_UNCHANGED)
    assert kept.dtype == np.uint16 and np.array_equal(kept, _source(xray, "hub_001.tif"))
    eight = export_dataset(dataset_for(xray), "coco", tmp_path / "c8", pixels="8bit").out
    assert not (eight / "images/train/hub_001.tif").exists()
    png = eight / "images/train/hub_001.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    got = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
    rec = next(r for r in xray.store.catalog.all() if r.source.endswith("hub_001.tif"))
    src = _source(xray, "hub_001.tif")
    want = apply_window(src, *(rec.window or auto_window(src)))
    assert got.dtype == np.uint8 and np.array_equal(got, want)
    doc = json.loads((eight / "annotations/instances_train.json").read_text())
    assert sorted(i["file_name"] for i in doc["images"]) == ["hub_001.png", "hub_002.png"]


def test_yolo_defaults_to_8bit_because_ultralytics_reads_value_over_256(xray, tmp_path):
    out = export_dataset(dataset_for(xray), "yolo", tmp_path / "y").out
    img = out / "images/train/hub_001.png"
    # Ultralytics' imread: cv2.IMREAD_COLOR, which turns 16 bits into value/256.
    seen = cv2.imread(str(img), cv2.IMREAD_COLOR)
    naive = (_source(xray, "hub_001.tif") // 256).astype(np.uint8)
    assert seen.dtype == np.uint8
    assert np.ptp(seen) > 200 > 4 * np.ptp(naive)  # the windowed image has its contrast
    keep = export_dataset(dataset_for(xray), "yolo", tmp_path / "yk", pixels="keep").out
    tif = str(keep / "images/train/hub_001.tif")
    assert cv2.imread(tif, cv2.IMREAD_UNCHANGED).dtype == np.uint16
    # The documented rule itself: what Ultralytics would see of the 16-bit file.
    as_read = cv2.imread(tif, cv2.IMREAD_COLOR)[..., 0].astype(int)
    assert np.abs(as_read - _source(xray, "hub_001.tif") / 256).max() <= 1


@pytest.mark.parametrize("pixels,dtype", [("keep", np.uint16), ("8bit", np.uint8)])
def test_tfrecord_embeds_png_never_tiff(xray, tmp_path, pixels, dtype):
    out = export_dataset(dataset_for(xray), "tfrecord", tmp_path / pixels, pixels=pixels).out
    rows = list(tfrecord.tfrecord_loader(str(out / "train.tfrecord"), None))
    assert len(rows) == 2
    for row in rows:
        data = bytes(row["image/encoded"])
        assert bytes(row["image/format"]) == b"png" and data.startswith(b"\x89PNG")
        assert bytes(row["image/filename"]).endswith(b".png")
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        assert arr.dtype == dtype and arr.shape == (480, 640)


# -- keypoints and their part --------------------------------------------------------------
@pytest.fixture
def bracket(tmp_path) -> Project:
    project = Project.init(tmp_path / "proj", "assembly-keypoints", user="admin")
    ingest_paths(project, [SAMPLES / "assembly"], workers=1)
    pts = (
        Keypoint("hole_left", 150, 200, 2),
        Keypoint("hole_right", 330, 190, 2),
        Keypoint("tab_tip", 230, 125, 1),
        Keypoint("screw"),
    )
    for _name, image in by_name(project).items():
        label(
            project,
            "alice",
            image,
            Annotation(
                verdict="fail",
                boxes=(
                    Box("bracket", 100, 100, 280, 160, id="part"),
                    Box("missing-component", 229, 231, 21, 21, id="miss"),
                ),
                keypoints=(KeypointSet("bracket", pts, "bracket", id="kp"),),
            ),
        )
    return project


def test_coco_and_yolo_pose_use_the_part_box_and_flip_idx(bracket, tmp_path):
    coco = export_dataset(dataset_for(bracket), "coco", tmp_path / "c").out
    kp = json.loads((coco / "annotations/person_keypoints_train.json").read_text())
    assert {tuple(a["bbox"]) for a in kp["annotations"]} == {(100, 100, 280, 160)}
    with contextlib.redirect_stdout(io.StringIO()):  # COCOeval's keypoint OKS uses area
        gt = COCO(str(coco / "annotations/person_keypoints_train.json"))
        ev = COCOeval(gt, gt.loadRes([{**a, "score": 1.0} for a in kp["annotations"]]), "keypoints")
        ev.params.kpt_oks_sigmas = np.full(4, 0.05)  # 4 points, not COCO's 17
        ev.evaluate(), ev.accumulate(), ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)
    pose = export_dataset(dataset_for(bracket), "yolo", tmp_path / "p", task="pose").out
    row = [float(v) for v in next((pose / "labels/train").iterdir()).read_text().split()]
    w, h = 480, 360
    assert row[1:5] == pytest.approx([240 / w, 180 / h, 280 / w, 160 / h], abs=1e-6)
    data = yaml.safe_load((pose / "data.yaml").read_text())
    assert data["flip_idx"] == [1, 0, 2, 3]
    # Ultralytics' check: one entry per keypoint; a flip applied twice is the identity.
    assert len(data["flip_idx"]) == data["kpt_shape"][0]
    assert [data["flip_idx"][i] for i in data["flip_idx"]] == [0, 1, 2, 3]


def test_tfrecord_writes_a_keypoint_set_on_its_part_not_as_a_second_object(bracket, tmp_path):
    out = export_dataset(dataset_for(bracket), "tfrecord", tmp_path / "t").out
    rows = list(tfrecord.tfrecord_loader(str(out / "train.tfrecord"), None))
    coco = export_dataset(dataset_for(bracket), "coco", tmp_path / "c").out
    n_coco = len(json.loads((coco / "annotations/instances_train.json").read_text())["annotations"])
    assert sum(len(r["image/object/class/label"]) for r in rows) == n_coco == 6
    for r in rows:
        assert [bytes(t) for t in r["image/object/class/text"]] == [
            b"bracket",
            b"missing-component",
        ]
        assert list(r["image/object/keypoint/num"]) == [3, 0]
        assert r["image/object/bbox/xmin"][0] == pytest.approx(100 / 480)


# -- severity, verdict and attributes --------------------------------------------------------
SEVERITIES = {
    "scratch": ["minor", "major"],
    "dent": ["minor", "major"],
    "crack": ["critical"],
    "porosity": ["minor", "major"],
}


@pytest.fixture
def twenty(tmp_path) -> Project:
    """20 images: 6 pass, 14 fail with boxes of varied severity, some with an image-level
    class and severity."""
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(3)
    for i in range(20):
        Image.fromarray(rng.integers(0, 255, (60, 80, 3), np.uint8)).save(src / f"p{i:02d}.png")
    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    ingest_paths(project, [src], workers=1)
    classes = list(SEVERITIES)
    for i, (_name, image) in enumerate(sorted(by_name(project).items())):
        if i % 10 < 3:
            label(project, "alice", image, Annotation(verdict="pass"))
            continue
        boxes = tuple(
            Box(c, 5 + 20 * k, 5 + 10 * k, 15, 12, SEVERITIES[c][(i + k) % len(SEVERITIES[c])])
            for k, c in enumerate(classes[i % 4 : i % 4 + 1 + i % 2])
        )
        img_cls = boxes[0].cls if i % 3 == 0 else None
        label(
            project,
            "alice",
            image,
            Annotation(
                verdict="fail",
                boxes=boxes,
                defect_class=img_cls,
                severity=boxes[0].severity if img_cls else None,
            ),
        )
    return _annotators(project, "alice", "bob")


def _labels(project: Project, user: str) -> dict[str, tuple]:
    names = {r.id: Path(r.source).name for r in project.store.catalog.all()}
    return {
        names[i]: (
            a.verdict,
            a.defect_class,
            a.severity,
            sorted((b.cls, b.severity) for b in a.boxes),
        )
        for i, a in project.store.state(user).annotations().items()
    }


@pytest.mark.parametrize("fmt", ["coco", "yolo", "voc"])
def test_severity_and_verdict_survive_a_round_trip(twenty, tmp_path, fmt):
    alice = _labels(twenty, "alice")
    assert len(alice) == 20 and sum(1 for v in alice.values() if v[0] == "fail") == 14
    out = export_dataset(dataset_for(twenty), fmt, tmp_path / fmt).out
    import_labels(twenty, fmt, out, "admin", as_user="bob")
    bob = _labels(twenty, "bob")
    lost_sev = sum(1 for k, v in alice.items() if bob.get(k, (0, 0, 0, []))[3] != v[3])
    lost_verdict = sum(1 for k, v in alice.items() if bob.get(k, (None,))[0] != v[0])
    assert (lost_sev, lost_verdict) == (0, 0)
    assert bob == alice


def test_coco_image_attributes_and_cvat_style_annotation_attributes(twenty, tmp_path):
    out = export_dataset(dataset_for(twenty), "coco", tmp_path / "c").out
    doc = json.loads((out / "annotations/instances_train.json").read_text())
    attrs = [im["attributes"] for im in doc["images"]]
    assert {a["verdict"] for a in attrs} == {"pass", "fail"}
    assert all(a["annotators"] == "alice" and a["synthetic"] is False for a in attrs)
    assert all(a["attributes"]["occluded"] is False for a in doc["annotations"])
    # What CVAT writes: no image attributes, annotation attributes with its own keys.
    ids = {im["id"]: im["file_name"] for im in doc["images"]}
    first = doc["annotations"][0]
    cvat = {
        "images": [{"id": 7, "file_name": ids[first["image_id"]], "width": 80, "height": 60}],
        "categories": [{"id": 3, "name": "dent", "supercategory": ""}],
        "annotations": [
            {
                "id": 1,
                "image_id": 7,
                "category_id": 3,
                "bbox": [1, 2, 10, 8],
                "area": 80,
                "iscrowd": 0,
                "segmentation": [],
                "attributes": {"occluded": False, "rotation": 0.0, "severity": "major"},
            }
        ],
    }
    path = tmp_path / "cvat.json"
    path.write_text(json.dumps(cvat))
    import_labels(twenty, "coco", path, "admin", as_user="bob")
    got = _labels(twenty, "bob")[ids[first["image_id"]]]
    assert got[3] == [("dent", "major")]


# -- layouts: ids across splits, VOC image sets, classify folders ---------------------------
def test_coco_ids_unique_across_splits_and_voc_trainval(twenty, tmp_path):
    ds = dataset_for(twenty, ratios=(0.5, 0.5, 0.0), seed=2)
    assert set(ds.splits) == {"train", "val"}
    out = export_dataset(ds, "coco", tmp_path / "c").out
    image_ids, ann_ids = [], []
    for f in sorted((out / "annotations").glob("instances_*.json")):
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(str(f))
        image_ids += list(gt.imgs)
        ann_ids += list(gt.anns)
    assert len(image_ids) == 20 == len(set(image_ids))
    assert len(ann_ids) == len(set(ann_ids)) > 14
    voc = export_dataset(ds, "voc", tmp_path / "v").out
    sets = voc / "ImageSets/Main"
    train, val = (sets / "train.txt").read_text().split(), (sets / "val.txt").read_text().split()
    assert (sets / "trainval.txt").read_text().split() == sorted(
        train + val, key=lambda s: [i.stem for i in ds.images].index(s)
    )
    for xml in (voc / "Annotations").glob("*.xml"):  # every image the XML names loads
        with Image.open(voc / "JPEGImages" / ET.parse(xml).getroot().findtext("filename")) as im:
            im.load()


def test_classify_leaves_no_empty_folders_and_names_left_out_images(twenty, tmp_path):
    ids = by_name(twenty)
    label(
        twenty,
        "alice",
        ids["p05.png"],
        Annotation(verdict="fail", boxes=(Box("scratch", 1, 1, 5, 5, "minor"),)),
    )  # fail, no image-level class
    result = export_dataset(dataset_for(twenty), "yolo", tmp_path / "k", task="classify")
    folders = [p for p in (result.out / "train").iterdir()]
    assert folders and all(any(p.iterdir()) for p in folders)
    assert {p.name for p in folders} == {"pass", "scratch", "dent", "crack", "porosity"} & (
        {"pass"} | {v[1] for v in _labels(twenty, "alice").values() if v[1]}
    )
    assert "train/p05.png" in result.stats["left_out_without_class"]
    assert any("p05.png" in n for n in result.stats["notes"])


def test_bad_attributes_are_refused_in_one_line(twenty, tmp_path):
    from qclabel.errors import FormatError

    coco = export_dataset(dataset_for(twenty), "coco", tmp_path / "c").out
    path = coco / "annotations/instances_train.json"
    doc = json.loads(path.read_text())
    doc["images"][0]["attributes"]["verdict"] = "maybe"
    path.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=r"attributes.verdict = 'maybe'") as exc:
        import_labels(twenty, "coco", path, "admin", as_user="bob")
    doc["images"][0]["attributes"]["verdict"] = "fail"
    doc["annotations"][0]["attributes"]["severity"] = "catastrophic"
    path.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="severity = 'catastrophic'") as exc:
        import_labels(twenty, "coco", path, "admin", as_user="bob")
    assert "\n" not in str(exc.value)
    yolo = export_dataset(dataset_for(twenty), "yolo", tmp_path / "y").out
    assert _labels(twenty, "bob") == {}  # nothing was written
    # A label file edited after the export: its rows win, the stale entry is ignored.
    label_file = next(p for p in sorted((yolo / "labels/train").iterdir()) if p.read_text())
    label_file.write_text(label_file.read_text() * 2)
    import_labels(twenty, "yolo", yolo, "admin", as_user="bob")
    alice, bob = _labels(twenty, "alice"), _labels(twenty, "bob")
    edited = next(k for k in alice if k.startswith(label_file.stem))
    assert len(bob[edited][3]) == 2 * len(alice[edited][3])
    assert {k: v for k, v in bob.items() if k != edited} == {
        k: v for k, v in alice.items() if k != edited
    }
