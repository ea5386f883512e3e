"""Blind means blind in every command: annotator ann1 learns nothing of ann2's labels on
the dual images (not the classes, not that they exist, not how many events), from any
qclabel command; the adjudicator (and the admin) sees everything.

Dual images (the first three; one pair, ann1/ann2):
  0: ann1 scratch + box; ann2 crack + box, flagged "B-SECRET-FLAG", consensus request
     "B-SECRET-NOTE"                     -> a disagreement
  1: both dent major with the same box   -> agreed, still blind (not adjudicated)
  2: only ann2, porosity without a box   -> ann2 is ahead, and incomplete
ann2's own words: crack, porosity, B-SECRET. Users are simulated (identity patched);
the journals' file modes are not what these tests are about.
"""

from __future__ import annotations

from pathlib import Path

import csv
import json
import re

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Box
from test_qa_support import label, qa_project

SECRETS = ("crack", "porosity", "B-SECRET", "ann2")


@pytest.fixture
def dual(tmp_path):
    p = qa_project(tmp_path, 6, dual_first_n=3, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    label(
        p,
        "ann1",
        ids[0],
        edits.set_class("scratch", "minor"),
        edits.add_box(Box("scratch", 2, 2, 10, 6, "minor", id="a0")),
    )
    label(
        p,
        "ann2",
        ids[0],
        edits.set_class("crack", "critical"),
        edits.add_box(Box("crack", 20, 12, 9, 9, "critical", id="b0")),
        edits.set_flag("B-SECRET-FLAG"),
    )
    dent = Box("dent", 4, 4, 12, 12, "major", id="d1")
    label(p, "ann2", ids[1], edits.set_class("dent", "major"), edits.add_box(dent))
    label(p, "ann1", ids[1], edits.set_class("dent", "major"), edits.add_box(dent))
    label(p, "ann2", ids[2], edits.set_class("porosity", "minor"))
    from qclabel.qa.decisions import request_consensus

    with p.store.open_session("ann2") as s:
        request_consensus(p, s, ids[0], "B-SECRET-NOTE")
    return p, ids


def run(as_user, user: str, *args) -> tuple[int, str]:
    as_user(user)
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


def assert_blind(text: str, allowed: tuple[str, ...] = ()) -> None:
    for word in SECRETS:
        if word not in allowed:
            assert word not in text, f"{word!r} leaked:\n{text}"


def test_status(dual, as_user):
    p, _ = dual
    code, out = run(as_user, "ann1", "status", p.root, "--json")
    s = json.loads(out)
    assert code == 0 and list(s["annotators"]) == ["ann1"]
    assert s["classes"]["crack"] == 0 and s["classes"]["porosity"] == 0
    assert s["classes"]["scratch"] == 2 and s["classes"]["dent"] == 2
    assert s["states"]["labeled"] == 2  # ids[2] (only ann2's) counts as unlabeled
    assert s["consistency"]["incomplete"] == 0  # ann2's porosity without a box is hidden
    assert s["verdicts"] == {"fail": 2}
    code, out = run(as_user, "ann1", "status", p.root)
    assert_blind(out, allowed=("crack", "porosity"))  # the taxonomy's class list
    assert re.search(r"crack\s+0", out) and re.search(r"porosity\s+0", out)
    for user in ("adj", "admin"):
        s = json.loads(run(as_user, user, "status", p.root, "--json")[1])
        assert set(s["annotators"]) == {"ann1", "ann2"}
        assert s["classes"]["crack"] == 2 and s["classes"]["porosity"] == 1
        assert s["consistency"]["incomplete"] == 1


def test_audit_log(dual, as_user):
    p, _ = dual
    code, out = run(as_user, "ann1", "audit", "log", p.root)
    assert code == 0 and out.count("\n") == 2  # ann1's own two events, nothing else
    assert_blind(out)
    code, out = run(as_user, "ann1", "audit", "log", p.root, "--json")
    assert {json.loads(line)["user"] for line in out.splitlines()} == {"ann1"}
    assert_blind(out)
    code, out = run(as_user, "ann1", "audit", "log", p.root, "--user", "ann2")
    assert code == 3 and "adjudicator or admin" in out and "crack" not in out
    code, out = run(as_user, "adj", "audit", "log", p.root)
    assert code == 0 and all(w in out for w in ("crack", "porosity", "B-SECRET-NOTE", "ann2"))
    code, out = run(as_user, "adj", "audit", "log", p.root, "--user", "ann2", "--json")
    kinds = [json.loads(line)["kind"] for line in out.splitlines()]
    assert kinds == ["label", "label", "label", "consensus"]


def test_audit_verify(dual, as_user):
    p, _ = dual
    code, out = run(as_user, "ann1", "audit", "verify", p.root)
    lines = out.splitlines()
    assert code == 0
    mine = next(line for line in lines if line.endswith(("ann1.jsonl: OK, 2 events, chain intact")))
    theirs = next(line for line in lines if "ann2.jsonl" in line)
    assert mine and theirs == f"OK   {p.root / 'labels' / 'ann2.jsonl'}"  # no count
    code, out = run(as_user, "adj", "audit", "verify", p.root)
    assert "ann2.jsonl: OK, 4 events" in out


def test_audit_verify_hides_where_another_journal_is_damaged(dual, as_user):
    p, _ = dual
    path = p.root / "labels" / "ann2.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace("crack", "dent")
    path.write_text("".join(lines))
    code, out = run(as_user, "ann1", "audit", "verify", p.root)
    assert code == 1 and "FAIL" in out and "adjudicator or admin sees where" in out
    assert ":1" not in out and "seq" not in out
    code, out = run(as_user, "adj", "audit", "verify", p.root)
    assert code == 1 and "ann2.jsonl:1" in out


@pytest.mark.parametrize("fmt", ["yolo", "coco", "voc", "tfrecord", "csv", "jsonl"])
def test_export_needs_the_adjudicator_or_admin(dual, as_user, tmp_path, fmt):
    p, _ = dual
    code, out = run(as_user, "ann1", "export", p.root, "--format", fmt, "--out", tmp_path / "o")
    assert code == 3 and "adjudicator or admin" in out
    assert not (tmp_path / "o").exists()
    assert_blind(out)
    code, out = run(as_user, "adj", "export", p.root, "--format", fmt, "--out", tmp_path / "a")
    # the agreed dual image; and ann2's porosity, a final label of status single while
    # ann1 has not labeled it, which detection exports leave out (no box)
    shown = 2 if fmt in ("csv", "jsonl") else 1
    assert code == 0 and f"exported {shown} images" in out


def test_export_by_the_adjudicator_names_both_annotators(dual, as_user, tmp_path):
    p, ids = dual
    run(as_user, "adj", "export", p.root, "--format", "csv", "--out", tmp_path / "c")
    with open(tmp_path / "c" / "images.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["defect_class"], r["status"], r["annotators"]) for r in rows] == [
        ("dent", "agreed", "ann1;ann2"),
        ("porosity", "single", "ann2"),
    ]


def test_export_mode_in_the_app_needs_the_role(dual):
    import asyncio
    from qclabel.tui.app import build_app
    from qclabel.tui.screens.export import ExportScreen

    p, _ = dual

    async def opened(user: str) -> bool:
        app = build_app(p, user, graphics="halfcell", start="home")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.open_mode("export")
            await pilot.pause()
            return isinstance(app.screen, ExportScreen)

    assert asyncio.run(opened("ann1")) is False
    assert asyncio.run(opened("adj")) is True


def test_qa_report(dual, as_user):
    p, _ = dual
    code, out = run(as_user, "ann1", "qa", "report", p.root)
    assert code == 3 and "crack" not in out
    code, out = run(as_user, "adj", "qa", "report", p.root, "--format", "json")
    assert code == 0 and "crack" in out


def test_versions(dual, as_user):
    p, _ = dual
    assert run(as_user, "admin", "version", "create", p.root, "v1")[0] == 0
    assert run(as_user, "admin", "version", "create", p.root, "v2")[0] == 0
    code, out = run(as_user, "ann1", "version", "list", p.root, "--json")
    rows = json.loads(out)
    assert code == 0 and [set(r) for r in rows] == [{"name", "created", "created_by", "hash"}] * 2
    code, out = run(as_user, "ann1", "version", "list", p.root)
    assert code == 0 and "images" not in out and "v1" in out
    for args in (("show", p.root, "v1"), ("diff", p.root, "v1", "v2")):
        code, out = run(as_user, "ann1", "version", *args)
        assert code == 3 and "adjudicator or admin" in out and "dent" not in out
    code, out = run(as_user, "adj", "version", "show", p.root, "v1")
    assert code == 0 and json.loads(out)["images"] == 2
    assert json.loads(run(as_user, "adj", "version", "list", p.root, "--json")[1])[0]["images"] == 2


def test_check(dual, as_user):
    p, ids = dual
    code, out = run(as_user, "ann1", "check", p.root)
    assert (code, out.strip()) == (0, "no inconsistencies")
    code, out = run(as_user, "adj", "check", p.root, "--json")
    found = json.loads(out)
    assert code == 1 and [(f["image"], f["annotator"], f["rule"]) for f in found] == [
        (ids[2], "ann2", "incomplete")
    ]


def test_queues(dual, as_user):
    p, ids = dual
    code, out = run(as_user, "ann1", "qa", "queue", p.root, "--user", "ann2")
    assert code == 3 and ids[0] not in out
    code, out = run(as_user, "ann1", "qa", "queue", p.root, "--json")
    mine = [i["image"] for i in json.loads(out)]
    assert mine[0] == ids[2] and not set(mine) & {ids[0], ids[1]}  # own work only
    code, out = run(as_user, "adj", "qa", "queue", p.root, "--user", "ann2", "--json")
    theirs = [i["image"] for i in json.loads(out)]
    assert code == 0 and not set(theirs) & set(ids[:3])  # ann2 labeled all three duals


def test_flagged_queue_in_the_app(dual):
    from qclabel.tui.labeling import queue_ids

    p, ids = dual
    with p.store.open_session("ann1") as s:
        assert queue_ids(p, s, "flagged") == []  # ann2's flag is ann2's label
    with p.store.open_session("adj") as s:
        assert queue_ids(p, s, "flagged") == [ids[0]]


def test_adjudicate_list(dual, as_user):
    p, ids = dual
    name = Path(p.store.catalog.get(ids[0]).file).name
    code, out = run(as_user, "ann1", "adjudicate", p.root, "--list")
    assert code == 3 and ids[0] not in out and name not in out
    assert_blind(out)
    code, out = run(as_user, "adj", "adjudicate", p.root, "--list")
    assert code == 0 and name in out and "ann2" in out


def test_review_of_a_blind_image_is_refused(dual, as_user):
    p, ids = dual
    code, out = run(as_user, "rev", "review", p.root, ids[0])
    assert code == 2 and "blind dual-annotated" in out
    assert_blind(out)
    assert p.store.state("rev").get(ids[0], "review") is None


def test_plan_images_and_consensus_carry_no_labels(dual, as_user):
    p, ids = dual
    for args in (
        ("qa", "plan", p.root, "--json"),
        ("qa", "plan", p.root),
        ("images", p.root, "--json"),
        ("images", p.root),
        ("role", "list", p.root),
    ):
        code, out = run(as_user, "ann1", *args)
        assert code == 0
        assert_blind(out, allowed=("ann2",))  # the plan and roles name the pair
        assert "dent" not in out and "scratch" not in out
    code, out = run(as_user, "ann1", "consensus", p.root, ids[1], "--note", "edge")
    assert (
        code == 0
        and out.strip() == f"{Path(p.store.catalog.get(ids[1]).file).name} sent to consensus review"
    )


def test_adjudication_lifts_blindness_in_every_command(dual, as_user):
    p, ids = dual
    code, out = run(
        as_user,
        "adj",
        "adjudicate",
        p.root,
        "--image",
        ids[0],
        "--take",
        "B",
        "--note",
        "crack is real",
    )
    assert code == 0, out
    s = json.loads(run(as_user, "ann1", "status", p.root, "--json")[1])
    assert s["classes"]["crack"] == 2  # ann2's now-decided label (class and box) counts
    assert list(s["annotators"]) == ["ann1"]


def test_a_spot_check_labeled_twice_leaves_the_reviewers_queue(tmp_path, as_user):
    from qclabel.qa.plan import queue_items

    p = qa_project(tmp_path, 3, dual_first_n=0, spot_check_rate=1.0)
    planned = next(a for a in queue_items(p, "ann1") if a.role == "annotator").image
    label(p, "ann1", planned, edits.set_verdict("pass"))
    assert planned in [i.image for i in queue_items(p, "rev")]
    label(p, "ann2", planned, edits.set_class("crack", "critical"))  # outside the plan
    assert planned not in [i.image for i in queue_items(p, "rev", pending_only=False)]
    code, out = run(as_user, "rev", "review", p.root, planned)
    assert code == 2 and "crack" not in out
