"""Calibration phase end to end: two blind annotators label through their sessions, the
adjudicator reads the report and decides through the CLI; the report matches values
computed by hand and every image ends with a final label."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Box
from qclabel.qa.final import final_labels

from test_qa_support import label, qa_project


def _box(cls, x):
    return edits.add_box(Box(cls, x, 0, 10, 10))


@pytest.fixture
def calibrated(tmp_path):
    p = qa_project(tmp_path, 10, dual_first_n=10, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    for i in range(6):
        for u in ("ann1", "ann2"):
            label(p, u, ids[i], edits.set_verdict("pass"))
    label(p, "ann1", ids[6], edits.set_verdict("pass"))
    label(p, "ann2", ids[6], edits.set_class("scratch", "minor"))
    # dent boxes 1 px apart: IoU 90/110, agreed
    label(p, "ann1", ids[7], edits.set_class("dent", "minor"), _box("dent", 0))
    label(p, "ann2", ids[7], edits.set_class("dent", "minor"), _box("dent", 1))
    # same scratch, other severity
    label(
        p,
        "ann1",
        ids[8],
        edits.set_class("scratch", "minor"),
        edits.add_box(Box("scratch", 0, 0, 20, 10)),
    )
    label(
        p,
        "ann2",
        ids[8],
        edits.set_class("scratch", "major"),
        edits.add_box(Box("scratch", 0, 0, 20, 10)),
    )
    # same place, other class
    label(p, "ann1", ids[9], edits.set_class("dent", "minor"), _box("dent", 0))
    label(p, "ann2", ids[9], edits.set_class("scratch", "minor"), _box("scratch", 0))
    return p, ids


def _report(p, as_user):
    as_user("adj")
    r = CliRunner().invoke(main, ["qa", "report", str(p.root), "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_report_matches_hand_computed_values(calibrated, as_user):
    p, ids = calibrated
    rep = _report(p, as_user)
    assert (rep["images"], rep["agreed"], rep["pending_dual"]) == (10, 7, 0)
    v = rep["classification"]["verdict"]
    # verdict confusion [[6, 1], [0, 3]]: po .9, pe .54, kappa .36/.46; AC1 pe .455
    assert v["confusion"] == [[6, 1], [0, 3]]
    assert v["percent"] == pytest.approx(0.9)
    assert v["kappa"] == pytest.approx(0.782609, abs=1e-4)
    assert v["ac1"] == pytest.approx(0.816514, abs=1e-4)
    assert v["pabak"] == pytest.approx(0.8)
    c = rep["classification"]["class"]
    # q = pass + 6 classes; po .8, pe .47 -> kappa .622642; AC1 pe .515/6
    assert c["percent"] == pytest.approx(0.8)
    assert c["kappa"] == pytest.approx(0.622642, abs=1e-4)
    assert c["ac1"] == pytest.approx(0.781222, abs=1e-4)
    b = rep["boxes"]
    assert b["matched_pairs"] == 3 and b["class_mismatch"] == 1
    assert b["mean_iou"] == pytest.approx((90 / 110 + 2) / 3, abs=1e-4)
    assert (b["share_at_target"], b["missing"], b["extra"]) == (1.0, 0, 0)
    assert rep["severity"]["n"] == 2 and rep["severity"]["percent"] == 0.5
    assert rep["per_class"]["scratch"]["positive_agreement"] == 0.5
    assert rep["per_class"]["dent"]["positive_agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert rep["worst_classes"] == ["scratch", "dent"]
    assert [(d["image"], d["kind"]) for d in rep["disagreements"]] == [
        (ids[6], "verdict"),
        (ids[9], "class"),
        (ids[8], "severity"),
    ]
    assert rep["per_pair"]["ann1|ann2"]["images"] == 10
    assert rep["per_task"]["(project)"]["verdict_percent"] == pytest.approx(0.9)
    checks = {c["metric"]: c for c in rep["checks"]}
    assert checks["verdict agreement"]["ok"] is False  # 0.90 < 0.95
    assert checks["box mean IoU"]["ok"] is True
    assert checks["keypoints within 5 px"]["ok"] is None


def test_adjudicator_resolves_every_disagreement(calibrated, as_user):
    p, ids = calibrated
    as_user("adj")
    runner = CliRunner()
    listed = runner.invoke(main, ["adjudicate", str(p.root), "--list"]).output.splitlines()
    names = {i: p.store.catalog.get(i).source.rsplit("/", 1)[-1] for i in ids}
    assert [line.split()[0] for line in listed] == [names[ids[6]], names[ids[9]], names[ids[8]]]
    # the file name (as listed), an id, a path tail: each names the image
    for ref, image, take, why in (
        (names[ids[6]], ids[6], "B", "scratch visible under raking light"),
        (ids[9], ids[9], "A", "depression, not a line"),
        ("images/" + names[ids[8]], ids[8], "B", "longer than 5 mm"),
    ):
        r = runner.invoke(
            main, ["adjudicate", str(p.root), "--image", ref, "--take", take, "--note", why]
        )
        assert r.exit_code == 0, r.output
        assert r.output.startswith(f"{names[image]}: final label from {take}")
    assert runner.invoke(main, ["adjudicate", str(p.root), "--list"]).output == ""
    final = final_labels(p)
    assert len(final) == 10
    assert [final[i].status for i in ids] == ["agreed"] * 6 + [
        "adjudicated",
        "agreed",
        "adjudicated",
        "adjudicated",
    ]
    assert final[ids[6]].annotation.defect_class == "scratch"
    assert final[ids[9]].annotation.defect_class == "dent"
    assert final[ids[8]].annotation.severity == "major"
    rep = _report(p, as_user)
    assert all(d["resolved"] for d in rep["disagreements"])
    log = runner.invoke(main, ["audit", "log", str(p.root), "--user", "adj"]).output
    assert log.count("final") == 3 and "longer than 5 mm" in log
