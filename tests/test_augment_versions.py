"""Augmentation as a dataset-version step on the real metal samples: what lands where,
byte-for-byte reproducibility, copy-paste labels, exports the consumers read back."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from pycocotools import mask as cocomask
from pycocotools.coco import COCO

from mask_projects import make_mask_project
from qclabel.augment.balance import build_balance
from qclabel.augment.run import AugmentError, augment_version, synthetic_ids
from qclabel.cli import main
from qclabel.core.model import Annotation
from qclabel.formats import export_project
from qclabel.versions import create_version, get_version
from test_masks_formats import ultralytics_segment_labels

RATIO = 0.25  # the samples are mostly defects: a low target makes every class short


@pytest.fixture(scope="module")
def metal(tmp_path_factory):
    project = make_mask_project(tmp_path_factory.mktemp("aug"))
    create_version(project, "v1", "admin", ratios=(0.6, 0.2, 0.2), seed=3)
    result = augment_version(project, "v1", "default", "v1-aug", "admin", to_ratio=RATIO, seed=11)
    return project, result


def _files(project, manifest):
    return {e["id"]: project.root / e["file"] for e in manifest["images"] if e.get("synthetic")}


def test_rare_classes_reach_the_ratio_with_synthetic_train_images(metal):
    project, result = metal
    before = build_balance(get_version(project, "v1"), project.config, RATIO)
    assert any(c["needed"] for c in before["classes"])
    after = build_balance(get_version(project, "v1-aug"), project.config, RATIO)
    assert all(c["meets_target"] for c in after["classes"]), after["classes"]
    assert after["synthetic"] == result["synthetic"] > 0 and result["pasted"] > 0
    assert after["good"] == before["good"]  # synthetic images are defect images
    for b, a in zip(before["classes"], after["classes"]):
        assert a["real"] == b["real"] and a["images"] == b["images"] + a["synthetic"]


def test_nothing_synthetic_in_val_or_test_and_sources_are_train_only(metal):
    project, _ = metal
    v1, aug = get_version(project, "v1"), get_version(project, "v1-aug")
    synthetic = synthetic_ids(aug)
    assert synthetic and all(aug["splits"][i] == "train" for i in synthetic)
    for split in ("val", "test"):
        assert {i for i, s in aug["splits"].items() if s == split} == {
            i for i, s in v1["splits"].items() if s == split
        }
    train_real = {i for i, s in v1["splits"].items() if s == "train"}
    for entry in aug["images"]:
        if entry.get("synthetic"):
            prov = entry["synthetic"]
            assert set(prov["sources"]) <= train_real
            assert prov["seed"] == 11 and prov["recipe"] == "default" and prov["ops"]
    # The real images and their labels are the parent's, untouched.
    assert {i: aug["labels"][i] for i in v1["labels"]} == v1["labels"]
    assert aug["settings"]["augment"][-1]["synthetic"] == synthetic


def test_same_version_recipe_and_seed_give_the_same_bytes(metal, tmp_path):
    project, result = metal
    aug = get_version(project, "v1-aug")
    before = {i: p.read_bytes() for i, p in _files(project, aug).items()}
    shutil.rmtree(project.root / result["folder"])  # made again from nothing
    again = augment_version(
        project, "v1", "default", "v1-aug-again", "admin", to_ratio=RATIO, seed=11, workers=2
    )  # and in 2 processes
    redo = get_version(project, "v1-aug-again")
    assert again["hash"] == result["hash"] and redo["labels"] == aug["labels"]
    assert {i: p.read_bytes() for i, p in _files(project, redo).items()} == before
    other = augment_version(
        project, "v1", "default", "v1-aug-seed12", "admin", to_ratio=RATIO, seed=12
    )
    assert other["hash"] != result["hash"] and other["folder"] != result["folder"]
    for entry in redo["images"]:  # the files are the ones the manifest hashed
        path = project.root / entry["file"]
        if entry.get("synthetic"):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]


def _idat(data: bytes) -> bytes:
    """The PNG's deflate stream (its IDAT chunks joined)."""
    out, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            out.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    return b"".join(out)


