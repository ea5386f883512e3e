"""Reviews, consensus requests, adjudications, role refusals and final labels."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.errors import ConfigError, PermissionDenied
from qclabel.qa.decisions import (
    DecisionError,
    adjudicate,
    adjudication_queue,
    request_consensus,
    review,
)
from qclabel.qa.final import final_labels
from qclabel.store.audit import iter_log

from test_qa_support import label, qa_project


@pytest.fixture
def dual(tmp_path):
    """Four dual images: agree, class conflict, pass/fail conflict, box geometry."""
    p = qa_project(tmp_path, 6, dual_first_n=4, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    both = [edits.set_verdict("pass")]
    label(p, "ann1", ids[0], *both)
    label(p, "ann2", ids[0], *both)
    label(p, "ann1", ids[1], edits.set_class("dent", "minor"))
    label(p, "ann2", ids[1], edits.set_class("scratch", "minor"))
    label(p, "ann1", ids[2], edits.set_verdict("pass"))
    label(p, "ann2", ids[2], edits.set_class("crack", "critical"))
    box = Box("dent", 0, 0, 10, 10, "minor", id="b1")
    label(p, "ann1", ids[3], edits.set_class("dent", "minor"), edits.add_box(box))
    label(p, "ann2", ids[3], edits.set_class("dent", "minor"), edits.add_box(box.moved(5, 0)))
    return p, ids


def test_queue_most_important_first(dual):
    p, ids = dual
    q = adjudication_queue(p)
    assert [(d.image, d.kind) for d in q] == [
        (ids[2], "verdict"),
        (ids[1], "class"),
        (ids[3], "geometry"),
    ]
    assert q[0].annotators == ("ann1", "ann2")


def test_adjudication_becomes_the_final_label_with_who_and_why(dual):
    p, ids = dual
    b = p.store.state("ann2").annotation(ids[2])
    with p.store.open_session("adj") as s:
        adjudicate(p, s, ids[2], "B", b, "crack at the bend radius")
    final = final_labels(p)
    assert final[ids[2]].status == "adjudicated"
    assert final[ids[2]].annotation.defect_class == "crack"
    assert final[ids[2]].decided_by == "adj"
    assert final[ids[2]].annotators == ("ann1", "ann2")
    assert final[ids[0]].status == "agreed"
    assert ids[1] not in final and ids[3] not in final  # undecided disagreements
    (event,) = [e for e in iter_log(p.store.labels_dir, user="adj")]
    assert event["kind"] == "final" and event["note"] == "crack at the bend radius"
    assert event["after"]["source"] == "B"
    assert [d.image for d in adjudication_queue(p)] == [ids[1], ids[3]]


def test_adjudication_refusals(dual):
    p, ids = dual
    a = p.store.state("ann1").annotation(ids[1])
    with p.store.open_session("ann1") as s, pytest.raises(PermissionDenied) as err:
        adjudicate(p, s, ids[1], "A", a, "mine is right")
    assert "ann1 may not adjudicate" in str(err.value) and "adjudicator role" in str(err.value)
    with p.store.open_session("adj") as s, pytest.raises(DecisionError, match="needs a note"):
        adjudicate(p, s, ids[1], "A", a, "  ")
    p.add_role("admin", "ann1", "adjudicator")
    with p.store.open_session("ann1") as s, pytest.raises(DecisionError, match="labeled image"):
        adjudicate(p, s, ids[1], "A", a, "mine is right")
    assert p.store.state("ann1").get(ids[1], "final") is None


def test_review_roles_and_outcomes(dual):
    p, ids = dual
    label(p, "ann1", ids[4], edits.set_verdict("pass"))
    with p.store.open_session("ann2") as s, pytest.raises(PermissionDenied):
        review(p, s, ids[4])
    with p.store.open_session("rev") as s:
        ok = review(p, s, ids[4])
        with pytest.raises(DecisionError, match="needs a note"):
            review(p, s, ids[4], Annotation(verdict="fail", defect_class="dent"))
        fixed = review(
            p, s, ids[4], Annotation(verdict="fail", defect_class="dent"), "dent near the hole"
        )
    assert ok["after"] == {
        "outcome": "ok",
        "of": "ann1",
        "annotation": Annotation(verdict="pass").to_dict(),
    }
    assert fixed["after"]["outcome"] == "corrected"
    final = final_labels(p)
    assert final[ids[4]].status == "reviewed"
    assert final[ids[4]].annotation.defect_class == "dent"
    p.add_role("admin", "ann1", "reviewer")
    with p.store.open_session("ann1") as s, pytest.raises(DecisionError, match="own labels"):
        review(p, s, ids[4])


def test_min_status_from_config(dual):
    p, ids = dual
    label(p, "ann1", ids[5], edits.set_verdict("pass"))
    assert final_labels(p)[ids[5]].status == "single"
    p.config["qa"]["min_status"] = "agreed"
    p.save_config()
    p = type(p).open(p.root)
    assert set(final_labels(p)) == {ids[0]}
    assert set(final_labels(p, "single")) == {ids[0], ids[5]}
    p.config["qa"]["min_status"] = "gold"
    with pytest.raises(ConfigError, match="qa.min_status"):
        final_labels(p)


def test_consensus_request_joins_the_adjudicators_queue(dual):
    p, ids = dual
    label(p, "ann1", ids[5], edits.set_verdict("pass"))
    with p.store.open_session("ann1") as s:
        with pytest.raises(DecisionError, match="needs a note"):
            request_consensus(p, s, ids[5], "")
        request_consensus(p, s, ids[5], "faint line: scratch or reflection?")
    with p.store.open_session("outsider") as s, pytest.raises(PermissionDenied):
        request_consensus(p, s, ids[5], "?")
    last = adjudication_queue(p)[-1]
    assert (last.image, last.kind, last.detail) == (
        ids[5],
        "consensus",
        "faint line: scratch or reflection?",
    )


def test_cli_refusals_and_headless_decision(dual, as_user):
    p, ids = dual
    runner = CliRunner()
    as_user("ann1")
    r = runner.invoke(main, ["adjudicate", str(p.root), "--list"])
    assert r.exit_code == 3 and "ann1 may not adjudicate" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(main, ["qa", "report", str(p.root)])
    assert r.exit_code == 3 and "read the QA report" in r.output
    r = runner.invoke(main, ["review", str(p.root), ids[4][:8]])
    assert r.exit_code == 3 and "reviewer role" in r.output
    as_user("adj")
    r = runner.invoke(main, ["adjudicate", str(p.root), "--image", ids[1][:10], "--take", "A"])
    assert r.exit_code != 0 and "needs a note" in r.output
    r = runner.invoke(
        main,
        [
            "adjudicate",
            str(p.root),
            "--image",
            ids[1][:10],
            "--take",
            "A",
            "--severity",
            "major",
            "--note",
            "deep dent, felt by touch",
        ],
    )
    assert r.exit_code == 0, r.output
    decided = final_labels(p)[ids[1]]
    assert (decided.annotation.defect_class, decided.annotation.severity) == ("dent", "major")
    assert p.store.state("adj").get(ids[1], "final")["source"] == "edited"
    r = runner.invoke(
        main, ["adjudicate", str(p.root), "--image", "zzzz", "--take", "A", "--note", "x"]
    )
    assert r.exit_code == 2 and "no image 'zzzz'" in r.output


def test_review_and_consensus_cli(dual, as_user):
    p, ids = dual
    label(p, "ann1", ids[4], edits.set_verdict("pass"))
    runner = CliRunner()
    as_user("rev")
    r = runner.invoke(
        main, ["review", str(p.root), ids[4][:8], "--class", "dent", "--note", "dent at the flange"]
    )
    assert r.exit_code == 0, r.output
    assert "corrected (labels by ann1)" in r.output
    assert final_labels(p)[ids[4]].annotation.defect_class == "dent"
    r = runner.invoke(main, ["review", str(p.root), ids[4][:8], "--class", "nick"])
    assert r.exit_code == 2 and "'nick' is not a defect class" in r.output
    as_user("ann2")
    r = runner.invoke(main, ["consensus", str(p.root), ids[4][:8], "--note", "edge case"])
    assert r.exit_code == 0, r.output
    assert adjudication_queue(p)[-1].detail == "edge case"
