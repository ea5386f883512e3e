"""The content hash's fast label texts (version_hash.label_text, label_content) give
exactly the text of the slow path, `_dumps(_label_content(label_dict(a)))`, for labels
holding values no app writes but a journal can hold (an annotator can write any JSON
into their own journal): 1, True and 1.0 are one dict key but three texts, 0.0, -0.0
and False too, and a list is no dict key at all. A live export's content hash is the
one its version gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qclabel import version_hash as vh
from qclabel.core.model import Annotation, Box
from qclabel.formats import dataset_for
from qclabel.project import Project
from qclabel.version_manifest import build_manifest

from test_qa_support import qa_project


def _slow(a: Annotation) -> str:
    return vh._dumps(vh._label_content(vh.label_dict(a)))


BOX = Box("dent", 1.5, 2.0, 4.0, 3.0, "minor", id="b1")

# groups of labels whose parts are equal as dict keys (==, same hash) but not as JSON
EQUAL_KEYS = [
    [Annotation(verdict=v, boxes=(BOX,)) for v in (1, True, 1.0)],
    [Annotation(verdict="fail", flag=v, boxes=(BOX,)) for v in (0, False, 0.0, -0.0)],
    [Annotation(verdict="fail", checks=(("pin", v),), boxes=(BOX,)) for v in (0.0, -0.0, False)],
    [Annotation(verdict="fail", also=(v,), boxes=(BOX,)) for v in (1, True)],
    [Annotation(boxes=(Box(v, 1.5, 2.0, 4.0, 3.0, v, id="b"),)) for v in (1, True, 1.0)],
    [Annotation(boxes=(Box("dent", 1.5, 2.0, 4.0, 3.0, v, id="b"),)) for v in (0, False, -0.0)],
]


@pytest.mark.parametrize("group", EQUAL_KEYS, ids=range(len(EQUAL_KEYS)))
def test_equal_keys_different_texts(group: list[Annotation]) -> None:
    for order in (group, group[::-1]):  # whichever of them comes first
        vh._REST.clear(), vh._REST_TEXT.clear(), vh._TEXTS.clear()
        for a in order:
            want = _slow(a)
            assert vh.label_text(a) == want
            assert vh._dumps(vh.label_content(a)) == want


UNHASHABLE = [
    Annotation(verdict=["fail"], boxes=(BOX,)),  # type: ignore[arg-type]
    Annotation(verdict="fail", checks=(("pin", ["present"]),), boxes=(BOX,)),  # type: ignore[arg-type]
    Annotation(verdict="fail", also=({"boxes": []},), boxes=(BOX,)),  # type: ignore[arg-type]
    Annotation(boxes=(Box(["dent"], 1.5, 2.0, 4.0, 3.0, id="b"),)),  # type: ignore[arg-type]
    Annotation(boxes=(Box("dent", 1.5, 2.0, 4.0, 3.0, {"s": 1}, id="b"),)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("a", UNHASHABLE, ids=range(len(UNHASHABLE)))
def test_values_that_are_no_dict_keys_are_written_as_json_writes_them(a: Annotation) -> None:
    want = _slow(a)
    assert vh.label_text(a) == want
    assert vh._dumps(vh.label_content(a)) == want


def test_also_holding_the_boxes_key_text_does_not_move_the_boxes() -> None:
    """The text around the boxes is split at the first '"boxes":[]': a key of that
    name inside `also` (a dict there: no name) would come first."""
    a = Annotation(verdict="fail", also=({"boxes": []},), boxes=(BOX,))  # type: ignore[arg-type]
    assert vh.label_text(a) == _slow(a)
    assert json.loads(vh.label_text(a))["also"] == [{"boxes": []}]


def _labeled(tmp_path: Path, afters: list[dict]) -> Project:
    p = qa_project(tmp_path, len(afters), dual_first_n=0, spot_check_rate=0.0)
    with p.store.open_session("ann1") as s:  # the real API: any JSON is recorded
        for image, after in zip(p.store.catalog.ids(), afters):
            s.record("label", image, None, after)
    return Project.open(p.root)


def test_live_export_hash_is_the_versions_hash(tmp_path: Path) -> None:
    box = dict(cls="dent", x=1.5, y=2.0, w=4.0, h=3.0, severity="minor", id="b1")
    base = dict(defect_class=None, severity=None, keypoints=[], flag=None, skipped=False)
    afters = [
        dict(base, verdict="fail", boxes=[box], checks=[]),
        dict(base, verdict=True, boxes=[box], checks=[]),
        dict(base, verdict=1, boxes=[box], checks=[]),
        dict(base, verdict="fail", boxes=[box], checks=[["pin", False]]),
        dict(base, verdict="fail", boxes=[box], checks=[["pin", 0.0]]),
        dict(base, verdict=["fail"], boxes=[box], checks=[]),
    ]
    p = _labeled(tmp_path, afters)
    vh._REST.clear(), vh._REST_TEXT.clear(), vh._TEXTS.clear()
    live = dataset_for(p)
    assert len(live.images) == len(afters)
    assert live.content_hash == build_manifest(p)["hash"]
