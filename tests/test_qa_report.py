"""The report function: progress, cancellation, keypoint section, text and Markdown."""

from __future__ import annotations

import pytest

from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
from qclabel.project import DEFAULT_QA
from qclabel.qa.report import DualPair, ReportCancelled, compute_report
from qclabel.qa.report_format import format_report

CLASSES = ["scratch", "dent"]


def _pairs(n: int) -> list[DualPair]:
    out = []
    for i in range(n):
        a = Annotation(
            verdict="fail", defect_class="dent", boxes=(Box("dent", 0, 0, 10, 10, id="a"),)
        )
        b = Annotation(
            verdict="fail",
            defect_class="dent" if i % 4 else "scratch",
            boxes=(Box("dent", 0, 0, 10, 10, id="b"),),
        )
        out.append(DualPair(f"img{i:03d}", "ann1", "ann2", a, b))
    return out


def test_progress_reaches_the_end_and_cancel_stops(tmp_path):
    seen = []
    rep = compute_report(_pairs(40), CLASSES, DEFAULT_QA, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (40, 40) and len(seen) > 2
    assert rep["classification"]["class"]["percent"] == pytest.approx(0.75)
    assert len(rep["disagreements"]) == 10
    with pytest.raises(ReportCancelled):
        compute_report(_pairs(40), CLASSES, DEFAULT_QA, cancel=lambda: True)


def _kp(dx: float) -> Annotation:
    pts = (Keypoint("p1", 10 + dx, 10, 2), Keypoint("p2", 50 + dx, 40, 2))
    return Annotation(verdict="pass", keypoints=(KeypointSet("bracket", pts, id="k"),))


def test_keypoint_section_and_formats():
    duals = [
        DualPair("k1", "ann1", "ann2", _kp(0), _kp(3)),
        DualPair("k2", "ann1", "ann2", _kp(0), _kp(8)),
    ]
    rep = compute_report(duals, CLASSES, DEFAULT_QA, {"bracket": ("p1", "p2")})
    k = rep["keypoints"]
    assert k["points"] == 4 and k["mean_px"] == pytest.approx(5.5)
    assert k["pck"] == 0.5  # the 3 px pair is within 5 px, the 8 px pair is not
    assert k["per_point"]["bracket.p1"]["max_px"] == 8.0
    text = format_report(rep, "text")
    assert "keypoints within 5 px" in text and "BELOW TARGET" in text
    assert "k2" in text and "keypoint(s) beyond 5 px" in text
    assert "confusion (class, A rows, B columns)" in text
    md = format_report(rep, "md")
    assert "| metric | value | target | status |" in md
    assert md.startswith("# QA report")


def test_per_task_and_per_pair_groups():
    from dataclasses import replace

    duals = [
        replace(p, task="left" if n < 8 else "right", b_user="ann3" if n % 2 else "ann2")
        for n, p in enumerate(_pairs(12))
    ]
    rep = compute_report(duals, CLASSES, DEFAULT_QA)
    # _pairs: every 4th image (0, 4, 8) has B's class scratch instead of dent
    assert rep["per_task"]["left"]["images"] == 8
    assert rep["per_task"]["left"]["class_percent"] == pytest.approx(6 / 8)
    assert rep["per_task"]["right"]["class_percent"] == pytest.approx(3 / 4)
    assert (
        rep["per_pair"]["ann1|ann2"]["agreed"] == 3 and rep["per_pair"]["ann1|ann3"]["agreed"] == 6
    )
    assert [r["annotator"] for r in rep["worst_annotators"]] == ["ann2", "ann1", "ann3"]
    assert "task" in format_report(rep) and "right" in format_report(rep)
