"""The headless mask tools on real pixels: strokes, polygons, fill and the box -> mask
assists never write outside the image (property tests), protect other masks, and the
assists find the sample defects; a site plugin is found through its entry point."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from qclabel.core import mask_edits as me
from qclabel.core.mask import Mask, MaskError
from qclabel.core.model import Annotation
from qclabel.core.taxonomy import load_taxonomy
from qclabel.maskedit import assist
from qclabel.maskedit.brush import Stroke, protect, stamp, tip
from qclabel.maskedit.polygon import PolygonDraft
from qclabel.project import resolve_taxonomy_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
W, H = 64, 48


def pixels(rel: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / rel).convert("RGB"))


def truth(rel: str, cls: str) -> Mask:
    return next(Mask.from_dict(m) for m in TRUTH[rel]["masks"] if m["cls"] == cls)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_tips_are_binary_and_exactly_sized():
    assert tip(0).sum() == 1
    r3 = tip(3)
    assert r3.shape == (7, 7) and r3.dtype == bool and r3[3].all() and not r3[0, 0]
    assert tip(3, "square").all() and tip(3, "square").shape == (7, 7)
    with pytest.raises(ValueError):
        tip(2, "soft")


def test_a_fast_cursor_leaves_no_gap_in_the_stroke():
    s = Stroke(200, 100, radius=0)
    s.to(10, 10)
    s.to(60, 40)  # one jump of ten cells
    p = s.patch()
    assert p.count == 51  # every pixel of the line, both ends
    full = p.full(200, 100)
    assert full[10, 10] and full[40, 60]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-500, 500), st.integers(-500, 500)), min_size=1, max_size=6),
    st.integers(0, 60),
    st.sampled_from(["round", "square"]),
)
def test_a_stroke_never_writes_outside_the_image(points, radius, shape):
    s = Stroke(W, H, radius, shape)
    for x, y in points:
        s.to(x, y)
    p = s.patch()
    assert p is not None  # the cursor is clamped into the image: something is painted
    assert p.x >= 0 and p.y >= 0
    assert p.x + p.pixels.shape[1] <= W and p.y + p.pixels.shape[0] <= H
    assert p.pixels.dtype == bool
    mask = Mask.from_array("scratch", p.pixels, p.x, p.y)
    assert mask.x2 <= W and mask.y2 <= H and mask.area == p.count


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, W - 1), st.integers(0, H - 1)), min_size=3, max_size=8))
def test_a_polygon_never_writes_outside_the_image(vertices):
    d = PolygonDraft()
    for v in vertices:
        d.add(v)
    try:
        m = d.to_mask("run", W, H)
    except MaskError:
        return  # degenerate or self-crossing: refused, nothing written
    assert m.left >= 0 and m.top >= 0 and m.x2 <= W and m.y2 <= H


@settings(max_examples=60, deadline=None)
@given(st.integers(0, W - 1), st.integers(0, H - 1), st.integers(0, 255), st.integers(0, 2**32 - 1))
def test_a_flood_fill_never_writes_outside_the_image_or_region(x, y, tol, seed):
    img = np.random.default_rng(seed).integers(0, 255, (H, W), np.uint8)
    p = assist.flood(img, x, y, tol)
    assert p is not None and p.full(W, H)[y, x]
    assert p.x + p.pixels.shape[1] <= W and p.y + p.pixels.shape[0] <= H
    region = (10, 5, 20, 20)
    q = assist.flood(img, 15, 10, tol, region)
    assert (
        q.x >= 10 and q.y >= 5 and q.x + q.pixels.shape[1] <= 30 and q.y + q.pixels.shape[0] <= 25
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, W - 1), st.integers(0, H - 1)), min_size=1, max_size=4),
    st.integers(0, 8),
    st.booleans(),
)
def test_paint_then_its_inverse_restores_the_exact_raster(points, radius, value):
    """Undo is the change's `before`: the journal's inverse of the one stroke edit."""
    data, src = resolve_taxonomy_file("metal-stamping")
    tax = load_taxonomy(data["taxonomy"], src)
    rules = me.MaskRules(tax, None)
    base = np.zeros((H, W), bool)
    base[10:30, 5:40] = True
    old = Mask.from_array("dent", base, severity="minor", id="m1")
    before = Annotation(verdict="fail", masks=(old,))
    p = stamp(points, radius, "round", W, H)
    after = me.paint("m1", p.pixels, p.x, p.y, value, rules)(before)
    raster = after.masks[0].full(W, H).astype(bool) if after.masks else np.zeros((H, W), bool)
    expect = base | p.full(W, H) if value else base & ~p.full(W, H)
    assert (raster == expect).all()
    assert (before.masks[0].full(W, H).astype(bool) == base).all()


def test_protect_keeps_other_masks_pixels():
    other = np.zeros((H, W), bool)
    other[20:30, 20:30] = True
    keep = Mask.from_array("dent", other)
    p = stamp([(15, 25), (35, 25)], 3, "round", W, H)
    cut = protect(p, [keep])
    assert not (cut.full(W, H) & other).any()
    assert cut.count == p.count - (p.full(W, H) & other).sum()


def test_polygon_vertices_insert_move_delete_hole_and_undo():
    d = PolygonDraft()
    for v in ((10, 10), (40, 10), (40, 40), (10, 40)):
        d.add(v)
    d.insert((25, 9))  # on the top edge
    assert d.ring[1] == (25, 9)
    d.grab((26, 9))
    d.follow((25, 5))
    d.grab((0, 0))  # put down
    assert d.ring[1] == (25, 5)
    d.delete((25, 6))
    assert d.ring == [(10, 10), (40, 10), (40, 40), (10, 40)]
    assert d.start_hole() is None
    for v in ((20, 20), (30, 20), (30, 30), (20, 30)):
        d.add(v)
    m = d.to_mask("run", 100, 100)
    full = m.full(100, 100)
    assert full[15, 15] and not full[25, 25] and not m.polygons  # a hole: a raster
    solid = PolygonDraft(rings=[[(10, 10), (40, 10), (40, 40), (10, 40)]]).to_mask("run", 100, 100)
    assert m.area < solid.area and solid.polygons  # no hole: polygons kept
    assert d.undo() and len(d.ring) == 3


def test_a_crossing_ring_is_refused_with_the_reason():
    d = PolygonDraft(rings=[[(0, 0), (20, 20), (20, 0), (0, 20)]])
    with pytest.raises(MaskError, match="crosses itself"):
        d.to_mask("run", 50, 50)


@pytest.mark.parametrize(
    "rel,cls",
    [
        ("paint/panel_0001.jpg", "run"),
        ("paint/panel_0002.jpg", "thin-spot"),
        ("paint/panel_0003.jpg", "run"),
    ],
)
def test_grabcut_on_the_box_finds_the_sample_defect(rel, cls):
    img, t = pixels(rel), truth(rel, cls)
    p = assist.run(assist.GrabCut(), assist.AssistRequest(img, t.bbox))
    full = p.full(img.shape[1], img.shape[0]).astype(bool)
    assert iou(full, t.full(img.shape[1], img.shape[0]).astype(bool)) >= 0.9
    x, y, w, h = t.bbox
    assert not full[:y].any() and not full[:, :x].any()  # nothing outside the box
    assert not full[y + h :].any() and not full[:, x + w :].any()


def test_threshold_finds_dark_scratch_pixels_on_bright_metal():
    rel = "metal/P1002_L08_S3_cam1_0008.jpg"
    img, t = pixels(rel), truth(rel, "scratch")
    p = assist.run(assist.Threshold(), assist.AssistRequest(img, t.bbox))
    assert iou(p.full(800, 600).astype(bool), t.full(800, 600).astype(bool)) >= 0.8


def test_foreground_and_background_strokes_re_run_grabcut():
    rel = "paint/panel_0001.jpg"
    img, t = pixels(rel), truth(rel, "run")
    x, y, w, h = t.bbox
    first = assist.run(assist.GrabCut(), assist.AssistRequest(img, t.bbox)).full(640, 480)
    bg = np.zeros((h, w), bool)
    bg[: h // 2] = True  # "the upper half is background"
    fg = np.zeros((h, w), bool)
    fg[h - 1, 0] = True  # a forced pixel in the lower left corner
    again = assist.run(assist.GrabCut(), assist.AssistRequest(img, t.bbox, fg, bg))
    full = again.full(640, 480)
    assert not full[y : y + h // 2].any() and full[y + h - 1, x]
    assert first.sum() != full.sum()


def test_watershed_gives_a_mask_inside_the_box():
    rel = "paint/panel_0003.jpg"
    img, t = pixels(rel), truth(rel, "run")
    p = assist.run(assist.Watershed(), assist.AssistRequest(img, t.bbox))
    assert iou(p.full(640, 480).astype(bool), t.full(640, 480).astype(bool)) >= 0.6


def test_a_site_plugin_is_found_by_its_entry_point_and_cut_to_the_box(tmp_path, monkeypatch):
    (tmp_path / "site_masks.py").write_text(
        "import numpy as np\n"
        "class Everything:\n"
        "    name, description = 'site-all', 'marks the whole box and more'\n"
        "    def propose(self, req):\n"
        "        x, y, w, h = req.box\n"
        "        return np.ones((h, w), bool)\n"
        "class Broken:\n"
        "    def __init__(self):\n"
        "        raise RuntimeError('model file missing')\n"
    )
    dist = tmp_path / "site_masks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: site-masks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[qclabel.mask_assist]\nsite-all = site_masks:Everything\nbad = site_masks:Broken\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = assist.load_assists()
    names = [a.name for a in found]
    assert names[:3] == ["grabcut", "watershed", "threshold"] and "site-all" in names
    assert "bad" not in names  # a broken plugin is left out, never a crash
    plugin = found[names.index("site-all")]
    img = np.zeros((50, 60), np.uint8)
    p = assist.run(plugin, assist.AssistRequest(img, (50, 40, 10, 10)))
    assert (p.x, p.y, p.pixels.shape) == (50, 40, (10, 10))
    sys.modules.pop("site_masks", None)
