"""Mask ground truth of the bundled samples: decodable, on the image, inside its box,
and really where the defect is in the pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qclabel.core.mask import Mask
from qclabel.core.mask_measure import measure
from qclabel.project import resolve_taxonomy_file
from qclabel.core.taxonomy import load_taxonomy

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FILES = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
WITH_MASKS = {k: v for k, v in FILES.items() if v.get("masks")}


def masks_of(entry: dict) -> list[Mask]:
    return [Mask.from_dict(m) for m in entry["masks"]]


def test_the_samples_have_the_mask_kinds_the_users_grade():
    classes = {m["cls"] for v in WITH_MASKS.values() for m in v["masks"]}
    assert {"scratch", "crack", "porosity", "run", "orange-peel", "thin-spot"} <= classes
    assert sum(len(v["masks"]) for v in WITH_MASKS.values()) >= 25


@pytest.mark.parametrize("rel", sorted(WITH_MASKS))
def test_masks_lie_on_the_image_and_inside_their_boxes(rel):
    entry = WITH_MASKS[rel]
    masks = masks_of(entry)
    for m in masks:
        assert m.area > 0 and m.left >= 0 and m.top >= 0
        assert m.x2 <= entry["width"] and m.y2 <= entry["height"]
    for m, b in zip(masks, entry["boxes"]):  # metal: a box and a mask per defect
        assert m.cls == b["cls"]
        assert b["x"] <= m.left and b["y"] <= m.top
        assert m.x2 <= b["x"] + b["w"] and m.y2 <= b["y"] + b["h"]


@pytest.mark.parametrize("rel", sorted(k for k in WITH_MASKS if k.startswith("paint/")))
def test_paint_masks_mark_pixels_that_differ_from_the_clean_coat(rel):
    import cv2

    img = np.asarray(Image.open(SAMPLES / rel).convert("RGB")).astype(float)
    detail = np.abs(cv2.Laplacian(img.mean(axis=2), cv2.CV_64F, ksize=3))
    clean = np.ones(img.shape[:2], bool)
    masks = masks_of(WITH_MASKS[rel])
    for m in masks:
        clean &= m.full(img.shape[1], img.shape[0]) == 0
    for m in masks:
        on = m.full(img.shape[1], img.shape[0]) > 0
        inside, outside = img[on], img[clean]
        # Each defect changes colour (thin spot), texture (orange peel) or shading (run).
        shift = np.abs(inside.mean(0) - outside.mean(0)).max()
        texture = detail[on].mean() / detail[clean].mean()
        assert shift > 8 or texture > 1.5, (m.cls, shift, texture)


def test_paint_taxonomy_is_semantic_and_its_rules_apply_to_the_sample_masks():
    data, src = resolve_taxonomy_file("painted-panel")
    tax = load_taxonomy(data["taxonomy"], src)
    assert tax.semantic
    for rel, entry in WITH_MASKS.items():
        if not rel.startswith("paint/"):
            continue
        per_class = [m["cls"] for m in entry["masks"]]
        assert len(per_class) == len(set(per_class))  # one layer per class
        for m in masks_of(entry):
            mm2 = measure(m, entry["mm_per_px"]).area_mm2
            assert mm2 >= tax.get(m.cls).min_size.value  # above the class minimum


def test_metal_scratch_and_crack_masks_are_thin():
    thin = [
        measure(m, 0.05)
        for v in WITH_MASKS.values()
        for m in masks_of(v)
        if m.cls in ("scratch", "crack")
    ]
    assert len(thin) >= 6
    for t in thin:
        assert t.width_px < 4 and t.length_px > 4 * t.width_px
