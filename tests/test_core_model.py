"""Domain core: records round-trip, edits are pure and undoable, geometry conventions."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qclabel.core import edits, geometry
from qclabel.core.model import (
    NOT_LABELED,
    OCCLUDED,
    VISIBLE,
    Annotation,
    Box,
    ImageRecord,
    Keypoint,
    KeypointSet,
)

coord = st.floats(min_value=0, max_value=4000, allow_nan=False)
size = st.floats(min_value=0.5, max_value=500, allow_nan=False)
boxes = st.builds(
    Box,
    st.sampled_from(["scratch", "dent"]),
    coord,
    coord,
    size,
    size,
    st.sampled_from([None, "minor"]),
)
kpsets = st.builds(
    lambda xs: KeypointSet(
        "bracket",
        tuple(Keypoint(n, x, y, v) for n, (x, y, v) in zip(("a", "b", "c"), xs)),
        "bracket",
    ),
    st.lists(
        st.tuples(coord, coord, st.sampled_from([NOT_LABELED, OCCLUDED, VISIBLE])),
        min_size=3,
        max_size=3,
    ),
)
annotations = st.builds(
    Annotation,
    st.sampled_from([None, "pass", "fail"]),
    st.sampled_from([None, "dent"]),
    st.sampled_from([None, "major"]),
    st.lists(boxes, max_size=4).map(tuple),
    st.lists(kpsets, max_size=2).map(tuple),
    st.just((("screw", "present"),)),
    st.sampled_from([None, "glare"]),
    st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(annotations)
def test_annotation_survives_json(ann: Annotation) -> None:
    """What the journal stores (JSON text) gives back the same annotation."""
    assert Annotation.from_dict(json.loads(json.dumps(ann.to_dict()))) == ann


def test_image_record_round_trip() -> None:
    rec = ImageRecord(
        "ab12",
        "f" * 64,
        "cam1/a.tif",
        "a.tif",
        2048,
        1024,
        bit_depth=16,
        channels=1,
        mode="I;16",
        window=(20000.0, 36000.0),
        dpi=(300.0, 300.0),
        fields={"lot": "L07"},
        mm_per_px=0.05,
    )
    back = ImageRecord.from_dict(json.loads(json.dumps(rec.to_dict())))
    assert back == rec and back.window == (20000.0, 36000.0)
    assert ImageRecord.from_dict({**rec.to_dict(), "added_later": 1}) == rec  # newer fields


def test_states() -> None:
    assert Annotation().state == "unlabeled"
    assert edits.skip()(Annotation()).state == "skipped"
    assert edits.set_verdict("pass")(Annotation()).state == "labeled"
    flagged = edits.set_flag("unsure")(edits.set_verdict("fail")(Annotation()))
    assert flagged.state == "flagged"
    assert edits.set_verdict("pass")(edits.skip()(Annotation())).skipped is False


def test_verdict_and_class_rules() -> None:
    failed = edits.set_class("crack", "critical")(Annotation())
    assert (failed.verdict, failed.defect_class, failed.severity) == ("fail", "crack", "critical")
    passed = edits.set_verdict("pass")(failed)  # a passed part has no defect
    assert (passed.verdict, passed.defect_class, passed.severity) == ("pass", None, None)
    with pytest.raises(ValueError, match="verdict must be one of"):
        edits.set_verdict("maybe")
    with pytest.raises(ValueError, match="outcome must be one of"):
        edits.set_check("screw", "loose")


def test_box_edits_keep_ids_and_order() -> None:
    a, b = Box("dent", 1, 2, 3, 4, id="a"), Box("scratch", 5, 6, 7, 8, id="b")
    ann = edits.apply("img", Annotation(), edits.add_box(a), edits.add_box(b)).after
    moved = edits.replace_box(a.moved(10, 0))(ann)
    assert [bx.id for bx in moved.boxes] == ["a", "b"] and moved.boxes[0].x == 11
    assert edits.delete_box("a")(ann).boxes == (b,)
    with pytest.raises(KeyError):
        edits.replace_box(Box("dent", 0, 0, 1, 1, id="zz"))(ann)
    assert ann.classes() == ["dent", "scratch"]


def test_keypoint_sets_replace_by_id() -> None:
    empty = edits.empty_keypoints("bracket", ("a", "b"), "bracket")
    assert all(p.v == NOT_LABELED for p in empty.points)
    ann = edits.put_keypoints(empty)(Annotation())
    placed = KeypointSet(
        "bracket",
        (Keypoint("a", 3, 4, VISIBLE), Keypoint("b", 0, 0, OCCLUDED)),
        "bracket",
        id=empty.id,
    )
    ann = edits.put_keypoints(placed)(ann)
    assert len(ann.keypoints) == 1 and ann.keypoints[0].point("a").x == 3
    assert edits.delete_keypoints(empty.id)(ann).keypoints == ()


@settings(max_examples=40, deadline=None)
@given(st.lists(annotations, min_size=1, max_size=6))
def test_undo_redo_walks_back_and_forth(history: list[Annotation]) -> None:
    """Undo gives each change's inverse (which the session journals); redo replays it."""
    stack, current = edits.UndoStack(), Annotation()
    states = [current]
    for target in history:
        change = edits.Change("img", current, target)
        stack.push(change)
        current = change.after
        states.append(current)
    for expected in reversed(states[:-1]):
        change = stack.undo()
        assert change.before == current
        current = change.after
        assert current == expected
    assert stack.undo() is None and not stack.can_undo
    for expected in states[1:]:
        current = stack.redo().after
        assert current == expected
    assert stack.redo() is None


def test_new_change_clears_redo() -> None:
    stack = edits.UndoStack()
    stack.push(edits.apply("i", Annotation(), edits.set_verdict("pass")))
    stack.undo()
    stack.push(edits.apply("i", Annotation(), edits.set_verdict("fail")))
    assert stack.redo() is None


def test_iou_and_clip() -> None:
    a = Box("x", 0, 0, 10, 10)
    assert geometry.iou(a, a) == 1.0
    assert geometry.iou(a, Box("x", 5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert geometry.iou(a, Box("x", 20, 20, 5, 5)) == 0.0
    assert geometry.iou(Box("x", 0, 0, 0, 0), Box("x", 0, 0, 0, 0)) == 0.0
    clipped = geometry.clip_box(Box("x", -5, 90, 20, 20, id="k"), 100, 100)
    assert (clipped.x, clipped.y, clipped.w, clipped.h, clipped.id) == (0, 90, 15, 10, "k")


def test_corner_pixels_are_included() -> None:
    box = geometry.box_from_corners("x", 9, 7, 2, 3)
    assert (box.x, box.y, box.w, box.h) == (2, 3, 8, 5)


@settings(max_examples=40, deadline=None)
@given(boxes)
def test_yolo_and_voc_round_trip(box: Box) -> None:
    yolo = geometry.to_yolo(box, 4600, 4600)
    back = geometry.from_yolo(box.cls, *yolo, 4600, 4600)
    assert (back.x, back.y, back.w, back.h) == pytest.approx((box.x, box.y, box.w, box.h))
    whole = Box(box.cls, round(box.x), round(box.y), max(1, round(box.w)), max(1, round(box.h)))
    xmin, ymin, xmax, ymax = geometry.to_voc(whole)
    assert xmin == whole.x + 1 and xmax == whole.x2  # 1-based, inclusive
    v = geometry.from_voc(box.cls, xmin, ymin, xmax, ymax)
    assert (v.x, v.y, v.w, v.h) == (whole.x, whole.y, whole.w, whole.h)
