"""Annotator analytics from journals with known timestamps: weekly counts, seconds per
image by task without idle gaps, agreement with the pair and with finals, golden
accuracy, spot-check corrections, confusion and drift; CLI text, JSON and Markdown."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core.model import Annotation, Box
from qclabel.qa import golden
from qclabel.qa.analytics import build_analytics, task_of, timing, week_of
from qclabel.qa.decisions import adjudicate, review

from test_qa_support import qa_project

PASS = Annotation(verdict="pass")
DENT = Annotation(verdict="fail", defect_class="dent", severity="minor")
SCRATCH_BOX = Annotation(
    verdict="fail",
    defect_class="scratch",
    severity="minor",
    boxes=(Box("scratch", 1, 1, 8, 8, "minor", id="b1"),),
)


def ts(day: str, secs: int) -> str:
    """2025-01-06 is the Monday of ISO week 2025-W02."""
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return f"2025-01-{day}T{8 + h:02d}:{m:02d}:{s:02d}.000+00:00"


def put(p, user, image, ann, when, kind="label"):
    with p.store.open_session(user) as s:
        s.record(kind, image, s.get(image, kind), ann.to_dict(), ts=when)


@pytest.fixture
def timeline(tmp_path):
    p = qa_project(tmp_path, 12, dual_first_n=4, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    # week 2025-W02 (Mon 6 Jan): ann1 labels 4 dual images 10 s apart, a 1 h break,
    # then 2 more 30 s apart; ann2 labels the dual images too (2 agree, 2 do not)
    for k, image in enumerate(ids[:4]):
        put(p, "ann1", image, PASS, ts("06", 10 * k))
        put(p, "ann2", image, PASS if k < 2 else DENT, ts("06", 5 * k))
    put(p, "ann1", ids[4], DENT, ts("06", 3600))
    put(p, "ann1", ids[5], PASS, ts("06", 3630))
    # week 2025-W03 (Mon 13 Jan): boxes, 40 s apart
    for k, image in enumerate(ids[6:9]):
        put(p, "ann1", image, SCRATCH_BOX, ts("13", 40 * k))
    with p.store.open_session("adj") as s:  # the adjudicator sides with ann2 on ids[2]
        adjudicate(p, s, ids[2], "B", DENT, "dent is visible")
        adjudicate(p, s, ids[3], "A", PASS, "no dent")
    with p.store.open_session("rev") as s:  # ann1's single images: one corrected
        review(p, s, ids[4], None)
        review(p, s, ids[5], DENT, "missed the dent")
    return p, ids


def test_helpers_week_task_and_idle_gaps():
    assert week_of("2025-01-06T08:00:00+00:00") == "2025-W02"
    assert week_of("2025-01-05T23:59:00+00:00") == "2025-W01"
    assert task_of(Annotation(), SCRATCH_BOX) == "box"
    assert task_of(Annotation(), DENT) == "classification"
    assert task_of(Annotation(), PASS) == "passfail"
    events = [
        {"ts": ts("06", t), "image": f"i{t}", "before": None, "after": PASS.to_dict()}
        for t in (0, 10, 700, 705)
    ]
    assert [secs for *_, secs in timing(events, idle_s=300)] == [None, 10.0, None, 5.0]


def test_weekly_figures_of_one_annotator(timeline):
    p, ids = timeline
    a = build_analytics(p)["annotators"]["ann1"]
    w2, w3 = a["weeks"]["2025-W02"], a["weeks"]["2025-W03"]
    assert (w2["images"], w2["objects"], w3["images"], w3["objects"]) == (6, 0, 3, 3)
    # W02: gaps 10, 10, 10 (dual images), 3590 s idle (left out), then 30 s
    assert w2["seconds_by_task"] == {"passfail": pytest.approx((10 + 10 + 10 + 30) / 4)}
    assert w3["seconds_by_task"] == {"box": 40.0}
    assert a["totals"]["seconds_per_image"] == pytest.approx((60 + 80) / 6, abs=0.05)
    # the pair agreed on 2 of 4 dual images; finals: ids[2] went to B, ids[3] to A
    assert (w2["agreement_other"], w2["agreement_other_n"]) == (0.5, 4)
    assert (a["totals"]["agreement_final"], a["totals"]["agreement_final_n"]) == (0.5, 2)
    assert a["confusion"] == {"pass": {"dent": 1, "pass": 1}}
    assert a["totals"]["correction_rate"] == 0.5
    ann2 = build_analytics(p)["annotators"]["ann2"]
    assert ann2["confusion"] == {"dent": {"dent": 1, "pass": 1}}  # right on ids[2] only


def test_golden_accuracy_and_drift_per_week(timeline):
    p, ids = timeline
    with p.store.open_session("admin") as s:
        for image in ids[9:12]:
            golden.promote(p, s, image, "reference", PASS, "import:x")
    put(p, "ann1", ids[9], PASS, ts("13", 200))  # right, W03
    put(p, "ann1", ids[10], DENT, ts("20", 0))  # wrong, W04
    put(p, "ann1", ids[11], DENT, ts("20", 20))  # wrong, W04
    a = build_analytics(p, user="ann1")["annotators"]
    assert list(a) == ["ann1"]
    weeks = a["ann1"]["weeks"]
    assert (weeks["2025-W03"]["golden_accuracy"], weeks["2025-W04"]["golden_accuracy"]) == (
        1.0,
        0.0,
    )
    d = a["ann1"]["drift"]["golden_accuracy"]
    assert d == {"week": "2025-W04", "last": 0.0, "before": 1.0, "change": -1.0}


def test_cli_formats_and_permission(timeline, as_user):
    p, ids = timeline
    as_user("ann1")
    out = CliRunner().invoke(main, ["qa", "analytics", str(p.root)])
    assert out.exit_code == 3 and "may not read the annotator analytics" in out.output
    as_user("adj")
    text = CliRunner().invoke(main, ["qa", "analytics", str(p.root)]).output
    assert "ann1:" in text and "2025-W02" in text and "seconds per image by task" in text
    md = CliRunner().invoke(main, ["qa", "analytics", str(p.root), "--format", "md"]).output
    assert md.startswith("# Annotator analytics") and "| week | images |" in md
    assert "### confusion against finals" in md
    data = json.loads(CliRunner().invoke(main, ["qa", "analytics", str(p.root), "--json"]).output)
    assert data["annotators"]["ann1"]["weeks"]["2025-W03"]["objects"] == 3


def test_adjudicated_finals_looked_up_only_where_decided(timeline, monkeypatch):
    """Analytics asks final_labels for the decided and golden images only; that gives
    exactly the adjudicated finals of the whole catalog (agreed, reviewed and single
    ones are never adjudicated)."""
    from qclabel.qa import final

    p, ids = timeline
    with p.store.open_session("admin") as s:
        golden.promote(p, s, ids[7], "reference", SCRATCH_BOX, "import:x")  # not adjudicated
        golden.promote(p, s, ids[2], "its decision")  # the reference: its final label
    assert golden.golden_set(p)[ids[2]].annotation == DENT
    whole = {i: f for i, f in final.final_labels(p, "single").items() if f.status == "adjudicated"}
    assert set(whole) == {ids[2], ids[3], ids[7]}
    asked: list[set] = []
    real = final.final_labels

    def spy(project, min_status=None, agree=None, images=None):
        asked.append(set(images) if images is not None else None)
        return real(project, min_status, agree, images)

    monkeypatch.setattr(final, "final_labels", spy)
    build_analytics(p)
    assert asked == [{ids[2], ids[3], ids[7]}]
    assert real(p, "adjudicated", images=asked[0]) == whole
    assert real(p, "single", images=[ids[4], "not-an-image"]) == {ids[4]: real(p, "single")[ids[4]]}
