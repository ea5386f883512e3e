"""The bundled samples (area-scan metal parts, EXIF-rotated phone photos, 16-bit X-rays),
labeled with their ground truth, export in every format and load in the consumers."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tfrecord
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from qclabel.core.edits import Change
from qclabel.core.model import Annotation, Box
from qclabel.formats import EXPORT_FORMATS, export_project
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.versions import create_version
from test_formats_readback import check_ultralytics_dataset

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FOLDERS = {"metal": "area-scan", "phone": "phone", "xray": "xray"}


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory) -> Project:
    tmp = tmp_path_factory.mktemp("samples")
    project = Project.init(tmp / "proj", "metal-stamping", user="admin")
    for folder, profile in FOLDERS.items():
        report = ingest_paths(project, [SAMPLES / folder], profile=profile, workers=1)
        assert not report.failed, report.failed
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
    catalog = project.store.catalog
    # The phone photos come without a sidecar: give them their part, as an operator would.
    catalog.update(
        [
            replace(r, fields={**r.fields, **truth[f"phone/{Path(r.source).name}"]["fields"]})
            for r in catalog.all()
            if "/phone/" in r.source
        ]
    )
    by_source = {Path(r.source).resolve(): r for r in catalog.all()}
    with project.store.open_session("alice") as s:
        for rel, t in truth.items():
            rec = by_source.get((SAMPLES / rel).resolve())
            if rec is None:
                continue
            scale = rec.width / t["width"]  # the phone profile caps the size
            boxes = tuple(
                Box(
                    b["cls"],
                    b["x"] * scale,
                    b["y"] * scale,
                    b["w"] * scale,
                    b["h"] * scale,
                    b.get("severity"),
                )
                for b in t["boxes"]
            )
            s.commit(
                Change(rec.id, s.annotation(rec.id), Annotation(verdict=t["verdict"], boxes=boxes))
            )
    create_version(project, "v1", "admin", ratios=(0.6, 0.2, 0.2), group_by="part", seed=0)
    return project


@pytest.fixture(scope="module")
def exports(sample_project, tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("sample-exports")
    return {
        fmt: export_project(sample_project, fmt, tmp / fmt, version="v1").out
        for fmt in EXPORT_FORMATS
    }


def test_every_split_of_coco_self_evaluates_to_ap_1(exports):
    files = sorted((exports["coco"] / "annotations").glob("instances_*.json"))
    assert [f.stem for f in files] == ["instances_test", "instances_train", "instances_val"]
    total = 0
    for f in files:
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(str(f))
            if not gt.dataset["annotations"]:
                continue
            dt = gt.loadRes([{**a, "score": 1.0} for a in gt.dataset["annotations"]])
            ev = COCOeval(gt, dt, "bbox")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        assert ev.stats[0] == pytest.approx(1.0)
        total += len(gt.imgs)
    assert total == 16


def test_parts_do_not_cross_splits(sample_project, exports):
    rows = [json.loads(x) for x in (exports["jsonl"] / "images.jsonl").open()]
    catalog = sample_project.store.catalog
    part_split: dict[str, set[str]] = {}
    for r in rows:
        part_split.setdefault(catalog.get(r["image_id"]).fields["part"], set()).add(r["split"])
    assert all(len(s) == 1 for s in part_split.values())


def test_yolo_voc_tfrecord_load(exports):
    assert check_ultralytics_dataset(exports["yolo"]) > 20
    import xml.etree.ElementTree as ET

    xmls = list((exports["voc"] / "Annotations").glob("*.xml"))
    assert len(xmls) == 16 and all(ET.parse(x).getroot().tag == "annotation" for x in xmls)
    n = sum(
        1
        for s in ("train", "val", "test")
        for _ in tfrecord.tfrecord_loader(str(exports["tfrecord"] / f"{s}.tfrecord"), None)
    )
    assert n == 16


def test_rotated_phone_photo_and_16_bit_xray(sample_project, exports):
    images = {p.name: p for p in (exports["coco"] / "images").rglob("*.*")}
    phone = images["IMG_20260314_094127.png"]  # derived canonical pixels, upright
    with Image.open(phone) as im:
        assert im.size[0] < im.size[1]
    xray = images["hub_001.tif"]
    assert xray.read_bytes() == (SAMPLES / "xray" / "hub_001.tif").read_bytes()
    with Image.open(xray) as im:
        assert np.asarray(im).dtype == np.uint16
