"""Golden images: promoted by an admin, mixed blind into published queues, scored, and
below golden_min the annotator is flagged (report, queue, calibration)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.errors import PermissionDenied
from qclabel.qa import golden
from qclabel.qa.final import final_labels
from qclabel.qa.plan import queue_items
from qclabel.qa.queues import publish, queue_path
from qclabel.qa.report import dual_pairs

from test_qa_support import label, qa_project

N_GOLD = 20


def reference(n: int) -> Annotation:
    """Half the golden images are scratches with a box, half pass."""
    if n % 2:
        return Annotation(
            verdict="fail",
            defect_class="scratch",
            severity="minor",
            boxes=(Box("scratch", 2, 2, 12, 8, "minor", id=f"g{n}"),),
        )
    return Annotation(verdict="pass")


def wrong(ref: Annotation) -> Annotation:
    if ref.verdict == "pass":
        return Annotation(verdict="fail", defect_class="dent", severity="minor")
    return Annotation(verdict="pass")


@pytest.fixture
def gold(tmp_path):
    """40 images, 20 of them golden with imported references; queues published."""
    p = qa_project(
        tmp_path,
        40,
        annotators=("ann1", "ann2"),
        dual_first_n=0,
        spot_check_rate=0.0,
        golden_rate=1.0,
        golden_min=0.8,
        golden_min_answers=10,
    )
    ids = p.store.catalog.ids()
    gold_ids = ids[:N_GOLD]
    with p.store.open_session("admin") as s:
        for n, image in enumerate(gold_ids):
            golden.promote(p, s, image, "reference from the drawing", reference(n), "import:x")
    publish(p, "admin")
    return p, ids, gold_ids


def answer_golden(p, user, gold_ids, n_correct):
    """The user labels the golden images of their queue: the first n_correct right."""
    mine = [i.image for i in queue_items(p, user) if i.image in gold_ids]
    for k, image in enumerate(mine):
        ref = reference(gold_ids.index(image))
        ann = ref if k < n_correct else wrong(ref)
        label(p, user, image, lambda _a, ann=ann: ann)
    return mine


def test_golden_images_are_mixed_blind_into_each_queue(gold):
    p, ids, gold_ids = gold
    q1 = [i.image for i in queue_items(p, "ann1")]
    q2 = [i.image for i in queue_items(p, "ann2")]
    g1, g2 = [i for i in q1 if i in gold_ids], [i for i in q2 if i in gold_ids]
    assert len(g1) == len(g2) == 10 and not set(g1) & set(g2)  # spread, no repeats
    assert q1[0] not in gold_ids and set(q1) - set(g1)  # mixed among own images
    raw = queue_path(p, "ann1").read_text()
    assert "golden" not in raw and "reference" not in raw and "import" not in raw
    doc = json.loads(raw)
    assert {tuple(sorted(item)) for item in doc["items"]} == {("image", "role")}
    assert {item["role"] for item in doc["items"]} == {"annotator"}


def test_scoring_and_flagging_two_annotators_of_known_accuracy(gold, as_user):
    p, ids, gold_ids = gold
    answer_golden(p, "ann1", gold_ids, 9)  # 90 % right
    answer_golden(p, "ann2", gold_ids, 6)  # 60 % right
    acc = golden.accuracy(p)
    assert {u: (a.answers, a.correct, a.flagged) for u, a in acc.items()} == {
        "ann1": (10, 9, False),
        "ann2": (10, 6, True),
    }
    # Wilson 95 %: 9/10 -> [0.5958, 0.9821], 6/10 -> [0.3127, 0.8318]
    assert acc["ann1"].interval() == [0.5958, 0.9821]
    assert acc["ann2"].interval() == [0.3127, 0.8318]
    as_user("adj")
    out = CliRunner().invoke(main, ["qa", "report", str(p.root)])
    assert out.exit_code == 0, out.output
    assert "flagged by golden accuracy (below 80 %): ann2" in out.output
    assert "ann2" in out.output and "FLAGGED" in out.output
    rep = json.loads(
        CliRunner().invoke(main, ["qa", "report", str(p.root), "--format", "json"]).output
    )
    assert rep["golden"]["flagged"] == ["ann2"]


def test_the_flag_reaches_the_annotators_queue_after_publishing(gold, as_user):
    p, ids, gold_ids = gold
    answer_golden(p, "ann2", gold_ids, 6)
    publish(p, "admin")
    as_user("ann2")
    out = CliRunner().invoke(main, ["qa", "queue", str(p.root)])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("notice: golden accuracy 60 % on 10 checks is below 80 %")
    as_user("ann1")
    assert "notice" not in CliRunner().invoke(main, ["qa", "queue", str(p.root)]).output


def test_calibration_sends_a_flagged_annotators_images_to_a_second_annotator(gold):
    p, ids, gold_ids = gold
    p.config["qa"]["golden_action"] = "calibration"
    p.save_config()
    answer_golden(p, "ann2", gold_ids, 6)
    before = {i.image for i in queue_items(p, "ann1")}
    publish(p, "admin")
    ann2_own = {i.image for i in queue_items(p, "ann2")} - set(gold_ids)
    after = {i.image for i in queue_items(p, "ann1")}
    assert ann2_own and ann2_own <= after and not ann2_own & before


def test_answers_are_not_labels_of_the_image(gold):
    p, ids, gold_ids = gold
    answer_golden(p, "ann1", gold_ids, 0)  # all wrong
    finals = final_labels(p)
    for n, image in enumerate(gold_ids):
        assert finals[image].annotation == reference(n)  # the reference decides
        assert finals[image].status == "adjudicated"
    assert not [d for d in dual_pairs(p) if d.image in gold_ids]


def test_only_admins_promote_and_only_privileged_users_list(gold, as_user):
    p, ids, gold_ids = gold
    with p.store.open_session("ann1") as s, pytest.raises(PermissionDenied):
        golden.promote(p, s, ids[30], "mine", reference(1))
    as_user("ann1")
    out = CliRunner().invoke(main, ["qa", "golden", "list", str(p.root)])
    assert out.exit_code == 3 and "may not see the golden set" in out.output
    out = CliRunner().invoke(main, ["qa", "queue", str(p.root), "--user", "ann2"])
    assert out.exit_code == 3
    as_user("adj")
    out = CliRunner().invoke(main, ["qa", "golden", "list", str(p.root), "--json"])
    assert out.exit_code == 0 and len(json.loads(out.output)["images"]) == N_GOLD


def test_a_golden_event_from_a_non_admin_does_not_count(gold):
    p, ids, gold_ids = gold
    with p.store.open_session("ann1") as s:  # written around the API, by hand
        s.record(
            golden.GOLDEN,
            ids[30],
            None,
            {"annotation": reference(1).to_dict(), "source": "forged", "labelers": []},
        )
    assert ids[30] not in golden.golden_set(p)


def test_promoting_from_the_final_label_needs_an_adjudicated_or_agreed_one(tmp_path, as_user):
    p = qa_project(tmp_path, 4, dual_first_n=4, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    for u in ("ann1", "ann2"):
        label(p, u, ids[0], edits.set_verdict("pass"))
    label(p, "ann1", ids[1], edits.set_verdict("pass"))
    as_user("admin")
    r = CliRunner().invoke(main, ["qa", "golden", "add", str(p.root), ids[0], "--note", "ok"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["qa", "golden", "add", str(p.root), ids[1], "--note", "x"])
    assert r.exit_code == 2 and "needs an adjudicated or agreed label" in r.output
    ref = golden.golden_set(p)[ids[0]]
    assert ref.annotation.verdict == "pass" and ref.labelers == ("ann1", "ann2")


def test_the_audit_log_shows_golden_events_only_to_privileged_users(gold, as_user):
    p, ids, gold_ids = gold
    as_user("ann1")
    log = CliRunner().invoke(main, ["audit", "log", str(p.root), "--json"]).output
    kinds = [json.loads(line)["kind"] for line in log.splitlines()]
    assert "golden" not in kinds and not any(g[:12] in log for g in gold_ids)
    as_user("adj")
    log = CliRunner().invoke(main, ["audit", "log", str(p.root), "--json"]).output
    assert [json.loads(line)["kind"] for line in log.splitlines()].count("golden") == N_GOLD


def test_the_labeling_app_follows_the_published_queue(gold):
    from qclabel.tui.labeling import queue_ids

    p, ids, gold_ids = gold
    doc = json.loads(queue_path(p, "ann1").read_text())
    with p.store.open_session("ann1") as s:
        assert queue_ids(p, s, "plan") == [i["image"] for i in doc["items"]]
    answer_golden(p, "ann1", gold_ids, 10)
    with p.store.open_session("ann1") as s:
        left = queue_ids(p, s, "plan")
    assert left and not set(left) & set(gold_ids)  # answered golden images leave it


def test_references_can_be_imported_from_a_file(gold, as_user, tmp_path):
    from qclabel.formats import export_project

    p, ids, gold_ids = gold
    ref = Annotation(
        verdict="fail",
        defect_class="crack",
        severity="critical",
        boxes=(Box("crack", 3, 3, 10, 6, "critical", id="c1"),),
    )
    label(p, "ann1", ids[30], lambda _a: ref)
    export_project(p, "jsonl", tmp_path / "refs", link="none")
    as_user("admin")
    out = CliRunner().invoke(
        main,
        [
            "qa",
            "golden",
            "add",
            str(p.root),
            ids[30],
            "--from",
            str(tmp_path / "refs"),
            "--format",
            "jsonl",
            "--note",
            "drawing",
        ],
    )
    assert out.exit_code == 0, out.output
    got = golden.golden_set(p)[ids[30]]
    assert got.source == f"import:{tmp_path / 'refs'}" and got.labelers == ("ann1",)
    assert (got.annotation.defect_class, len(got.annotation.boxes)) == ("crack", 1)
    out = CliRunner().invoke(
        main,
        [
            "qa",
            "golden",
            "add",
            str(p.root),
            ids[31],
            "--from",
            str(tmp_path / "refs"),
            "--format",
            "jsonl",
            "--note",
            "drawing",
        ],
    )
    assert out.exit_code == 2 and f"no label for image {ids[31]}" in out.output
    out = CliRunner().invoke(
        main, ["qa", "golden", "remove", str(p.root), ids[30], "--note", "drawing revised"]
    )
    assert out.exit_code == 0 and ids[30] not in golden.golden_set(p)


def test_answers_are_scored_on_class_box_iou_and_keypoints(tmp_path):
    from qclabel.core.model import Keypoint, KeypointSet

    p = qa_project(tmp_path, 1)  # box IoU target 0.75, keypoint target 5 px
    box = Box("dent", 0, 0, 20, 10, "minor", id="r")
    ref = Annotation(verdict="fail", defect_class="dent", severity="minor", boxes=(box,))

    def moved(dx):
        return Annotation(
            verdict="fail",
            defect_class="dent",
            severity="minor",
            boxes=(Box("dent", dx, 0, 20, 10, "minor", id="a"),),
        )

    assert golden.score(p, moved(2), ref) == (True, "matches the reference")  # IoU 0.82
    ok, detail = golden.score(p, moved(6), ref)  # IoU 0.54
    assert not ok and "below IoU 0.75" in detail
    ok, detail = golden.score(
        p, Annotation(verdict="fail", defect_class="dent", severity="minor"), ref
    )
    assert not ok and "boxes only A drew 0, only B drew 1" in detail  # missed the box
    ok, detail = golden.score(p, moved(0).__class__(verdict="pass"), ref)
    assert not ok and detail.startswith("verdict pass vs fail")

    def kps(x):
        return Annotation(
            verdict="fail",
            keypoints=(
                KeypointSet("bracket", (Keypoint("hole_left", x, 10, 2),), "bracket", id="k"),
            ),
        )

    assert golden.score(p, kps(14), kps(10))[0] is True  # 4 px
    assert golden.score(p, kps(16), kps(10))[0] is False  # 6 px


def test_publish_from_the_cli_changes_files_only_when_needed(gold, as_user):
    p, ids, gold_ids = gold
    as_user("admin")
    out = CliRunner().invoke(main, ["qa", "plan", str(p.root), "--publish"])
    assert out.exit_code == 0 and "published queues of 3 users (0 changed)" in out.output
    before = queue_path(p, "rev").read_bytes(), queue_path(p, "ann1").read_bytes()
    mine = answer_golden(p, "ann1", gold_ids, 10)
    out = CliRunner().invoke(main, ["qa", "plan", str(p.root), "--publish"])
    # Nothing in a queue file depends on labels (qa.queues): answers change no file...
    assert out.exit_code == 0 and "(0 changed)" in out.output
    assert (queue_path(p, "rev").read_bytes(), queue_path(p, "ann1").read_bytes()) == before
    # ...and the answered images leave ann1's queue as ann1's own process reads it.
    assert mine and set(mine) <= {i["image"] for i in json.loads(before[1])["items"]}
    assert not set(mine) & {i.image for i in queue_items(p, "ann1")}
    as_user("ann1")
    assert CliRunner().invoke(main, ["qa", "plan", str(p.root), "--publish"]).exit_code == 3


def test_a_new_reference_keeps_the_answers_answers(gold):
    p, ids, gold_ids = gold
    mine = answer_golden(p, "ann1", gold_ids, 10)
    with p.store.open_session("admin") as s:
        golden.promote(p, s, mine[0], "reference corrected", reference(1), "import:y")
    assert golden.golden_set(p)[mine[0]].labelers == ()
    assert len([a for a in golden.answers(p) if a.user == "ann1"]) == 10
