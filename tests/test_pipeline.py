"""`qclabel pipeline run`: new sample images reach a new exported version in one command,
a second run with nothing new changes no byte, runs are in the audit trail, the gates
hold a version back, and bad configuration is one clear line."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pycocotools.coco import COCO

from qclabel.cli import main
from qclabel.core.edits import Change
from qclabel.core.model import Annotation, Box
from qclabel.pipeline import LOCK, PipelineBusy, _locked
from qclabel.project import Project
from qclabel.versions import list_names

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
METAL = sorted((SAMPLES / "metal").glob("*.jpg"))


def tree(*roots: Path) -> dict[str, str]:
    """path -> sha256 of every file under the roots (hidden files and locks included)."""
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def line(tmp_path, as_user):
    """A project fed from an incoming folder, exporting YOLO and COCO."""
    p = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    p.add_role("admin", "ann1", "annotator")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    p.config["qa"].update(dual_first_n=0, spot_check_rate=0.0)
    p.config["pipeline"] = {
        "version_prefix": "line4",
        "split": [0.5, 0.5],
        "group_by": "part",
        "sources": [{"path": str(incoming), "profile": "area-scan"}],
        "exports": [
            {"format": "yolo", "task": "detect", "out": str(tmp_path / "yolo")},
            {"format": "coco", "out": "../coco", "images": "none"},
        ],
    }
    p.save_config()
    as_user("admin")
    return Project.open(p.root), incoming, tmp_path


def arrive(incoming: Path, files: list[Path]) -> None:
    for f in files:
        shutil.copy2(f, incoming / f.name)


def label_from_truth(p: Project, user: str = "ann1") -> int:
    """The annotator labels every unlabeled image as the ground truth says."""
    n = 0
    with p.store.open_session(user) as s:
        for rec in p.store.catalog.all():
            if s.annotation(rec.id).is_labeled:
                continue
            t = TRUTH[f"metal/{Path(rec.source).name}"]
            boxes = tuple(
                Box(b["cls"], b["x"], b["y"], b["w"], b["h"], b.get("severity")) for b in t["boxes"]
            )
            s.commit(
                Change(rec.id, s.annotation(rec.id), Annotation(verdict=t["verdict"], boxes=boxes))
            )
            n += 1
    return n


def run(p: Project, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["pipeline", "run", str(p.root), *args])
    return r.exit_code, r.output


def test_new_images_reach_an_exported_version_and_a_second_run_changes_nothing(line):
    p, incoming, tmp = line
    arrive(incoming, METAL[:6])
    before = tree(p.root)
    code, out = run(p, "--dry-run")
    assert code == 0 and "would add 6 image(s)" in out, out
    assert tree(p.root) == before  # a dry run writes nothing

    code, out = run(p)
    assert code == 0 and "add 6 image(s)" in out and "no final labels yet" in out, out
    assert len(Project.open(p.root).store.catalog) == 6 and list_names(p) == []
    queue = json.loads((p.root / "queues" / "ann1.json").read_text())
    assert len(queue["items"]) == 6  # the plan reached the annotator

    assert label_from_truth(Project.open(p.root)) == 6
    code, out = run(p)
    assert code == 0 and "version line4-0001: create (6 images)" in out, out
    yolo, coco = tmp / "yolo", tmp / "coco"
    info = json.loads((yolo / "qclabel_version.json").read_text())
    assert info["version"] == "line4-0001" and info["format"] == "yolo"
    assert info["qa"]["evidence"]["gates"] == []
    with contextlib.redirect_stdout(io.StringIO()):
        images = sum(
            len(COCO(str(f)).getImgIds()) for f in (coco / "annotations").glob("instances_*.json")
        )
    assert images == 6
    boxes = sum(len(TRUTH[f"metal/{f.name}"]["boxes"]) for f in METAL[:6])
    rows = sum(len(f.read_text().splitlines()) for f in (yolo / "labels").rglob("*.txt"))
    assert rows == boxes

    snapshot = tree(p.root, yolo, coco)
    code, out = run(p)
    assert code == 0 and out.startswith("nothing new"), out
    assert "final labels unchanged since line4-0001" in out and "up to date" in out
    assert tree(p.root, yolo, coco) == snapshot  # byte-identical


def test_every_changing_run_is_in_the_audit_trail(line):
    p, incoming, tmp = line
    arrive(incoming, METAL[:3])
    run(p)
    label_from_truth(Project.open(p.root))
    run(p)
    run(p)  # nothing new: not logged
    log = CliRunner().invoke(main, ["audit", "log", str(p.root), "--json"]).output
    events = [e for e in map(json.loads, log.splitlines()) if e["kind"] == "pipeline"]
    assert len(events) == 2
    assert events[0]["after"]["ingested"] == {str(incoming): 3}
    assert events[1]["after"]["version"] == "line4-0001"
    assert all(e["user"] == "admin" for e in events)
    assert CliRunner().invoke(main, ["audit", "verify", str(p.root)]).exit_code == 0


def test_later_images_make_the_next_version_once_labeled(line):
    p, incoming, tmp = line
    arrive(incoming, METAL[:4])
    run(p)
    label_from_truth(Project.open(p.root))
    run(p)
    arrive(incoming, METAL[4:9])
    code, out = run(p)
    assert "add 5 image(s)" in out and "unchanged since line4-0001" in out, out
    label_from_truth(Project.open(p.root))
    code, out = run(p)
    assert "version line4-0002: create (9 images)" in out, out
    info = json.loads((tmp / "yolo" / "qclabel_version.json").read_text())
    assert info["version"] == "line4-0002"
    assert list_names(p) == ["line4-0001", "line4-0002"]


def test_failing_gates_hold_the_version_back(line):
    p, incoming, tmp = line
    p.config["qa"]["gates"] = {"class_agreement": 0.9}
    p.save_config()
    arrive(incoming, METAL[:2])
    run(p)
    label_from_truth(Project.open(p.root))
    code, out = run(p)
    assert code == 0 and "gate class_agreement: FAIL" in out
    assert "quality gates not passed: class_agreement" in out
    assert list_names(p) == [] and not (tmp / "yolo").exists()


def test_bad_files_are_reported_and_the_rest_goes_on(line):
    p, incoming, tmp = line
    arrive(incoming, METAL[:2])
    (incoming / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    code, out = run(p)
    assert code == 1 and "not ingested:" in out and "broken.jpg" in out
    assert "add 2 image(s)" in out


def test_configuration_errors_and_permissions(line, as_user):
    p, incoming, tmp = line
    p.config["pipeline"]["exports"][0]["format"] = "parquet"
    p.save_config()
    code, out = run(p)
    assert code == 2 and "pipeline.exports[0].format = 'parquet'" in out
    p.config["pipeline"]["exports"][0].update(format="yolo", split=[0.9, 0.1])
    p.save_config()
    code, out = run(p)
    assert code == 2 and "pipeline.exports[0].split" in out and "one split" in out
    p.config["pipeline"]["exports"][0]["split"] = [8, 1, 1]  # refused, not renormalized
    p.save_config()
    code, out = run(p)
    assert code == 2 and "pipeline.exports[0].split" in out and "add up to 10, not 1" in out
    del p.config["pipeline"]
    p.save_config()
    assert "no [pipeline] table" in run(p)[1]
    as_user("ann1")
    assert run(p)[0] == 3


def test_one_run_at_a_time(line):
    p, incoming, tmp = line
    with _locked(p.root):
        with pytest.raises(PipelineBusy, match="another pipeline run is in progress"):
            with _locked(p.root):
                pass
    assert (p.root / LOCK).exists()
