"""Blind dual annotation: no annotator sees the other's labels until adjudication."""

from __future__ import annotations

import json

from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.qa.blind import protected_images, visible_labels
from qclabel.qa.decisions import adjudicate

from test_qa_support import label, qa_project


def _dual_project(tmp_path):
    p = qa_project(tmp_path, 4, dual_first_n=2, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    label(p, "ann1", ids[0], edits.set_class("scratch", "minor"))
    label(p, "ann2", ids[0], edits.set_class("crack", "critical"))
    return p, ids


def test_annotator_sees_only_own_labels_on_dual_image(tmp_path):
    p, ids = _dual_project(tmp_path)
    assert set(visible_labels(p, "ann1", ids[0])) == {"ann1"}
    assert visible_labels(p, "ann2", ids[0])["ann2"].defect_class == "crack"
    assert set(visible_labels(p, "ann2", ids[0])) == {"ann2"}
    assert set(visible_labels(p, "rev", ids[0])) == set()
    assert set(visible_labels(p, "adj", ids[0])) == {"ann1", "ann2"}
    assert set(visible_labels(p, "admin", ids[0])) == {"ann1", "ann2"}


def test_adjudication_lifts_blindness(tmp_path):
    p, ids = _dual_project(tmp_path)
    with p.store.open_session("adj") as s:
        adjudicate(p, s, ids[0], "B", p.store.state("ann2").annotation(ids[0]), "crack visible")
    assert ids[0] not in protected_images(p)
    assert set(visible_labels(p, "ann1", ids[0])) == {"ann1", "ann2"}


def test_single_images_are_visible_and_double_labeled_singles_are_protected(tmp_path):
    p, ids = _dual_project(tmp_path)
    label(p, "ann1", ids[2], edits.set_verdict("pass"))  # planned single for ann1
    assert set(visible_labels(p, "rev", ids[2])) == {"ann1"}
    label(p, "ann2", ids[2], edits.set_verdict("fail"))  # labeled twice outside the plan
    assert ids[2] in protected_images(p)
    assert set(visible_labels(p, "ann2", ids[2])) == {"ann2"}


def test_status_does_not_count_the_other_annotators_dual_labels(tmp_path, as_user):
    p, _ = _dual_project(tmp_path)
    as_user("ann1")
    r = CliRunner().invoke(main, ["status", str(p.root), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["classes"]["scratch"] == 1 and s["classes"]["crack"] == 0
    assert "ann2" not in s["annotators"] or s["annotators"]["ann2"]["labeled"] == 0
    as_user("adj")
    s = json.loads(CliRunner().invoke(main, ["status", str(p.root), "--json"]).output)
    assert s["classes"]["scratch"] == 1 and s["classes"]["crack"] == 1


def test_audit_log_shows_an_annotator_only_their_own_events(tmp_path, as_user):
    p, ids = _dual_project(tmp_path)
    as_user("ann1")
    r = CliRunner().invoke(main, ["audit", "log", str(p.root), "--json"])
    assert r.exit_code == 0, r.output
    events = [json.loads(line) for line in r.output.splitlines()]
    assert {e["user"] for e in events} == {"ann1"}
    assert events[0]["after"]["defect_class"] == "scratch"
    text = CliRunner().invoke(main, ["audit", "log", str(p.root)]).output
    assert "crack" not in text and "ann2" not in text and "scratch" in text
    as_user("adj")
    text = CliRunner().invoke(main, ["audit", "log", str(p.root)]).output
    assert "crack" in text and "scratch" in text
