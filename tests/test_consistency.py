"""Consistency rules (core.consistency): the pure rules, the taxonomy switch, refusal at
label time through the Python API, and a new object kind plugging in."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

import numpy as np

from qclabel.core import consistency, edits, kinds
from qclabel.core.consistency import check, complete
from qclabel.core.kind_base import BoxKind
from qclabel.core.mask import Mask
from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
from qclabel.core.taxonomy import load_taxonomy
from qclabel.errors import ConfigError, InconsistentLabel, QclabelError
from qclabel.project import Project
from qclabel.tui.labeling import Labeler

TAX = {
    "name": "t",
    "tasks": ["passfail", "classification", "box"],
    "classes": [
        {"name": "scratch", "hotkey": "1", "severities": ["minor", "major"]},
        {"name": "crack", "hotkey": "3", "severities": ["critical"]},
        {"name": "dent", "hotkey": "2"},
    ],
}
BOX = Box("scratch", 1, 2, 10, 10, "minor", id="b1")


def tax(**extra):
    return load_taxonomy({**TAX, **extra}, "t.toml")


def rules(ann, taxonomy=None):
    return [f.rule for f in check(ann, taxonomy or tax())]


def test_pass_with_a_box_breaks_a_blocking_rule_unless_the_taxonomy_allows_it():
    ann = Annotation(verdict="pass", boxes=(BOX,))
    found = check(ann, tax())
    assert [(f.rule, f.blocking) for f in found] == [("pass-with-objects", True)]
    assert "pass with 1 box" in found[0].detail
    assert rules(ann, tax(pass_allows_objects=True)) == []


def test_fail_without_a_box_is_incomplete_only_in_a_detection_task():
    ann = Annotation(verdict="fail", defect_class="dent")
    found = check(ann, tax())
    assert [(f.rule, f.blocking) for f in found] == [("incomplete", False)]
    assert found[0].detail == "fail without any box"
    no_boxes = tax(tasks=["passfail", "classification"])
    assert rules(ann, no_boxes) == []
    assert rules(replace(ann, boxes=(Box("dent", 0, 0, 5, 5),))) == []
    # keypoint sets are no defect objects: they do not complete a fail image
    kps = KeypointSet("t", (Keypoint("a", 1, 1, 2),))
    assert rules(replace(ann, keypoints=(kps,))) == ["incomplete"]


def test_unknown_class_and_severity_and_pass_with_class():
    ann = Annotation(
        verdict="fail",
        defect_class="scratch",
        severity="critical",
        boxes=(Box("rust", 0, 0, 5, 5), Box("crack", 0, 0, 5, 5, "minor")),
    )
    found = {f.rule: f.detail for f in check(ann, tax())}
    assert set(found) == {"unknown-class", "unknown-severity"}
    assert "box class 'rust'" in found["unknown-class"]
    assert "image scratch severity 'critical'" in found["unknown-severity"]
    assert "box crack severity 'minor'" in found["unknown-severity"]
    assert rules(Annotation(verdict="pass", defect_class="dent")) == ["pass-with-class"]


def test_unlabeled_and_plain_labels_break_nothing():
    assert check(Annotation(), tax()) == []
    assert check(Annotation(skipped=True), tax()) == []
    assert check(Annotation(verdict="pass"), tax()) == []
    assert check(Annotation(verdict="fail", boxes=(BOX,)), tax()) == []
    assert check(Annotation(boxes=(BOX,)), tax()) == []  # box-only labeling: no verdict


def test_a_class_with_one_severity_gets_it_without_asking():
    t = tax()
    assert t.get("crack").fixed_severity == "critical" and not t.get("crack").asks_severity
    assert t.get("scratch").fixed_severity is None and t.get("scratch").asks_severity
    assert t.get("dent").fixed_severity is None and not t.get("dent").asks_severity
    ann = complete(
        Annotation(verdict="fail", defect_class="crack", boxes=(Box("crack", 0, 0, 5, 5), BOX)), t
    )
    assert ann.severity == "critical"
    assert [b.severity for b in ann.boxes] == ["critical", "minor"]


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_pass_allows_objects_must_be_a_boolean(value):
    with pytest.raises(ConfigError) as e:
        tax(pass_allows_objects=value)
    assert "taxonomy.pass_allows_objects" in str(e.value) and "true or false" in str(e.value)


def test_bundled_taxonomies_say_whether_a_pass_keeps_its_boxes():
    from qclabel.project import resolve_taxonomy_file

    got = {
        n: load_taxonomy(resolve_taxonomy_file(n)[0]["taxonomy"]).pass_allows_objects
        for n in ("metal-stamping", "pcb-solder", "assembly-keypoints")
    }
    assert got == {"metal-stamping": False, "pcb-solder": False, "assembly-keypoints": True}


# -- label time: the Python API raises, nothing is saved -----------------------------
@pytest.fixture
def labeler(tmp_path):
    from test_qa_support import write_images
    from qclabel.ingest import ingest_paths

    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    ingest_paths(project, [write_images(tmp_path / "images", 3)])
    session = project.store.open_session("admin")
    lab = Labeler(project, session)
    lab.load_queue("all")
    yield lab
    session.close()


def journal(lab):
    return Project.open(lab.project.root).store.state("admin").annotations("label")


def test_labeler_refuses_pass_on_an_image_with_boxes_and_saves_nothing(labeler):
    image = labeler.current
    labeler.apply(image, edits.set_class("scratch", "minor"), edits.add_box(BOX))
    with pytest.raises(InconsistentLabel) as e:
        labeler.apply(image, edits.set_verdict("pass"))
    assert isinstance(e.value, QclabelError)
    assert "part_0000.png" in str(e.value) and "pass-with-objects" in str(e.value)
    assert e.value.findings[0].rule == "pass-with-objects"
    assert journal(labeler)[image].verdict == "fail"
    assert labeler.undo_stack.undo().before.verdict == "fail"  # the refusal is no undo step


def test_labeler_refuses_a_box_on_a_pass_image(labeler):
    image = labeler.current
    labeler.apply(image, edits.set_verdict("pass"))
    with pytest.raises(InconsistentLabel):
        labeler.apply(image, edits.add_box(BOX))
    assert journal(labeler)[image].boxes == ()


def test_grid_style_batch_is_refused_whole(labeler):
    a, b = labeler.queue[:2]
    labeler.apply(b, edits.add_box(BOX))
    with pytest.raises(InconsistentLabel):
        labeler.apply_many([(a, [edits.set_verdict("pass")]), (b, [edits.set_verdict("pass")])])
    assert a not in journal(labeler) and journal(labeler)[b].verdict is None


def test_labeler_keeps_the_box_when_the_taxonomy_allows_it(labeler):
    labeler.project.taxonomy = replace(labeler.project.taxonomy, pass_allows_objects=True)
    image = labeler.current
    labeler.apply(image, edits.add_box(BOX), edits.set_verdict("pass"))
    ann = journal(labeler)[image]
    assert ann.verdict == "pass" and ann.boxes == (BOX,)


def test_labeler_fills_the_single_severity(labeler):
    image = labeler.current
    change = labeler.apply(
        image, edits.set_class("crack"), edits.add_box(Box("crack", 0, 0, 12, 12, id="c1"))
    )
    assert change.after.severity == "critical"
    ann = journal(labeler)[image]
    assert ann.severity == "critical" and ann.boxes[0].severity == "critical"


def test_an_already_inconsistent_image_can_still_be_edited(labeler):
    """Labels from before a rule existed: edits that do not add a new broken rule pass."""
    image = labeler.current
    legacy = Annotation(verdict="pass", boxes=(BOX, replace(BOX, id="b2")))
    labeler.session.commit(edits.Change(image, Annotation(), legacy))
    labeler.apply(image, edits.delete_box("b2"))
    assert len(journal(labeler)[image].boxes) == 1
    labeler.apply(image, edits.set_verdict("fail"))  # fixed
    assert check(journal(labeler)[image], labeler.project.taxonomy) == []


def test_a_decision_obeys_the_same_rules(tmp_path):
    from qclabel.qa.decisions import adjudicate, review
    from test_qa_support import label, qa_project

    p = qa_project(tmp_path, 6, dual_first_n=2, spot_check_rate=1.0)
    ids = p.store.catalog.ids()
    label(p, "ann1", ids[0], edits.set_class("scratch", "minor"), edits.add_box(BOX))
    label(p, "ann2", ids[0], edits.set_verdict("pass"))
    with p.store.open_session("adj") as s:
        with pytest.raises(InconsistentLabel):
            adjudicate(p, s, ids[0], "edited", Annotation(verdict="pass", boxes=(BOX,)), "x")
        adjudicate(p, s, ids[0], "A", p.store.state("ann1").annotation(ids[0]), "box seen")
    label(
        p,
        "ann1",
        ids[2],
        edits.set_class("dent", "minor"),
        edits.add_box(Box("dent", 0, 0, 9, 9, "minor")),
    )
    with p.store.open_session("rev") as s:
        with pytest.raises(InconsistentLabel):
            review(p, s, ids[2], Annotation(verdict="pass", boxes=(BOX,)), "not a dent")


# -- masks count as defect objects; a new object kind plugs in ---------------------------
def _mask(cls: str = "scratch") -> Mask:
    return Mask.from_array(cls, np.ones((3, 4), bool), 10, 10)


def test_masks_are_defect_objects_in_every_rule():
    seg = tax(tasks=["passfail", "segmentation"])
    assert consistency.is_detection(seg)
    passed = Annotation(verdict="pass", masks=(_mask(), _mask()))
    assert [f.detail.split(":")[0] for f in check(passed, seg)] == ["pass with 2 masks"]
    failed = Annotation(verdict="fail")
    assert [(f.rule, f.detail) for f in check(failed, seg)] == [
        ("incomplete", "fail without any mask")
    ]
    assert check(replace(failed, masks=(_mask(),)), seg) == []
    odd = Annotation(verdict="fail", masks=(_mask("no-such-class"),))
    assert [f.rule for f in check(odd, seg)] == ["unknown-class"]


@dataclass(frozen=True)
class WithPolylines(Annotation):
    polylines: tuple = ()


class PolylineKind(BoxKind):
    name, field, noun, plural, task, defect = (
        "polyline",
        "polylines",
        "polyline",
        "polylines",
        "box",
        True,
    )


@pytest.fixture
def polyline_kind():
    added = kinds.register(PolylineKind())
    yield added
    kinds.KINDS.remove(added)


def test_a_new_object_kind_plugs_into_every_rule(polyline_kind):
    lines = tax(tasks=["passfail", "box"])
    assert consistency.is_detection(lines)
    passed = WithPolylines(verdict="pass", polylines=("l1", "l2"))
    assert [f.detail.split(":")[0] for f in check(passed, lines)] == ["pass with 2 polylines"]
    failed = WithPolylines(verdict="fail")
    assert [(f.rule, f.detail) for f in check(failed, lines)] == [
        ("incomplete", "fail without any box or polyline")
    ]
