"""Agreement statistics, box matching and keypoint metrics against hand-computed values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from pycocotools import mask as mask_utils

from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
from qclabel.qa.agreement import annotations_agree, compare
from qclabel.qa.keypoints import match_sets
from qclabel.qa.matching import greedy_match, iou_matrix, mask_iou, match_boxes, match_iou_matrix
from qclabel.qa.stats import agreement, agreement_from_confusion


def pairs_from(cm: list[list[int]], cats: list[str]) -> list[tuple[str, str]]:
    return [
        (cats[i], cats[j]) for i, row in enumerate(cm) for j, n in enumerate(row) for _ in range(n)
    ]


# -- classification statistics ------------------------------------------------------
def test_kappa_ac1_pabak_two_categories_by_hand():
    # A rows, B columns: po = 35/50 = 0.7; pA = (.5, .5), pB = (.6, .4)
    # kappa: pe = .5*.6 + .5*.4 = .5 -> (.7-.5)/.5 = 0.4
    # AC1: pi = (.55, .45), pe = 2*.55*.45 = .495 -> (.7-.495)/.505 = 0.405941
    # PABAK: 2*.7 - 1 = 0.4
    cats = ["pass", "fail"]
    a = agreement(pairs_from([[20, 5], [10, 15]], cats), cats)
    assert a.n == 50
    assert a.confusion == [[20, 5], [10, 15]]
    assert a.percent == pytest.approx(0.7)
    assert a.kappa == pytest.approx(0.4)
    assert a.ac1 == pytest.approx(0.405941, abs=1e-4)
    assert a.pabak == pytest.approx(0.4)


def test_prevalence_collapses_kappa_but_not_ac1():
    # 97 both pass, 1 + 1 disagreements, 1 both fail: po = .98, pe(kappa) = .9608
    # kappa = .0192/.0392 = 0.489796; AC1: pe = 2*.98*.02 = .0392 -> .9408/.9608 = 0.979184
    cats = ["pass", "fail"]
    a = agreement(pairs_from([[97, 1], [1, 1]], cats), cats)
    assert a.percent == pytest.approx(0.98)
    assert a.kappa == pytest.approx(0.489796, abs=1e-4)
    assert a.ac1 == pytest.approx(0.979184, abs=1e-4)
    assert a.pabak == pytest.approx(0.96)


def test_three_categories_by_hand():
    # po = 9/12 = .75; pA = (6,4,2)/12, pB = (6,3,3)/12; pe = 54/144 = .375 -> kappa .6
    # pi = (.5, 7/24, 5/24); sum pi(1-pi) = .621528, /(q-1) = .310764
    # AC1 = (.75 - .310764) / (1 - .310764) = 0.637280
    cats = ["pass", "scratch", "dent"]
    cm = [[5, 1, 0], [1, 2, 1], [0, 0, 2]]
    a = agreement(pairs_from(cm, cats), cats)
    assert a.kappa == pytest.approx(0.6)
    assert a.ac1 == pytest.approx(0.637280, abs=1e-4)
    assert a.pabak == pytest.approx((3 * 0.75 - 1) / 2)


def test_kappa_undefined_when_one_category_only():
    a = agreement([("pass", "pass")] * 40, ["pass", "fail"])
    assert a.percent == 1.0
    assert a.kappa is None
    assert a.ac1 == 1.0


def test_bootstrap_ci_is_seeded_and_brackets_the_estimate():
    cats = ["pass", "fail"]
    cm = np.array([[80, 6], [4, 10]])
    one = agreement_from_confusion(cm, cats, seed=7)
    two = agreement_from_confusion(cm, cats, seed=7)
    other = agreement_from_confusion(cm, cats, seed=8)
    assert one.ci == two.ci
    assert one.ci != other.ci
    for m in ("percent", "kappa", "ac1", "pabak"):
        lo, hi = one.ci[m]
        assert lo <= getattr(one, m) <= hi
        assert hi - lo > 0.01


def test_no_pairs_gives_no_numbers():
    a = agreement([], ["pass", "fail"])
    assert a.n == 0 and a.percent is None and a.ci["kappa"] is None


# -- box matching ------------------------------------------------------------------
def test_crossing_candidates_optimal_beats_greedy():
    # IoU(A1,B1)=70/130=.538, IoU(A1,B2)=60/140=.429, IoU(A2,B1)=.538, IoU(A2,B2)=0.
    # Greedy takes A1-B1 and strands A2; optimal pairs A1-B2 and A2-B1.
    a = [Box("scratch", 0, 0, 10, 10), Box("scratch", 6, 0, 10, 10)]
    b = [Box("scratch", 3, 0, 10, 10), Box("scratch", -4, 0, 10, 10)]
    ious = iou_matrix(
        np.array([[0, 0, 10, 10], [6, 0, 10, 10]], float),
        np.array([[3, 0, 10, 10], [-4, 0, 10, 10]], float),
    )
    assert ious[0, 0] == pytest.approx(70 / 130)
    assert ious[0, 1] == pytest.approx(60 / 140)
    greedy = greedy_match(ious)
    assert [(i, j) for i, j, _ in greedy.pairs] == [(0, 0)]
    best = match_boxes(a, b)
    assert sorted((i, j) for i, j, _ in best.pairs) == [(0, 1), (1, 0)]
    assert best.total_iou == pytest.approx(60 / 140 + 70 / 130)
    assert not best.unmatched_a and not best.unmatched_b


def test_same_class_partner_preferred_over_higher_iou():
    a = [Box("scratch", 0, 0, 10, 10), Box("dent", 2, 0, 10, 10)]
    b = [Box("dent", 1, 0, 10, 10), Box("scratch", 3, 0, 10, 10)]
    m = match_boxes(a, b)
    assert {(a[i].cls, b[j].cls) for i, j, _ in m.pairs} == {
        ("scratch", "scratch"),
        ("dent", "dent"),
    }


def test_boxes_below_pairing_iou_are_missing_and_extra():
    m = match_boxes([Box("dent", 0, 0, 10, 10)], [Box("dent", 50, 50, 10, 10)])
    assert m.pairs == () and m.unmatched_a == (0,) and m.unmatched_b == (0,)


boxes = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(1, 25), st.integers(1, 25)),
    min_size=0,
    max_size=5,
)


def _arr(bs):
    return np.array(bs, dtype=float).reshape(-1, 4)


@settings(max_examples=150, deadline=None)
@given(boxes, boxes)
def test_optimal_matching_properties(a, b):
    ious = iou_matrix(_arr(a), _arr(b))
    opt, greedy = match_iou_matrix(ious), greedy_match(ious)
    assert opt.total_iou >= greedy.total_iou - 1e-9
    # one-to-one and above the pairing threshold
    assert len({i for i, _, _ in opt.pairs}) == len(opt.pairs)
    assert len({j for _, j, _ in opt.pairs}) == len(opt.pairs)
    assert all(v >= 0.1 for *_, v in opt.pairs)
    assert len(opt.pairs) + len(opt.unmatched_a) == len(a)
    assert len(opt.pairs) + len(opt.unmatched_b) == len(b)
    # symmetric: swapping the annotators gives the same total
    swapped = match_iou_matrix(iou_matrix(_arr(b), _arr(a)))
    assert swapped.total_iou == pytest.approx(opt.total_iou)
    # and it is the true optimum (brute force over every assignment)
    n = max(len(a), len(b))
    if n:
        padded = np.zeros((n, n))
        padded[: len(a), : len(b)] = np.where(ious >= 0.1, ious, 0)
        brute = max(
            sum(padded[i, p[i]] for i in range(n)) for p in itertools.permutations(range(n))
        )
        assert opt.total_iou == pytest.approx(brute)


def test_mask_iou_through_pycocotools():
    m1 = np.zeros((20, 20), np.uint8, order="F")
    m2 = np.zeros((20, 20), np.uint8, order="F")
    m1[0:10, 0:10] = 1  # 100 px
    m2[5:15, 0:10] = 1  # 100 px, 50 shared -> 50/150
    r1, r2 = mask_utils.encode(m1), mask_utils.encode(m2)
    assert mask_iou(r1, r2) == pytest.approx(1 / 3)


# -- keypoints ---------------------------------------------------------------------
def _kps(*pts, template="bracket"):
    names = ("hole_left", "hole_right", "tab_tip", "screw")
    points = tuple(Keypoint(n, x, y, v) for n, (x, y, v) in zip(names, pts))
    return KeypointSet(template, points, id="k")


def test_distances_pck_and_oks_by_hand():
    a = _kps((10, 10, 2), (20, 10, 2), (10, 30, 2), (0, 0, 0))
    b = _kps((13, 14, 2), (20, 10, 2), (10, 40, 1), (5, 5, 2))
    pairs, only_a, only_b = match_sets([a], [b], {"keypoint_sigma": 0.1}, {})
    (p,) = pairs
    assert p.distances == {"hole_left": 5.0, "hole_right": 0.0, "tab_tip": 10.0}
    assert p.one_sided == ["screw"]
    # area = box around both sets' shared points: 10 x 30 = 300; k = 2*0.1
    # OKS = mean(exp(-d^2 / (2*300*0.04))) = (exp(-25/24) + 1 + exp(-100/24)) / 3
    expected = (math.exp(-25 / 24) + 1 + math.exp(-100 / 24)) / 3
    assert p.oks == pytest.approx(expected)
    assert (only_a, only_b) == (0, 0)
    c = compare(Annotation(keypoints=(a,)), Annotation(keypoints=(b,)), keypoint_px=5.0)
    assert c.kind == "geometry"
    assert "1 keypoint(s) beyond 5 px (worst tab_tip 10.0 px)" in c.summary()


def test_per_point_sigmas_from_config():
    a = _kps((10, 10, 2), (20, 10, 2), (10, 30, 2), (0, 0, 0))
    b = _kps((13, 14, 2), (20, 10, 2), (10, 30, 2), (0, 0, 0))
    loose = {"keypoint_sigmas": {"bracket": {"hole_left": 1.0}}}
    (p,), _, _ = match_sets([a], [b], loose, {})
    # hole_left: exp(-25 / (2*200*4)) with area 10 x 20; the others are exact
    assert p.oks == pytest.approx((math.exp(-25 / 1600) + 2) / 3)


# -- whole-annotation agreement ----------------------------------------------------
def test_disagreement_kinds_are_ranked():
    a = Annotation(
        verdict="fail", defect_class="dent", severity="minor", boxes=(Box("dent", 0, 0, 10, 10),)
    )
    same = Annotation(
        verdict="fail", defect_class="dent", severity="minor", boxes=(Box("dent", 0.5, 0, 10, 10),)
    )
    assert annotations_agree(a, same)
    assert compare(a, Annotation(verdict="pass")).kind == "verdict"
    assert (
        compare(
            a, Annotation(verdict="fail", defect_class="scratch", severity="minor", boxes=a.boxes)
        ).kind
        == "class"
    )
    shifted = Annotation(
        verdict="fail", defect_class="dent", severity="minor", boxes=(Box("dent", 4, 0, 10, 10),)
    )
    c = compare(a, shifted)
    assert c.kind == "geometry" and "below IoU 0.75" in c.summary()
    assert (
        compare(
            a, Annotation(verdict="fail", defect_class="dent", severity="major", boxes=a.boxes)
        ).kind
        == "severity"
    )
