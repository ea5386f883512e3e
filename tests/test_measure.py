"""Minimum annotation size and keypoint tolerance verdicts (core.measure)."""

from __future__ import annotations

import pytest

from qclabel.core.measure import (
    FAIL,
    PASS,
    UNMEASURED,
    AnnotationTooSmall,
    check_min_size,
    check_template,
    check_tolerance,
    overall,
)
from qclabel.core.model import NOT_LABELED, OCCLUDED, VISIBLE, Box, Keypoint, KeypointSet
from qclabel.core.taxonomy import DefectClass, KeypointTemplate, MinSize, Tolerance
from qclabel.errors import QclabelError
from qclabel.project import Project

SCRATCH_MM = DefectClass("scratch", "1", min_size=MinSize(0.5, "mm"))
PAD_PX = DefectClass("bridge", "2", min_size=MinSize(6, "px"))


def test_px_minimum_refuses_smaller_box_and_states_minimum():
    with pytest.raises(AnnotationTooSmall) as exc:
        check_min_size(Box("bridge", 0, 0, 5, 4), PAD_PX, None)
    assert isinstance(exc.value, QclabelError)
    msg = str(exc.value)
    assert "bridge" in msg and "6 px" in msg and "5x4" in msg


def test_px_minimum_accepts_box_at_the_limit():
    assert check_min_size(Box("bridge", 0, 0, 6, 1), PAD_PX, None) is None


def test_mm_minimum_converts_through_calibration():
    # 0.5 mm at 0.05 mm/px = 10 px
    with pytest.raises(AnnotationTooSmall) as exc:
        check_min_size(Box("scratch", 0, 0, 9, 9), SCRATCH_MM, 0.05)
    assert "0.5 mm" in str(exc.value) and "10 px" in str(exc.value)
    assert check_min_size(Box("scratch", 0, 0, 10, 2), SCRATCH_MM, 0.05) is None


def test_mm_minimum_without_calibration_warns_instead_of_guessing():
    warning = check_min_size(Box("scratch", 0, 0, 1, 1), SCRATCH_MM, None)
    assert warning is not None and "no mm_per_px" in warning


def test_bundled_taxonomy_minimums(tmp_path):
    tax = Project.init(tmp_path / "p", "assembly-keypoints", user="admin").taxonomy
    with pytest.raises(AnnotationTooSmall, match="10 px"):
        check_min_size(Box("bracket", 5, 5, 9, 9), tax.get("bracket"), 0.2)


TEMPLATE = KeypointTemplate(
    "bracket",
    ("hole_left", "hole_right", "tab_tip", "screw"),
    tolerances=(
        Tolerance("hole_left", "hole_right", 40.0, 0.5),
        Tolerance("hole_left", "tab_tip", 25.0, 0.8),
    ),
)


def kset(**pts: tuple[float, float, int]) -> KeypointSet:
    names = TEMPLATE.points
    return KeypointSet(
        "bracket", tuple(Keypoint(n, *pts.get(n, (0, 0, NOT_LABELED))) for n in names)
    )


def test_distance_in_mm_pass_and_fail():
    # 200 px * 0.2 mm/px = 40.0 mm: exactly nominal
    ok = check_tolerance(
        kset(hole_left=(100, 150, VISIBLE), hole_right=(300, 150, VISIBLE)),
        TEMPLATE.tolerances[0],
        0.2,
    )
    assert ok.verdict == PASS and ok.mm == pytest.approx(40.0) and ok.px == pytest.approx(200)
    # 205 px = 41 mm: 1 mm off, tolerance 0.5
    bad = check_tolerance(
        kset(hole_left=(100, 150, VISIBLE), hole_right=(305, 150, VISIBLE)),
        TEMPLATE.tolerances[0],
        0.2,
    )
    assert bad.verdict == FAIL and bad.deviation_mm == pytest.approx(1.0)
    assert "FAIL" in bad.describe() and "41.00 mm" in bad.describe()


def test_distance_exactly_at_tolerance_passes():
    # 202.5 px * 0.2 = 40.5 mm = nominal + tol
    c = check_tolerance(
        kset(hole_left=(0, 0, VISIBLE), hole_right=(202.5, 0, VISIBLE)), TEMPLATE.tolerances[0], 0.2
    )
    assert c.verdict == PASS


def test_unplaced_point_or_missing_calibration_is_unmeasured():
    checks = check_template(
        kset(hole_left=(100, 150, VISIBLE), hole_right=(300, 150, OCCLUDED)), TEMPLATE, 0.2
    )
    assert [c.verdict for c in checks] == [PASS, UNMEASURED]
    assert overall(checks) == UNMEASURED
    assert "not placed" in checks[1].describe()
    nocal = check_template(
        kset(
            hole_left=(100, 150, VISIBLE),
            hole_right=(300, 150, VISIBLE),
            tab_tip=(200, 60, VISIBLE),
        ),
        TEMPLATE,
        None,
    )
    assert {c.verdict for c in nocal} == {UNMEASURED}
    assert "calibration" in nocal[0].describe()


def test_overall_fail_wins():
    checks = check_template(
        kset(
            hole_left=(100, 150, VISIBLE),
            hole_right=(300, 150, VISIBLE),
            tab_tip=(100, 20, VISIBLE),
        ),
        TEMPLATE,
        0.2,
    )
    # hole_left-tab_tip = 130 px = 26 mm, nominal 25 +- 0.8
    assert [c.verdict for c in checks] == [PASS, FAIL]
    assert overall(checks) == FAIL