def test_synthetic_png_bytes_depend_on_their_pixels_only(metal):
    """ISA-L deflated the same rows to another (valid) stream now and then in a
    long-running process, so a version made inline after other work could differ from
    the same version made in fresh processes. Synthetic files are deflated by zlib,
    whose stream is a function of the rows: deflating a file's own rows again, here,
    gives its bytes exactly."""
    project, _ = metal
    files = _files(project, get_version(project, "v1-aug"))
    pngs = [p for p in files.values() if p.suffix == ".png"]
    assert pngs
    for path in pngs:
        stream = _idat(path.read_bytes())
        rows = zlib.decompress(stream)
        packer = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY)
        assert packer.compress(rows) + packer.flush() == stream, path.name


def test_pasted_defects_are_labeled_where_the_pixels_changed(metal):
    project, _ = metal
    aug = get_version(project, "v1-aug")
    by_id = {e["id"]: e for e in aug["images"]}
    pasted = [
        e
        for e in aug["images"]
        if e.get("synthetic") and e["synthetic"]["ops"][0]["op"] == "copy_paste"
    ]
    assert pasted
    for entry in pasted:
        prov = entry["synthetic"]
        dest = by_id[prov["sources"][0]]
        assert Annotation.from_dict(aug["labels"][dest["id"]]["annotation"]).verdict == "pass"
        assert dest["fields"]["part"] == entry["fields"]["part"]  # same part
        assert dest["profile"] == entry["profile"]
        ann = Annotation.from_dict(aug["labels"][entry["id"]]["annotation"])
        assert ann.verdict == "fail"
        new = [m for m in ann.masks if m.id.endswith("-m")]
        assert len(new) == 1 and new[0].area > 0
        # No geometric op after the paste: the destination's pixels are comparable.
        if any(
            o["op"] in ("hflip", "vflip", "rot90", "rotate", "scale", "crop", "perspective")
            for o in prov["ops"][1:]
        ):
            continue
        img = cv2.imread(str(project.root / entry["file"])).astype(int)
        base = cv2.imread(str(project.root / dest["file"])).astype(int)
        diff = np.abs(img - base).sum(axis=2)
        m = new[0].full(entry["width"], entry["height"]).astype(bool)
        far = cv2.dilate(m.astype(np.uint8), np.ones((41, 41), np.uint8)) == 0
        assert diff[m].mean() > diff[far].mean() + 5


def test_coco_export_marks_synthetic_images_and_reads_back(metal, tmp_path):
    project, _ = metal
    aug = get_version(project, "v1-aug")
    out = tmp_path / "coco"
    export_project(project, "coco", out, version="v1-aug")
    info = json.loads((out / "qclabel_version.json").read_text())
    names = {s["id"] for s in info["synthetic"]}
    assert names == set(synthetic_ids(aug))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(out / "annotations" / "instances_train.json"))
    marked = [im for im in coco.dataset["images"] if im["synthetic"]]
    assert len(marked) == len(names)
    for im in marked:
        assert (out / "images" / "train" / im["file_name"]).is_file()
        assert im["synthetic_sources"]
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[im["id"]])):
            if ann["segmentation"]:
                m = coco.annToMask(ann)
                assert m.shape == (im["height"], im["width"]) and m.sum() == ann["area"]
                x, y, w, h = cocomask.toBbox(cocomask.encode(np.asfortranarray(m)))
                assert [x, y, w, h] == pytest.approx(ann["bbox"], abs=1)
    for split in ("val", "test"):
        path = out / "annotations" / f"instances_{split}.json"
        if path.is_file():
            doc = json.loads(path.read_text())
            assert not any(im["synthetic"] for im in doc["images"])


