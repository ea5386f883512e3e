"""The calibration phase on the bundled sample project: two annotators label the metal
parts (one from the ground truth, one with two mistakes), the adjudicator reads the
report and resolves both disagreements through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qclabel import identity
from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Box
from qclabel.demo import make_demo_project
from qclabel.qa.final import final_labels

from test_qa_support import label

GROUND_TRUTH = Path(__file__).resolve().parent.parent / "samples" / "ground_truth.json"


def truth_edits(gt: dict, drop_last_box: bool = False) -> list:
    steps = [edits.set_verdict(gt["verdict"])]
    boxes = gt.get("boxes", [])[:-1] if drop_last_box else gt.get("boxes", [])
    steps += [
        edits.add_box(Box(b["cls"], b["x"], b["y"], b["w"], b["h"], b.get("severity")))
        for b in boxes
    ]
    return steps


def test_calibration_on_the_sample_project(tmp_path, as_user):
    project = make_demo_project(tmp_path / "demo")
    admin = identity.current_user()
    for user, role in (("ann1", "annotator"), ("ann2", "annotator"), ("adj", "adjudicator")):
        project.add_role(admin, user, role)
    truth = json.loads(GROUND_TRUTH.read_text())["files"]
    by_image = {}
    for rec in project.store.catalog.all():
        key = next(k for k in truth if rec.file.endswith(k))
        by_image[rec.id] = truth[key]
    ids = project.store.catalog.ids()
    first_pass = next(i for i in ids if by_image[i]["verdict"] == "pass")
    first_fail = next(i for i in ids if len(by_image[i].get("boxes", [])) >= 2)
    for image in ids:
        gt = by_image[image]
        label(project, "ann1", image, *truth_edits(gt))
        if image == first_pass:
            label(project, "ann2", image, edits.set_class("scratch", "minor"))
        else:
            label(project, "ann2", image, *truth_edits(gt, drop_last_box=image == first_fail))

    as_user("adj")
    r = CliRunner().invoke(main, ["qa", "report", str(project.root), "--format", "json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    n = len(ids)
    fails = sum(by_image[i]["verdict"] == "fail" for i in ids)
    passes = n - fails
    assert (rep["images"], rep["agreed"]) == (n, n - 2)
    v = rep["classification"]["verdict"]
    assert v["confusion"] == [[passes - 1, 1], [0, fails]]
    # by hand: po = (n-1)/n; pA(pass) = passes/n, pB(pass) = (passes-1)/n
    po = (n - 1) / n
    pe = (passes * (passes - 1) + fails * (fails + 1)) / n**2
    assert v["percent"] == pytest.approx(po, abs=1e-4)
    assert v["kappa"] == pytest.approx((po - pe) / (1 - pe), abs=1e-4)
    boxes_total = sum(len(by_image[i].get("boxes", [])) for i in ids)
    assert rep["boxes"]["matched_pairs"] == boxes_total - 1
    assert rep["boxes"]["missing"] == 1 and rep["boxes"]["extra"] == 0
    assert rep["boxes"]["mean_iou"] == 1.0
    assert [(d["image"], d["kind"]) for d in rep["disagreements"]] == [
        (first_pass, "verdict"),
        (first_fail, "geometry"),
    ]

    for image, take in ((first_pass, "A"), (first_fail, "A")):
        r = CliRunner().invoke(
            main,
            [
                "adjudicate",
                str(project.root),
                "--image",
                image,
                "--take",
                take,
                "--note",
                "matches the part",
            ],
        )
        assert r.exit_code == 0, r.output
    final = final_labels(project)
    assert len(final) == n
    assert sorted(f.status for f in final.values()).count("adjudicated") == 2
    assert len(final[first_fail].annotation.boxes) == len(by_image[first_fail]["boxes"])
