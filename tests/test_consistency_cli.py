"""Consistency outside the app: `qclabel check`, `status`, and detection exports that
leave incomplete images out (read back by their consumers) with a count."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import tfrecord
from click.testing import CliRunner
from pycocotools.coco import COCO

from qclabel.cli import main
from qclabel.core.edits import Change
from qclabel.core.model import Annotation, Box
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from test_qa_support import write_images

# part_0000 fail crack, no box        -> incomplete
# part_0001 fail scratch with a box   -> fine
# part_0002 pass                      -> fine (a background image)
# part_0003 pass with a box (written before the rule existed) -> pass-with-objects
# part_0004 fail dent, no box         -> incomplete
LABELS = {
    0: Annotation(verdict="fail", defect_class="crack", severity="critical"),
    1: Annotation(
        verdict="fail",
        defect_class="scratch",
        severity="minor",
        boxes=(Box("scratch", 2, 2, 12, 8, "minor"),),
    ),
    2: Annotation(verdict="pass"),
    3: Annotation(verdict="pass", boxes=(Box("dent", 4, 4, 10, 10, "minor"),)),
    4: Annotation(verdict="fail", defect_class="dent", severity="major"),
}


@pytest.fixture
def proj(tmp_path, as_user):
    as_user("admin")
    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    ingest_paths(project, [write_images(tmp_path / "images", 6)], workers=1)
    ids = project.store.catalog.ids()
    with project.store.open_session("alice") as s:  # straight to the journal
        for n, ann in LABELS.items():
            s.commit(Change(ids[n], s.annotation(ids[n]), ann))
    return project


def run(*args) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


def test_check_lists_every_inconsistency_with_file_annotator_rule_detail(proj):
    code, out, _ = run("check", proj.root)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["part_0000.png", "alice", "incomplete"]
    assert "fail without any box" in lines[0]
    assert lines[1].split()[:3] == ["part_0003.png", "alice", "pass-with-objects"]
    assert "pass with 1 box" in lines[1]
    assert lines[2].split()[:3] == ["part_0004.png", "alice", "incomplete"]
    assert lines[3] == "3 findings: pass-with-objects 1 image, incomplete 2 images"
    code, out, _ = run("check", proj.root, "--json")
    found = json.loads(out)
    assert code == 1
    assert [(f["file"], f["annotator"], f["kind"], f["rule"]) for f in found] == [
        ("part_0000.png", "alice", "label", "incomplete"),
        ("part_0003.png", "alice", "label", "pass-with-objects"),
        ("part_0004.png", "alice", "label", "incomplete"),
    ]
    assert found[1]["blocking"] is True and found[0]["blocking"] is False


def test_check_passes_a_consistent_project(tmp_path, as_user):
    as_user("admin")
    p = Project.init(tmp_path / "p", "metal-stamping", user="admin")
    code, out, _ = run("check", p.root)
    assert (code, out.strip()) == (0, "no inconsistencies")
    assert json.loads(run("check", p.root, "--json")[1]) == []


def test_check_covers_final_labels_and_a_changed_taxonomy(proj):
    ids = proj.store.catalog.ids()
    proj.add_role("admin", "adj", "adjudicator")  # a final counts only from one
    with proj.store.open_session("adj") as s:  # a final label written straight
        s.record(
            "final",
            ids[2],
            None,
            {"annotation": LABELS[0].to_dict(), "source": "A", "annotators": ["alice"]},
            "x",
        )
    proj.config["taxonomy"]["classes"] = [
        c for c in proj.config["taxonomy"]["classes"] if c["name"] != "dent"
    ]
    proj.save_config()
    found = json.loads(run("check", proj.root, "--json")[1])
    rules = {(f["file"], f["annotator"], f["kind"], f["rule"]) for f in found}
    assert ("part_0002.png", "adj", "final", "incomplete") in rules
    assert ("part_0004.png", "alice", "label", "unknown-class") in rules


def test_status_counts_incomplete_images(proj):
    code, out, _ = run("status", proj.root, "--json")
    s = json.loads(out)
    assert s["consistency"]["incomplete"] == 2 and s["consistency"]["pass-with-objects"] == 1
    assert s["consistency"]["unknown-class"] == 0
    text = run("status", proj.root)[1]
    assert "checks    pass-with-objects 1  incomplete 2  (qclabel check lists them)" in text


def names(folder: Path, pattern: str) -> set[str]:
    return {p.name.split(".")[0] for p in folder.glob(pattern)}


def test_yolo_detect_leaves_incomplete_images_out_and_writes_no_empty_fail_file(proj, tmp_path):
    code, out, err = run("export", proj.root, "--format", "yolo", "--out", tmp_path / "y")
    assert code == 0, err
    assert "exported 3 images" in out
    assert "left out 2 incomplete images (fail without any box" in out
    labels = tmp_path / "y" / "labels" / "train"
    files = {p.stem: p.read_text() for p in labels.glob("*.txt")}
    assert set(files) == {"part_0001", "part_0002", "part_0003"}
    assert files["part_0002"] == ""  # the pass image: a true background file
    assert files["part_0001"].strip() and files["part_0003"].strip()
    assert names(tmp_path / "y" / "images" / "train", "*") == set(files)
    info = json.loads((tmp_path / "y" / "qclabel_version.json").read_text())
    assert info["left_out_incomplete"] == 2 and info["images"] == {"train": 3}


def test_coco_voc_tfrecord_leave_them_out_too(proj, tmp_path):
    for fmt in ("coco", "voc", "tfrecord"):
        code, out, err = run("export", proj.root, "--format", fmt, "--out", tmp_path / fmt)
        assert code == 0 and "left out 2 incomplete images" in out, (fmt, out, err)
    coco = COCO(str(tmp_path / "coco" / "annotations" / "instances_train.json"))
    assert sorted(i["file_name"] for i in coco.imgs.values()) == [
        "part_0001.png",
        "part_0002.png",
        "part_0003.png",
    ]
    voc = {
        ET.parse(p).find("filename").text for p in (tmp_path / "voc" / "Annotations").glob("*.xml")
    }
    assert voc == {"part_0001.png", "part_0002.png", "part_0003.png"}
    recs = list(tfrecord.tfrecord_loader(str(tmp_path / "tfrecord" / "train.tfrecord"), None))
    assert sorted(bytes(r["image/filename"]).decode() for r in recs) == [
        "part_0001.png",
        "part_0002.png",
        "part_0003.png",
    ]


def test_tabular_and_classification_exports_keep_them(proj, tmp_path):
    code, out, _ = run("export", proj.root, "--format", "csv", "--out", tmp_path / "c")
    assert code == 0 and "exported 5 images" in out and "left out" not in out
    with open(tmp_path / "c" / "images.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 5
    code, out, _ = run(
        "export", proj.root, "--format", "yolo", "--task", "classify", "--out", tmp_path / "k"
    )
    assert code == 0 and "left out" not in out
    assert (tmp_path / "k" / "train" / "crack" / "part_0000.png").exists()


def test_a_frozen_version_keeps_them_and_its_detection_export_leaves_them_out(proj, tmp_path):
    assert run("version", "create", proj.root, "v1")[0] == 0
    assert json.loads(run("version", "show", proj.root, "v1")[1])["images"] == 5
    code, out, _ = run(
        "export", proj.root, "--format", "yolo", "--version", "v1", "--out", tmp_path / "y"
    )
    assert code == 0 and "exported 3 images (version v1" in out and "left out 2" in out
