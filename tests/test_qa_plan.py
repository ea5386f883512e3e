"""Assignment plan: dual phase, round-robin singles, seeded spot checks, queues."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.errors import ConfigError
from qclabel.qa.plan import build_plan, queue_for, queue_items

from test_qa_support import label, qa_project, set_fields


def test_first_n_dual_then_round_robin(tmp_path):
    p = qa_project(tmp_path, 10, dual_first_n=4, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    plan = build_plan(p)
    assert plan.dual_images() == ids[:4]
    assert all(plan.assignments[i].annotators == ("ann1", "ann2") for i in ids[:4])
    assert [plan.assignments[i].annotators for i in ids[4:]] == [
        ("ann1",),
        ("ann2",),
        ("ann1",),
        ("ann2",),
        ("ann1",),
        ("ann2",),
    ]
    assert plan.spot_checks() == []


def test_pairs_rotate_through_every_annotator_pair(tmp_path):
    p = qa_project(tmp_path, 6, annotators=("a", "b", "c"), dual_first_n=6)
    plan = build_plan(p)
    got = [plan.assignments[i].annotators for i in p.store.catalog.ids()]
    assert got == [("a", "b"), ("a", "c"), ("b", "c")] * 2


def test_first_n_per_task(tmp_path):
    p = qa_project(tmp_path, 8, dual_first_n=2, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    p = set_fields(p, {i: {"task": "left" if n % 2 else "right"} for n, i in enumerate(ids)})
    plan = build_plan(p)
    assert sorted(plan.dual_images()) == sorted(ids[:4])  # two per task
    assert {plan.assignments[i].task for i in plan.dual_images()} == {"left", "right"}


def test_spot_check_sample_is_seeded_and_never_self_review(tmp_path):
    p = qa_project(
        tmp_path, 20, reviewers=("rev", "ann1"), dual_first_n=0, spot_check_rate=0.25, seed=3
    )
    one, two = build_plan(p), build_plan(p)
    assert one.spot_checks() == two.spot_checks()
    assert len(one.spot_checks()) == 5  # 25 % of 20
    for i in one.spot_checks():
        a = one.assignments[i]
        assert a.reviewer not in a.annotators
    p.config["qa"]["seed"] = 4
    p.save_config()
    other = build_plan(type(p).open(p.root))
    assert len(other.spot_checks()) == 5
    assert other.spot_checks() != one.spot_checks()


def test_spot_checks_per_lot(tmp_path):
    p = qa_project(tmp_path, 12, dual_first_n=0, spot_check_rate=0.12, spot_check_by="lot")
    ids = p.store.catalog.ids()
    lots = {i: {"lot": "L1" if n < 10 else "L2"} for n, i in enumerate(ids)}
    plan = build_plan(set_fields(p, lots))
    chosen = plan.spot_checks()
    # round(0.12 * 10) = 1 in L1; the 2-image lot L2 still gets its one check
    assert sum(lots[i]["lot"] == "L1" for i in chosen) == 1
    assert sum(lots[i]["lot"] == "L2" for i in chosen) == 1


@pytest.mark.parametrize(
    "key,value",
    [("spot_check_rate", 1.5), ("dual_first_n", -1), ("spot_check_by", "colour"), ("seed", "x")],
)
def test_bad_policy_names_the_field(tmp_path, key, value):
    p = qa_project(tmp_path, 2, **{key: value})
    with pytest.raises(ConfigError) as err:
        build_plan(p)
    assert f"qa.{key}" in str(err.value) and "qclabel.toml" in str(err.value)


def test_one_annotator_warns_and_labels_single(tmp_path):
    p = qa_project(tmp_path, 3, annotators=("solo",), dual_first_n=2)
    plan = build_plan(p)
    assert plan.dual_images() == []
    assert any("two users with the annotator role" in w for w in plan.warnings)


def test_queues_follow_the_plan_and_shrink_as_work_is_done(tmp_path):
    p = qa_project(tmp_path, 6, dual_first_n=2, spot_check_rate=1.0)
    ids = p.store.catalog.ids()
    assert queue_for(p, "ann1") == [ids[0], ids[1], ids[2], ids[4]]
    assert queue_for(p, "ann2") == [ids[0], ids[1], ids[3], ids[5]]
    assert queue_for(p, "rev") == []  # nothing labeled yet to check
    label(p, "ann1", ids[0], edits.set_verdict("pass"))
    label(p, "ann1", ids[2], edits.set_verdict("pass"))
    assert queue_for(p, "ann1") == [ids[1], ids[4]]
    assert queue_items(p, "rev") == [type(queue_items(p, "rev")[0])(ids[2], "reviewer")]
    # the dual image only ann1 labeled is not a disagreement yet; once both label it is
    assert queue_for(p, "adj") == []
    label(p, "ann2", ids[0], edits.set_verdict("fail"))
    assert [(i.image, i.role) for i in queue_items(p, "adj")] == [(ids[0], "adjudicator")]
    assert len(queue_for(p, "ann1", pending_only=False)) == 4


def test_qa_plan_cli(tmp_path):
    p = qa_project(tmp_path, 5, dual_first_n=2, spot_check_rate=0.5)
    r = CliRunner().invoke(main, ["qa", "plan", str(p.root), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["summary"]["dual"] == 2 and data["summary"]["single"] == 3
    assert [i["phase"] for i in data["images"]] == ["dual", "dual", "single", "single", "single"]
    r = CliRunner().invoke(main, ["qa", "plan", str(p.root)])
    assert "dual 2, single 3" in r.output and "ann1: label" in r.output


def test_labeling_app_plan_queue(tmp_path):
    from qclabel.tui.labeling import queue_ids

    p = qa_project(tmp_path, 6, dual_first_n=2, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    label(p, "ann2", ids[1], edits.set_verdict("pass"))
    with p.store.open_session("ann2") as s:
        assert queue_ids(p, s, "plan") == [ids[0], ids[3], ids[5]]


def test_qa_queue_cli(tmp_path, as_user):
    p = qa_project(tmp_path, 4, dual_first_n=2, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    as_user("ann2")
    r = CliRunner().invoke(main, ["qa", "queue", str(p.root), "--json"])
    assert r.exit_code == 0, r.output
    name = lambda i: p.store.catalog.get(i).source.rsplit("/", 1)[-1]  # noqa: E731
    assert json.loads(r.output) == [
        {"image": i, "file": name(i), "role": "annotator"} for i in (ids[0], ids[1], ids[3])
    ]
    r = CliRunner().invoke(main, ["qa", "queue", str(p.root)])
    assert r.output.split() == [
        name(ids[0]),
        "annotator",
        name(ids[1]),
        "annotator",
        name(ids[3]),
        "annotator",
    ]
    # Another user's queue tells what they have labeled: adjudicators and admins only.
    r = CliRunner().invoke(main, ["qa", "queue", str(p.root), "--user", "rev"])
    assert r.exit_code == 3 and "adjudicator or admin" in r.output
    as_user("adj")
    r = CliRunner().invoke(main, ["qa", "queue", str(p.root), "--user", "rev"])
    assert r.output.strip() == "nothing to do"