def test_no_synthetic_export_and_yolo_and_csv(metal, tmp_path):
    project, _ = metal
    aug = get_version(project, "v1-aug")
    real = export_project(project, "coco", tmp_path / "real", version="v1-aug", no_synthetic=True)
    doc = json.loads((tmp_path / "real/annotations/instances_train.json").read_text())
    assert doc["images"] and not any("synthetic" in im for im in doc["images"])
    info = json.loads((tmp_path / "real/qclabel_version.json").read_text())
    assert info["synthetic_left_out"] == len(synthetic_ids(aug)) and "synthetic" not in info
    assert real.images == len(aug["labels"]) - len(synthetic_ids(aug))
    export_project(project, "yolo", tmp_path / "yolo", version="v1-aug", task="segment")
    labels = ultralytics_segment_labels(tmp_path / "yolo")
    stems = {Path(e["file"]).stem for e in aug["images"] if e.get("synthetic")}
    assert stems <= set(labels) and all(labels[s] for s in stems)
    export_project(project, "csv", tmp_path / "csv", version="v1-aug")
    import csv

    rows = list(csv.DictReader((tmp_path / "csv/images.csv").open()))
    assert sum(r["synthetic"] == "1" for r in rows) == len(synthetic_ids(aug))
    assert all(r["split"] == "train" for r in rows if r["synthetic"] == "1")
    # A real-only export keeps the bytes it always had: no synthetic column.
    export_project(project, "csv", tmp_path / "csv1", version="v1")
    assert "synthetic" not in (tmp_path / "csv1/images.csv").read_text().splitlines()[0]


def test_refusals(metal, as_user):
    project, _ = metal
    with pytest.raises(AugmentError, match="already exists"):
        augment_version(project, "v1", "default", "v1-aug", "admin", to_ratio=RATIO)
    runner = CliRunner()
    as_user("admin")
    r = runner.invoke(
        main,
        ["augment", str(project.root), "--version", "v1", "--recipe", "nope", "--out-version", "x"],
    )
    assert r.exit_code != 0 and "qclabel: error:" in r.output and "nope" in r.output
    r = runner.invoke(main, ["augment", str(project.root), "--version", "v9", "--out-version", "x"])
    assert r.exit_code != 0 and "no dataset version 'v9'" in r.output
    r = runner.invoke(
        main,
        ["augment", str(project.root), "--version", "v1", "--out-version", "x", "--to-ratio", "-1"],
    )
    assert r.exit_code != 0 and "--to-ratio" in r.output
    as_user("alice")  # an annotator: not an admin
    r = runner.invoke(
        main, ["augment", str(project.root), "--version", "v1", "--out-version", "x2"]
    )
    assert r.exit_code != 0 and "admin" in r.output
    r = runner.invoke(main, ["balance", str(project.root)])
    assert r.exit_code != 0 and "adjudicator" in r.output
    assert "x" not in [n for n in project.store.documents("versions").names()]


def test_cli_balance_and_augment(metal, as_user, tmp_path):
    project, _ = metal
    as_user("admin")
    runner = CliRunner()
    r = runner.invoke(
        main, ["balance", str(project.root), "--version", "v1", "--json", "--to-ratio", str(RATIO)]
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert {c["class"] for c in report["classes"]} >= {"crack", "burr", "scratch"}
    assert set(report["splits"]) == {"train", "val", "test"}
    assert set(report["fields"]) == {"lot", "station", "camera"}
    r = runner.invoke(main, ["balance", str(project.root), "--version", "v1"])
    assert r.exit_code == 0 and "collect more" in r.output and "crack" in r.output
    r = runner.invoke(
        main,
        [
            "augment",
            str(project.root),
            "--version",
            "v1",
            "--out-version",
            "cli-aug",
            "--to-ratio",
            "0.5",
            "--seed",
            "2",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "created dataset version cli-aug from v1" in r.output
    assert synthetic_ids(get_version(project, "cli-aug"))
