"""Acceptance sampling by lot: a lot accepted at exactly Ac, rejected at exactly Re and
sent back for full review; the switching rules between normal, tightened and reduced."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core.model import Annotation
from qclabel.errors import ConfigError
from qclabel.qa.aql import Lot, evaluate, settings
from qclabel.qa.decisions import review
from qclabel.qa.plan import build_plan, queue_items

from test_qa_support import aql_lots_project, qa_project

CFG = {
    "aql": "10",
    "inspection_level": "II",
    "lot_by": "lot",
    "allow_reduced": False,
    "aql_resume": "",
    "seed": 0,
}


@pytest.fixture
def lots(tmp_path):
    """Two lots of 30 single-labeled images; AQL 10 at level II: code D, n 8, Ac 2, Re 3."""
    return aql_lots_project(tmp_path, 30)


def _review(p, images, corrected):
    with p.store.open_session("rev") as s:
        for k, image in enumerate(images):
            fix = (
                Annotation(verdict="fail", defect_class="dent", severity="minor")
                if k < corrected
                else None
            )
            review(p, s, image, fix, "wrong verdict" if fix else None)


def _lots(p):
    return {lot.name: lot for lot in build_plan(p).lots}


def test_lot_accepted_at_ac_and_rejected_at_re(lots, as_user):
    p = lots
    l1, l2 = _lots(p)["L1"], _lots(p)["L2"]
    assert (l1.plan["code"], l1.plan["n"], l1.plan["ac"], l1.plan["re"]) == ("D", 8, 2, 3)
    assert set(queue_items(p, "rev")[i].image for i in range(16)) == set(l1.sample) | set(l2.sample)
    _review(p, l1.sample, corrected=2)  # exactly Ac
    _review(p, l2.sample[:3], corrected=3)  # Re reached after three reviews
    l1, l2 = _lots(p)["L1"], _lots(p)["L2"]
    assert (l1.corrections, l1.outcome) == (2, "accepted")
    assert (l2.corrections, l2.reviewed, l2.outcome) == (3, 3, "rejected")
    # the rejected lot goes back to the reviewers in full
    todo = {i.image for i in queue_items(p, "rev") if i.role == "reviewer"}
    assert todo == set(l2.images) - set(l2.sample[:3])
    _review(p, sorted(todo), corrected=0)
    assert _lots(p)["L2"].outcome == "rectified"
    as_user("adj")
    out = CliRunner().invoke(main, ["qa", "lots", str(p.root), "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["lot"]: r for r in json.loads(out.output)["lots"]}
    assert (rows["L1"]["outcome"], rows["L2"]["outcome"]) == ("accepted", "rectified")
    text = CliRunner().invoke(main, ["qa", "lots", str(p.root)]).output
    assert "code D n 8 Ac 2 Re 3" in text and "accepted" in text


def test_one_correction_short_of_re_waits_for_the_whole_sample(lots):
    p = lots
    l1 = _lots(p)["L1"]
    _review(p, l1.sample[:7], corrected=2)
    assert _lots(p)["L1"].outcome == "sampling"
    _review(p, l1.sample[7:], corrected=0)
    assert _lots(p)["L1"].outcome == "accepted"


def test_lots_need_a_privileged_user_and_aql_mode(lots, as_user, tmp_path):
    as_user("ann1")
    assert CliRunner().invoke(main, ["qa", "lots", str(lots.root)]).exit_code == 3
    p = qa_project(tmp_path / "other", 2)
    as_user("admin")
    out = CliRunner().invoke(main, ["qa", "lots", str(p.root)])
    assert out.exit_code == 2 and 'spot_check_by = "aql"' in out.output


def test_bad_aql_settings_name_the_field(lots):
    lots.config["qa"]["aql"] = 0.7
    with pytest.raises(ConfigError, match=r"qa.aql = 0.7: AQL 0.7 is not in"):
        settings(lots)
    lots.config["qa"].update(aql=1.0, lot_by="serial")
    with pytest.raises(ConfigError, match="qa.lot_by = 'serial'"):
        settings(lots)


# -- switching, on synthetic lots (1000 images: code J, normal n 80 Ac 2 Re 3 at 1.0) ----
def run(outcomes: str, cfg=None, size=1000):
    """One lot per letter: a = accepted (no corrections), r = rejected (Re corrections)."""
    cfg = {**CFG, "aql": "1.0", **(cfg or {})}
    lots_, reviews = [], {}
    for n in range(len(outcomes)):
        lots_.append(Lot(f"L{n}", [f"{n}-{i:04d}" for i in range(size)]))
    done = []
    for lot, what in zip(lots_, outcomes):
        # review the whole lot: the sample is then fully reviewed whatever the plan
        evaluate(done + [lot], cfg, reviews, set())
        bad = lot.plan["re"] if what == "r" else 0
        for k, image in enumerate(lot.sample):
            reviews[image] = "corrected" if k < bad else "ok"
        done.append(lot)
    run.reviews = reviews
    return evaluate(lots_, cfg, reviews, set())


def test_two_rejections_in_five_switch_to_tightened_and_five_accepts_back():
    lots_ = run("araar" + "aaaaa" + "a")
    sev = [lot.severity for lot in lots_]
    assert sev[:5] == ["normal"] * 5
    assert sev[5:10] == ["tightened"] * 5
    assert sev[10] == "normal"
    assert lots_[5].plan["ac"] < lots_[0].plan["ac"] or lots_[5].plan["n"] > lots_[0].plan["n"]


def test_rejections_further_apart_than_five_stay_normal():
    assert {lot.severity for lot in run("raaaaar")} == {"normal"}


def test_five_rejections_on_tightened_discontinue_until_resumed():
    lots_ = run("rr" + "rrrrr" + "a")
    assert [lot.severity for lot in lots_][2:7] == ["tightened"] * 5
    last = lots_[7]
    assert last.severity == "discontinued" and last.plan["full"]
    assert last.sample == last.images and last.outcome == "rectified"  # all reviewed
    fresh = Lot("L8", [f"new-{i}" for i in range(50)])
    evaluate(lots_ + [fresh], {**CFG, "aql": "1.0"}, run.reviews, set())
    assert (fresh.severity, fresh.outcome) == ("discontinued", "full review")
    resumed = run("rr" + "rrrrr" + "a", {"aql_resume": "L7"})
    assert resumed[7].severity == "tightened"


def test_switching_score_reaches_reduced_only_when_allowed():
    # normal J at 1.0 is Ac 2: +3 per lot that would pass at 0.65 (Ac 1): 10 lots = 30
    lots_ = run("a" * 11, {"allow_reduced": True})
    assert [lot.score for lot in lots_][:10] == [3 * k for k in range(1, 11)]
    assert lots_[10].severity == "reduced" and lots_[10].plan["n"] < lots_[0].plan["n"]
    assert {lot.severity for lot in run("a" * 11)} == {"normal"}
    back = run("a" * 10 + "r" + "a", {"allow_reduced": True})
    assert (back[10].severity, back[11].severity) == ("reduced", "normal")
