"""Masks as a label kind: the stored RLE of the bounding region, the raster API an editor
uses, measurement in px and mm, taxonomy rules at edit time, journaling."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from pycocotools import mask as cocomask

from qclabel.core import edits
from qclabel.core.edits import UndoStack
from qclabel.core.kinds import KINDS, MASK, kind
from qclabel.core.mask import Mask, MaskError, outline, whole_image_rle
from qclabel.core.mask_edits import (
    MaskRules,
    delete_mask,
    new_mask,
    paint,
    put_mask,
    set_mask_class,
    set_mask_severity,
)
from qclabel.core.mask_kind import mask_iou, mask_iou_matrix, pixel_agreement, self_intersects
from qclabel.core.mask_layers import label_maps
from qclabel.core.mask_measure import measure
from qclabel.core.measure import AnnotationTooSmall
from qclabel.core.model import EMPTY, Annotation
from qclabel.core.taxonomy import load_taxonomy
from qclabel.errors import ConfigError
from qclabel.store import AnnotatorSession

TAX = {
    "name": "paint",
    "tasks": ["segmentation"],
    "classes": [
        {
            "name": "run",
            "hotkey": "1",
            "min_size": {"value": 0.25, "unit": "mm2"},
            "severities": [{"name": "minor", "max_area_mm2": 0.5}, {"name": "major"}],
        },
        {
            "name": "crack",
            "hotkey": "2",
            "criticality": "safety-critical",
            "min_size": {"value": 1.0, "unit": "mm"},
            "severities": [{"name": "short", "max_length_mm": 2}, {"name": "long"}],
        },
    ],
}


def blob(h: int = 60, w: int = 80, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w), np.uint8)
    for _ in range(4):
        cv2.circle(
            a,
            (int(rng.integers(10, w - 10)), int(rng.integers(10, h - 10))),
            int(rng.integers(3, 12)),
            1,
            -1,
        )
    return a


def test_stored_form_is_rle_of_the_tight_region():
    full = np.zeros((600, 800), np.uint8)
    full[100:130, 200:260] = 1
    m = Mask.from_array("run", full)
    assert (m.left, m.top, m.width, m.height) == (200, 100, 60, 30)
    assert m.area == 1800
    assert np.array_equal(m.full(800, 600), full)
    # The region RLE is tiny; a whole-image RLE of the same mask is what we avoid storing.
    whole = cocomask.encode(np.asfortranarray(full))["counts"]
    assert len(m.rle) < len(whole)
    assert json.loads(json.dumps(m.to_dict())) == m.to_dict()
    assert Mask.from_dict(m.to_dict()) == m


@pytest.mark.parametrize("seed", range(6))
def test_whole_image_rle_equals_pycocotools_encoding(seed):
    a = blob(seed=seed)
    m = Mask.from_array("run", a, 5, 7)
    full = np.zeros((80, 100), np.uint8)
    full[7:67, 5:85] = a
    want = cocomask.encode(np.asfortranarray(full))
    got = m.coco_rle(100, 80)
    assert got["counts"].encode() == want["counts"]
    assert np.array_equal(cocomask.decode({"size": [80, 100], "counts": got["counts"]}), full)


def test_whole_image_rle_cuts_pixels_outside_and_handles_full_height():
    region = np.ones((10, 3), np.uint8)
    rle = whole_image_rle(region, 0, 0, 4, 10)
    assert cocomask.area(rle) == 30
    rle = whole_image_rle(region, 2, 0, 4, 10)  # one column falls outside
    assert cocomask.area(rle) == 20


def test_polygon_mask_keeps_polygons_and_rasterizes_like_pycocotools_whole_image():
    ring = (10.5, 12.0, 60.2, 15.0, 55.0, 48.7, 14.0, 40.0)
    m = Mask.from_polygons("run", [ring])
    assert m.polygons == (ring,)
    ref = cocomask.decode(cocomask.merge(cocomask.frPyObjects([list(ring)], 70, 90)))
    assert np.array_equal(m.full(90, 70), ref)
    assert MASK.content(Mask.from_dict(m.to_dict())) == MASK.content(m)


def test_painted_grows_and_shrinks_the_region_and_drops_polygons():
    m = Mask.from_polygons("run", [(0, 0, 10, 0, 10, 10, 0, 10)])
    grown = m.painted(np.ones((5, 5)), 20, 20, True)
    assert grown.id == m.id and grown.polygons == ()
    assert (grown.left, grown.top, grown.x2, grown.y2) == (0, 0, 25, 25)
    assert grown.area == m.area + 25
    shrunk = grown.painted(np.ones((12, 12)), 0, 0, False)
    assert (shrunk.left, shrunk.top, shrunk.width, shrunk.height) == (20, 20, 5, 5)
    with pytest.raises(MaskError):
        shrunk.painted(np.ones((5, 5)), 20, 20, False)
    with pytest.raises(MaskError, match="empty"):
        Mask.from_array("run", np.zeros((4, 4)))


def test_clipped_to_the_image():
    m = Mask.from_array("run", np.ones((10, 10)), 95, 45)
    c = m.clipped(100, 50)
    assert (c.left, c.top, c.width, c.height) == (95, 45, 5, 5)
    assert m.clipped(90, 40) is None


def test_measure_a_straight_scratch_in_px_and_mm():
    a = np.zeros((20, 220), np.uint8)
    a[8:11, 10:210] = 1  # 200 px long, 3 px wide
    m = measure(Mask.from_array("crack", a), mm_per_px=0.05)
    assert m.area_px == 600
    assert m.bbox_px == (10, 8, 200, 3)
    assert m.extent_px == pytest.approx(math.hypot(199, 2) + 1, abs=0.01)
    assert m.length_px == pytest.approx(200, abs=3)
    assert m.width_px == pytest.approx(3, abs=0.1)
    assert m.area_mm2 == pytest.approx(600 * 0.0025)
    assert m.length_mm == pytest.approx(10, abs=0.15)


def test_measure_a_diagonal_crack_counts_diagonal_steps():
    a = np.zeros((110, 110), np.uint8)
    cv2.line(a, (5, 5), (104, 104), 1, 1)
    m = measure(Mask.from_array("crack", a))
    assert m.length_px == pytest.approx(99 * math.sqrt(2) + 1, rel=0.02)
    assert m.width_mm is None and m.area_mm2 is None  # no calibration: no mm


def test_measure_a_curved_crack_longer_than_its_extent():
    a = np.zeros((200, 200), np.uint8)
    cv2.ellipse(a, (100, 100), (80, 80), 0, 0, 180, 1, 2)
    m = measure(Mask.from_array("crack", a))
    assert m.length_px == pytest.approx(math.pi * 80, rel=0.08)  # staircase: a bit long
    assert m.extent_px == pytest.approx(162, abs=3)


def rules(mm: float | None = 0.05) -> MaskRules:
    return MaskRules(load_taxonomy(TAX), mm)


def test_below_area_minimum_is_refused_naming_the_minimum():
    small = Mask.from_array("run", np.ones((9, 9)))  # 81 px2 = 0.2025 mm2 < 0.25
    with pytest.raises(AnnotationTooSmall, match=r"0\.25 mm2 \(100 px2 at 0\.05 mm/px\)"):
        edits.apply("img", EMPTY, put_mask(small, rules()))
    ok = Mask.from_array("run", np.ones((10, 10)))
    assert edits.apply("img", EMPTY, put_mask(ok, rules())).after.masks[0].area == 100


def test_length_minimum_uses_the_longest_extent():
    with pytest.raises(AnnotationTooSmall, match="1 mm"):
        edits.apply("img", EMPTY, new_mask("crack", np.ones((1, 15)), 3, 3, rules()))
    ann = edits.apply("img", EMPTY, new_mask("crack", np.ones((1, 25)), 3, 3, rules())).after
    assert ann.masks[0].cls == "crack"


def test_severity_follows_the_area_unless_overridden_and_the_override_is_recorded():
    ann = edits.apply("img", EMPTY, new_mask("run", np.ones((10, 10)), 0, 0, rules())).after
    m = ann.masks[0]
    assert m.severity == "minor" and not m.severity_override  # 0.25 mm2 <= 0.5
    bigger = edits.apply("img", ann, paint(m.id, np.ones((20, 20)), 0, 0, True, rules()))
    assert bigger.after.masks[0].severity == "major"  # 1.0 mm2
    chosen = edits.apply("img", bigger.after, set_mask_severity(m.id, "minor", rules())).after
    assert chosen.masks[0].severity == "minor" and chosen.masks[0].severity_override
    assert chosen.to_dict()["masks"][0]["severity_override"] is True
    # An override sticks through later strokes; None hands it back to the thresholds.
    more = edits.apply("img", chosen, paint(m.id, np.ones((2, 2)), 30, 30, True, rules()))
    assert more.after.masks[0].severity == "minor"
    back = edits.apply("img", more.after, set_mask_severity(m.id, None, rules())).after
    assert back.masks[0].severity == "major" and not back.masks[0].severity_override


def test_severity_by_length_needs_a_calibration():
    ann = edits.apply("img", EMPTY, new_mask("crack", np.ones((1, 60)), 0, 0, rules())).after
    assert ann.masks[0].severity == "long"  # 3 mm > 2 mm
    raw = rules(None)
    ann = edits.apply("img", EMPTY, new_mask("crack", np.ones((1, 60)), 0, 0, raw)).after
    assert ann.masks[0].severity is None  # unmeasured in mm: no automatic severity


def test_semantic_task_keeps_one_layer_per_class():
    tax = load_taxonomy({**TAX, "segmentation": "semantic"})
    r = MaskRules(tax, 0.05)
    a = edits.apply("i", EMPTY, new_mask("run", np.ones((10, 10)), 0, 0, r)).after
    b = edits.apply("i", a, new_mask("run", np.ones((10, 10)), 50, 50, r)).after
    assert len(b.masks) == 1 and b.masks[0].id == a.masks[0].id and b.masks[0].area == 200
    c = edits.apply("i", b, new_mask("crack", np.ones((1, 30)), 0, 5, r)).after
    assert sorted(m.cls for m in c.masks) == ["crack", "run"]
    d = edits.apply("i", c, set_mask_class(c.masks[1].id, "run", r)).after
    assert len(d.masks) == 1


def test_undo_is_per_stroke_and_delete_restores():
    r = rules()
    stack = UndoStack()
    ann = EMPTY
    for change in (edits.apply("i", ann, new_mask("run", np.ones((10, 10)), 0, 0, r)),):
        stack.push(change)
        ann = change.after
    mid = ann.masks[0].id
    for x in (10, 20, 30):
        change = edits.apply("i", ann, paint(mid, np.ones((10, 10)), x, 0, True, r))
        stack.push(change)
        ann = change.after
    assert ann.masks[0].area == 400
    ann = stack.undo().after
    assert ann.masks[0].area == 300
    ann = stack.redo().after
    assert ann.masks[0].area == 400
    gone = edits.apply("i", ann, delete_mask(mid)).after
    assert gone.masks == () and not gone.is_labeled
    erased = edits.apply("i", ann, paint(mid, np.ones((10, 40)), 0, 0, False, r)).after
    assert erased.masks == ()


def test_masks_are_objects_of_the_annotation_through_the_kind_registry():
    m = Mask.from_array("run", np.ones((10, 10)))
    ann = Annotation(verdict="fail", masks=(m,))
    assert ann.is_labeled and ann.has_objects
    assert ann.classes() == ["run"]
    assert [k.name for k, _ in ann.objects()] == ["mask"]
    assert kind("masks") is MASK and MASK in KINDS
    assert Annotation.from_dict(ann.to_dict()) == ann
    # Labels without masks keep their exact serialized form.
    assert "masks" not in Annotation(verdict="pass").to_dict()


def test_journal_line_of_a_mask_edit_stays_small(tmp_path):
    """The journal holds the RLE of the bounding region: a 40x30 defect on a 5 MP image
    costs a few hundred bytes, not an RLE of the whole image."""
    a = blob(30, 40)
    m = Mask.from_array("run", a, 1800, 1200)
    with AnnotatorSession(tmp_path / "labels", "qm_ann") as s:
        s.commit(edits.apply("img1", EMPTY, put_mask(m, rules())))
    line = (tmp_path / "labels" / "qm_ann.jsonl").read_bytes().splitlines()[-1]
    assert len(line) < 900
    event = json.loads(line)
    stored = event["after"]["masks"][0]
    assert (stored["left"], stored["top"], stored["width"], stored["height"]) == (
        m.left,
        m.top,
        m.width,
        m.height,
    )  # the region, not the image
    from qclabel.store.labels import load_state

    replayed = load_state(tmp_path / "labels", "qm_ann").annotation("img1")
    assert np.array_equal(replayed.masks[0].full(2592, 1944), m.full(2592, 1944))


def test_mask_iou_matches_pycocotools_and_semantic_pixel_agreement():
    a = Mask.from_array("run", np.ones((10, 10)), 0, 0)
    b = Mask.from_array("run", np.ones((10, 10)), 5, 0)
    assert mask_iou(a, b) == pytest.approx(50 / 150)
    ious = mask_iou_matrix([a, b], [b])
    assert ious.shape == (2, 1) and ious[1, 0] == pytest.approx(1.0)
    assert pixel_agreement([a], [b]) == (50, 100, 100)
    m = MASK.match([a, b], [b])
    assert m.pairs == ((1, 0, 1.0),) and m.unmatched_a == (0,)


def test_self_intersection():
    assert self_intersects((0, 0, 10, 10, 10, 0, 0, 10))  # a bow tie
    assert not self_intersects((0, 0, 10, 0, 10, 10, 0, 10))
    assert not self_intersects((0, 0, 10, 0, 5, 8))


def test_label_maps_follow_the_overlap_rules():
    tax = load_taxonomy(TAX)
    big = Mask.from_array("run", np.ones((20, 20)), 0, 0)
    small = Mask.from_array("crack", np.ones((4, 4)), 2, 2)
    classes, instances = label_maps([small, big], tax, 30, 30)
    assert classes[3, 3] == 2 and instances[3, 3] == 1  # smaller instance on top
    assert classes[10, 10] == 1 and instances[10, 10] == 2
    sem = load_taxonomy(
        {
            **TAX,
            "segmentation": "semantic",
            "classes": [{**c, "criticality": "cosmetic"} for c in TAX["classes"]],
        }
    )
    classes, _ = label_maps([small, big], sem, 30, 30)
    assert classes[3, 3] == 1  # same criticality: the class listed first wins
    crit = load_taxonomy({**TAX, "segmentation": "semantic"})
    classes, _ = label_maps([small, big], crit, 30, 30)
    assert classes[3, 3] == 2  # safety-critical crack wins over the cosmetic run


def test_outline_of_a_painted_mask_is_simplified():
    a = np.zeros((450, 450), np.uint8)
    cv2.circle(a, (225, 225), 200, 1, -1)
    rings = outline(Mask.from_array("run", a))
    assert len(rings) == 1 and 6 <= len(rings[0]) // 2 < 250


@pytest.mark.parametrize(
    "bad,field",
    [
        ({"segmentation": "panoptic"}, "taxonomy.segmentation"),
        (
            {
                "classes": [
                    {
                        "name": "run",
                        "hotkey": "1",
                        "severities": [{"name": "minor", "max_area_mm2": -1}],
                    }
                ]
            },
            "max_area_mm2",
        ),
        (
            {"classes": [{"name": "run", "hotkey": "1", "min_size": {"value": 1, "unit": "cm2"}}]},
            "unit",
        ),
    ],
)
def test_taxonomy_refuses_bad_mask_settings(bad, field):
    with pytest.raises(ConfigError, match=field):
        load_taxonomy({**TAX, **bad})
