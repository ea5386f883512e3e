"""Labels without objects share one Annotation per equal label (store.label_facts):
that shortcut must give what `Annotation.from_dict` gives, or refuse what it cannot
build, whichever label came first. A journal holds whatever its annotator wrote (the
real API records any JSON), so `"boxes": null`, `"also": 0` and the like reach every
reader: each is one clear line naming the journal and the image, never a traceback,
and never silently a label without boxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qclabel.core.model import Annotation, Box
from qclabel.errors import JournalCorrupt
from qclabel.formats import export_project
from qclabel.project import Project
from qclabel.store import label_facts
from qclabel.store.replay import load_state

from test_qa_support import qa_project

BASE: dict[str, Any] = dict(
    verdict="fail", defect_class="dent", severity=None, keypoints=[], checks=[], flag=None
)
FINE = dict(BASE, boxes=[], skipped=False)

# what from_dict cannot build (a field that is not a list of objects)
UNREADABLE = [
    dict(BASE, boxes=None),
    dict(BASE, boxes=0),
    dict(BASE, boxes=[], keypoints=None),
    dict(BASE, boxes=[], checks=None),
    dict(BASE, boxes=[], checks=0),
    dict(BASE, boxes=[], also=0),
    dict(BASE, boxes=[], also=None),
    dict(BASE, boxes=[], also=False),
    dict(BASE, boxes=[{"cls": "dent", "x": 1.0}]),  # a box without w, h
    dict(BASE, boxes=[{"cls": "dent", "x": 10**400, "y": 0, "w": 1, "h": 1}]),
]


def _project(tmp_path: Path, afters: list[dict[str, Any]]) -> tuple[Project, list[str]]:
    p = qa_project(tmp_path, len(afters), dual_first_n=0, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    with p.store.open_session("ann1") as s:
        for image, after in zip(ids, afters):
            s.record("label", image, None, after)
    return Project.open(p.root), ids


@pytest.mark.parametrize("bad", UNREADABLE, ids=range(len(UNREADABLE)))
def test_an_unreadable_label_is_one_clear_line_whichever_came_first(
    tmp_path: Path, bad: dict[str, Any]
) -> None:
    p, ids = _project(tmp_path, [FINE, bad, FINE])
    for warm in (True, False):
        label_facts.SHARED.clear()
        state = load_state(p.store.labels_dir, "ann1")
        if warm:  # an equal label without objects was built first: its key is known
            assert state.annotation(ids[0]).defect_class == "dent"
        with pytest.raises(
            JournalCorrupt, match=rf"labels/ann1\.jsonl: the label of image {ids[1]}"
        ):
            state.annotation(ids[1])
    with pytest.raises(JournalCorrupt, match=ids[1]):
        export_project(p, "coco", tmp_path / "out", link="none")
    assert not (tmp_path / "out").exists()


READABLE = [
    dict(BASE, boxes=[], also=[]),
    dict(BASE, boxes=[], also=""),  # an empty string: no classes, as from_dict reads it
    dict(BASE, boxes="", also=["scratch"]),
    dict(BASE, boxes=[], skipped=1),
    dict(BASE, boxes=[], skipped="yes", flag="unsure"),
    dict(BASE, boxes=[], checks={}),
    {"verdict": "pass"},
    {"verdict": "pass", "later": 1},  # a field qclabel does not know
]


def test_a_readable_label_is_what_from_dict_builds(tmp_path: Path) -> None:
    p, ids = _project(tmp_path, [FINE, *READABLE])
    for warm in (True, False):
        label_facts.SHARED.clear()
        state = load_state(p.store.labels_dir, "ann1")
        if warm:
            state.annotation(ids[0])
        for image, after in zip(ids[1:], READABLE):
            got, want = state.annotation(image), Annotation.from_dict(after)
            assert got == want and list(vars(got).items()) == list(vars(want).items())


def test_box_refuses_bools_and_numbers_no_float_can_hold() -> None:
    """Box's own quick check lets through only what `finite` lets through."""
    for bad in (True, False, 10**400, -(10**400)):
        with pytest.raises(Exception) as info:
            Box("dent", 1.0, bad, 1.0, 1.0)
        assert type(info.value).__name__ == "InvalidGeometry", bad
    assert Box("dent", 1, 2, 3, 4).x == 1  # ints stay ints
    assert Box("dent", -0.0, 1e308, 5e-324, 1.0).y == 1e308


@pytest.mark.parametrize(
    "annotation",
    [
        dict(BASE, boxes=None),
        dict(BASE, boxes=[{"cls": "dent", "x": float("nan"), "y": 0.0, "w": 1.0, "h": 1.0}]),
        "fail",  # not a label at all
    ],
    ids=["null", "nan", "text"],
)
def test_a_decision_that_cannot_be_built_is_one_line_naming_its_journal(
    tmp_path: Path, annotation: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An adjudicator's `final` (or a reviewer's `review`) event is built the same two
    ways (final_build, then from_dict): what neither builds is named like a label."""
    from qclabel.store import session

    p, ids = _project(tmp_path, [FINE])
    monkeypatch.setattr(session, "refuse_non_finite", lambda value, what: None)  # a tamperer
    with p.store.open_session("adj") as s:
        after = {"annotation": annotation, "source": "A", "annotators": ["ann1"]}
        s.record("final", ids[0], None, after, "decided")
    with pytest.raises(JournalCorrupt, match=rf"labels/adj\.jsonl: the decision on image {ids[0]}"):
        export_project(Project.open(p.root), "coco", tmp_path / "out", link="none")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "rest",
    [{"also": None}, {"also": 0}, {"checks": None}, {"checks": [1]}, {"checks": 5}],
    ids=["also-null", "also-0", "checks-null", "checks-of-int", "checks-5"],
)
def test_a_box_label_with_a_rest_from_dict_refuses_is_refused_as_such(
    tmp_path: Path, rest: dict[str, Any]
) -> None:
    """final_build's box labels leave what they were not written for to from_dict,
    raising nothing themselves: the reader names the label."""
    box = {"cls": "dent", "x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0, "severity": None, "id": "b"}
    p, ids = _project(tmp_path, [dict(BASE, boxes=[box], **rest)])
    with pytest.raises(JournalCorrupt, match=rf"labels/ann1\.jsonl: the label of image {ids[0]}"):
        export_project(p, "coco", tmp_path / "out", link="none")
