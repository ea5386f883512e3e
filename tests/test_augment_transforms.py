"""One matrix for the image and every label: boxes, keypoints and masks checked against
the same transform applied to painted ground truth on real sample images."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from qclabel.augment import ops as O
from qclabel.augment.labels import transform_annotation
from qclabel.augment.recipe import load_recipe
from qclabel.core.kinds import BOX, KEYPOINTS, MASK
from qclabel.core.mask import Mask
from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
from qclabel.core.taxonomy import load_taxonomy
from qclabel.errors import ConfigError
from qclabel.project import resolve_taxonomy_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
METAL = "metal/P1001_L07_S2_cam2_0003.jpg"  # a crack, with its mask
DENT = "metal/P1001_L07_S2_cam1_0001.jpg"  # mask 1: a dent (a blob, not a line)
BRACKET = "assembly/bracket_0001.png"

CASES = {
    "hflip": [{"op": "hflip"}],
    "vflip+rot90": [{"op": "vflip"}, {"op": "rot90", "k": 1}],
    "rotate+scale": [{"op": "rotate", "value": 17.0}, {"op": "scale", "value": 0.85}],
    "crop": [{"op": "crop", "value": 0.7, "at": [0.3, 0.6]}],
    "perspective": [
        {"op": "rotate", "value": -6.0},
        {"op": "perspective", "shifts": [0.03, -0.02, -0.04, 0.01, 0.02, 0.04, -0.01, -0.03]},
    ],
}


def taxonomy(name: str):
    return load_taxonomy(resolve_taxonomy_file(name)[0]["taxonomy"])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    return (a & b).sum() / (a | b).sum()


def truth_mask(rel: str, n: int = 0) -> Mask:
    return Mask.from_dict({**TRUTH[rel]["masks"][n], "id": "m"})


def painted(shape: tuple[int, int], mask: Mask) -> np.ndarray:
    """The mask painted as an 8-bit image (what the pixels say, not the labels)."""
    return (mask.full(shape[1], shape[0]) * 255).astype(np.uint8)


@pytest.mark.parametrize("case", CASES)
def test_mask_follows_the_painted_pixels(case):
    image = cv2.imread(str(SAMPLES / METAL))
    h, w = image.shape[:2]
    matrix, size = O.geometry(CASES[case], w, h)
    dent = truth_mask(DENT, 1)
    assert dent.cls == "dent"
    warped_paint = O.warp(painted((h, w), dent), matrix, size) > 127
    assert iou(MASK.transformed(dent, matrix, size).full(*size), warped_paint) >= 0.98
    # ... and the image moved the same way: the dark crack is under its moved mask.
    mask = truth_mask(METAL)
    moved = MASK.transformed(mask, matrix, size)
    grey = cv2.cvtColor(O.warp(image, matrix, size), cv2.COLOR_BGR2GRAY)
    inside = grey[moved.full(*size).astype(bool)].mean()
    ring = cv2.dilate(moved.full(*size), np.ones((9, 9), np.uint8)) - moved.full(*size)
    assert inside < grey[ring.astype(bool)].mean() - 10


@pytest.mark.parametrize("case", CASES)
def test_box_covers_the_painted_box(case):
    image = cv2.imread(str(SAMPLES / BRACKET))
    h, w = image.shape[:2]
    truth = TRUTH[BRACKET]["boxes"][0]
    box = Box(truth["cls"], truth["x"], truth["y"], truth["w"], truth["h"])
    paint = np.zeros((h, w), np.uint8)
    paint[int(box.y) : int(box.y2), int(box.x) : int(box.x2)] = 255
    matrix, size = O.geometry(CASES[case], w, h)
    ys, xs = np.nonzero(O.warp(paint, matrix, size) > 127)
    moved = BOX.transformed(box, matrix, size)
    painted_box = np.zeros((size[1], size[0]), bool)
    painted_box[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = True
    ours = np.zeros_like(painted_box)
    ours[round(moved.y) : round(moved.y2), round(moved.x) : round(moved.x2)] = True
    assert iou(ours, painted_box) >= 0.98


@pytest.mark.parametrize("case", CASES)
def test_keypoints_land_on_the_painted_dots(case):
    image = cv2.imread(str(SAMPLES / BRACKET))
    h, w = image.shape[:2]
    kps = KeypointSet.from_dict(TRUTH[BRACKET]["keypoints"][0])
    matrix, size = O.geometry(CASES[case], w, h)
    moved = KEYPOINTS.transformed(kps, matrix, size)
    for before, after in zip(kps.points, moved.points):
        dot = np.zeros((h, w), np.uint8)
        cv2.circle(dot, (int(before.x), int(before.y)), 4, 255, -1)
        centre_before = np.argwhere(dot > 127).mean(axis=0)[::-1] + 0.5
        ys, xs = np.nonzero(O.warp(dot, matrix, size) > 127)
        if after.v == 0:  # left the frame: then the painted dot has too
            assert len(xs) < 20
            continue
        # The dot moved as its centre did (offset: the dot is drawn on a pixel grid).
        off = np.array([before.x, before.y]) - centre_before
        scale = O.scale_of(matrix)
        assert abs(xs.mean() + 0.5 - after.x) < 1.0 + abs(off[0]) * scale + 0.5
        assert abs(ys.mean() + 0.5 - after.y) < 1.0 + abs(off[1]) * scale + 0.5


def test_flip_swaps_left_and_right_points_of_the_template():
    tax = taxonomy("assembly-keypoints")
    assert tax.template("bracket").flip_pairs == (("hole_left", "hole_right"),)
    kps = KeypointSet.from_dict(TRUTH[BRACKET]["keypoints"][0])
    matrix, size = O.geometry([{"op": "hflip"}], 480, 360)
    ann, _ = transform_annotation(Annotation(keypoints=(kps,)), matrix, size, tax, 0.2)
    out = ann.keypoints[0]
    left, right = out.point("hole_left"), out.point("hole_right")
    assert left.x < right.x  # still the hole on the left of the (mirrored) image
    # The new left hole is where the old right hole went.
    assert left.x == pytest.approx(480 - kps.point("hole_right").x)
    assert left.y == pytest.approx(kps.point("hole_right").y)
    assert out.point("tab_tip").x == pytest.approx(480 - kps.point("tab_tip").x)
    # A rotation by 180 degrees is no mirror: nothing swaps.
    matrix, size = O.geometry([{"op": "rot90", "k": 2}], 480, 360)
    ann, _ = transform_annotation(Annotation(keypoints=(kps,)), matrix, size, tax, 0.2)
    assert ann.keypoints[0].point("hole_left").x > ann.keypoints[0].point("hole_right").x


def test_point_leaving_the_frame_is_no_longer_labeled():
    kps = KeypointSet(
        "bracket", (Keypoint("hole_left", 20, 30, 2), Keypoint("hole_right", 400, 300, 2))
    )
    matrix, size = O.geometry([{"op": "crop", "value": 0.5, "at": [1.0, 1.0]}], 480, 360)
    out = KEYPOINTS.transformed(kps, matrix, size)
    assert out.point("hole_left").v == 0 and (
        out.point("hole_left").x,
        out.point("hole_left").y,
    ) == (0, 0)
    assert out.point("hole_right").v == 2
    assert out.point("hole_right").x == pytest.approx((400 - 240) * 2)


def test_box_follows_its_mask_and_cut_objects_are_dropped_and_counted():
    tax = taxonomy("metal-stamping")
    mask = truth_mask(METAL)
    box = Box(mask.cls, mask.left, mask.top, mask.width, mask.height, id="b")
    edge = Box("contamination", 5, 5, 20, 20, id="edge")  # min 8 px
    ann = Annotation(verdict="fail", boxes=(box, edge), masks=(mask,))
    case = [{"op": "rotate", "value": 30.0}]
    matrix, size = O.geometry(case, 800, 600)
    out, dropped = transform_annotation(ann, matrix, size, tax, 0.05)
    moved_mask = out.masks[0]
    moved_box = next(b for b in out.boxes if b.id == "b")
    # Recomputed from the mask: tight, not the box around the rotated corners.
    assert (moved_box.x, moved_box.y, moved_box.w, moved_box.h) == moved_mask.bbox
    loose = BOX.transformed(box, matrix, size)
    assert loose.w * loose.h > moved_box.w * moved_box.h
    # The corner box rotated out of the frame: dropped and counted.
    assert all(b.id != "edge" for b in out.boxes) and dropped == {"contamination": 1}
    # A crop leaving 4 of its 30 px: 4.4 x 6.7 px once resized, below the 0.5 mm
    # (11.1 px at the new scale) minimum of a scratch: dropped too.
    crop = [{"op": "crop", "value": 0.9, "at": [0.0, 0.0]}]
    near = Box("scratch", 716, 100, 30, 6, id="near")
    matrix, size = O.geometry(crop, 800, 600)
    mm = 0.05 / O.scale_of(matrix)
    out, dropped = transform_annotation(Annotation(boxes=(near,)), matrix, size, tax, mm)
    assert out.boxes == () and dropped == {"scratch": 1}
    wide = Box("scratch", 700, 100, 30, 6, id="wide")  # 20 px stay: kept
    out, dropped = transform_annotation(Annotation(boxes=(wide,)), matrix, size, tax, mm)
    assert out.boxes[0].w == pytest.approx(20 / 0.9) and not dropped


def test_sixteen_bit_stays_sixteen_bit():
    img = cv2.imread(str(SAMPLES / "xray/hub_001.tif"), cv2.IMREAD_UNCHANGED)
    assert img.dtype == np.uint16
    recipe = load_recipe({}, "default")
    ops = [
        {"op": "brightness", "value": 0.05},
        {"op": "gamma", "value": 0.9},
        {"op": "noise", "value": 0.01},
        {"op": "jpeg", "value": 70},
    ]
    out = O.photometric(
        O.warp(img, *O.geometry([{"op": "hflip"}], img.shape[1], img.shape[0])),
        ops,
        np.random.default_rng(1),
    )
    assert out.dtype == np.uint16 and out.shape == img.shape
    assert len(np.unique(out)) > 1000  # real 16-bit levels, not 8 bits scaled up
    assert recipe.op("jpeg") is not None


def test_recipes_are_validated_naming_the_key():
    good = {"augment": {"recipes": {"mine": {"hflip": 0.5, "rotate": {"p": 1, "range": [-5, 5]}}}}}
    r = load_recipe(good, "mine")
    assert r.op("rotate").low == -5 and r.op("hflip").p == 0.5
    bad = [
        ({"twirl": {"p": 1}}, "augment.recipes.x.twirl"),
        ({"rotate": {"p": 2}}, "augment.recipes.x.rotate.p"),
        ({"scale": {"p": 1, "range": [1.2, 0.9]}}, "augment.recipes.x.scale.range"),
        ({"hflip": {"p": 1, "range": [0, 1]}}, "augment.recipes.x.hflip.range"),
        ({"copy_paste": {"p": 1, "blend": "poisson"}}, "augment.recipes.x.copy_paste.blend"),
    ]
    for spec, field in bad:
        with pytest.raises(ConfigError) as err:
            load_recipe({"augment": {"recipes": {"x": spec}}}, "x")
        assert err.value.field == field
    with pytest.raises(ConfigError, match="known: default"):
        load_recipe({}, "nope")


def test_sampling_is_reproducible_and_seed_dependent():
    recipe = load_recipe({}, "default")
    a = O.sample(recipe, np.random.default_rng([7, 1]))
    assert a == O.sample(recipe, np.random.default_rng([7, 1]))
    others = [O.sample(recipe, np.random.default_rng([8, n])) for n in range(5)]
    assert any(o != a for o in others)
