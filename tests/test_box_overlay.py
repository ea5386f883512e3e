"""Cell mapping through zoom levels, overlay diffs and their wire cost."""

from __future__ import annotations

import numpy as np
import pytest

from qclabel.core.model import VISIBLE, Box, Keypoint, KeypointSet
from qclabel.render import overlay as ov
from qclabel.render import wire
from qclabel.render import cellmap as cm
from qclabel.render.viewport import Viewport


def test_fit_maps_corners_and_steps():
    m = Viewport.fit(1200, 900, 160, 45)  # half-cell: 1x2 display px per cell
    assert cm.pixel_cell(m, 0, 0) == m.offset
    assert m.cell_in_frame(*cm.pixel_cell(m, 1199, 899))
    assert not m.cell_in_frame(*cm.pixel_cell(m, 1200, 899))
    assert cm.step(m) == (10, 20)


@pytest.mark.parametrize("level", range(0, 9))
def test_every_pixel_maps_back_through_its_cell(level):
    m = cm.zoom_to(Viewport.fit(1200, 900, 160, 45), level, (613, 407))
    assert cm.level_of(m) == min(level, cm.max_level(m))
    cell = cm.pixel_cell(m, 613, 407)
    assert m.cell_in_frame(*cell)
    px, py = cm.cell_pixel(m, *cell)
    sx, sy = cm.px_per_cell(m)
    # the cell's centre pixel is within one cell of the cursor pixel, and exact once
    # a pixel spans at least one cell
    assert abs(px - 613) < max(1, sx) and abs(py - 407) < max(1, sy)
    if sx <= 1 and sy <= 1:
        assert (px, py) == (613, 407)


def test_zoom_clamps_at_image_border_and_follow_pans():
    m = cm.zoom_to(Viewport.fit(1200, 900, 160, 45), 3, (2, 3))
    assert (m.x, m.y) == (0, 0)
    far = cm.follow(m, 1100, 800)
    assert far.cell_in_frame(*cm.pixel_cell(far, 1100, 800))
    assert far.x + far.w <= 1200 and far.y + far.h <= 900
    assert cm.follow(far, 1101, 800) == far  # already visible: no pan
    assert cm.zoom_to(far, 0, (5, 5)) == Viewport.fit(1200, 900, 160, 45)


def test_box_outline_runs_outside_the_cells_showing_the_box():
    m = Viewport.fit(1200, 900, 160, 45)  # 10 x 20 px per cell, frame from col 20
    o = ov.Overlay()
    ov.draw_box(o, m, Box("dent", 100, 200, 51, 40), "#ff0000")
    assert m.offset == (20, 0)
    # the box's pixels are in cells 30-35 x 10-11: the ring is 29-36 x 9-12
    assert o[(29, 9)].char == "┌" and o[(36, 12)].char == "┘"
    assert o[(32, 9)].char == "─" and o[(29, 11)].char == "│"
    assert not any((c, r) in o for c in range(30, 36) for r in range(10, 12))
    assert all(g.outline for g in o.values())


def test_outline_at_the_image_border_stays_in_the_frame():
    m = Viewport.fit(1200, 900, 160, 45)
    o = ov.Overlay()
    ov.draw_box(o, m, Box("dent", 0, 0, 30, 30), "#ff0000")
    assert o[m.offset].char == "┌"  # no room outside: on the box's own cells
    assert all(m.cell_in_frame(*c) for c in o)


@pytest.mark.parametrize("level", [0, 3, 6, 9])
def test_pixel_stroke_leaves_every_box_pixel_untouched(level):
    """The sixel outline: a ring of display pixels just outside the box, at every zoom;
    painted patches change no pixel that shows the box."""
    from PIL import Image
    from qclabel.render.strokes import cell_pieces, painted

    box = Box("porosity", 613, 407, 3, 3)  # a 3x3 px pore cluster
    m = cm.zoom_to(Viewport.fit(1200, 900, 160, 45, 10, 20), level, (614, 408))
    fw, fh = m.frame_size
    rng = np.random.default_rng(1)
    picture = Image.fromarray(rng.integers(0, 255, (fh, fw), dtype=np.uint8), "L")
    o = ov.Overlay()
    ov.draw_box(o, m, box, "#ff00ff")
    [stroke] = o.strokes
    pieces = cell_pieces(o.strokes, m)
    (oc, orow), (fc, fr) = m.offset, m.frame_cells
    whole = np.asarray(
        painted(picture, m, (oc, orow, oc + fc - 1, orow + fr - 1), pieces).convert("RGB")
    )
    orig = np.asarray(picture.convert("RGB"))
    sx, sy = m.scale
    x0, x1 = int((box.x - m.x) * sx), int(np.ceil((box.x2 - m.x) * sx))
    y0, y1 = int((box.y - m.y) * sy), int(np.ceil((box.y2 - m.y) * sy))
    assert (whole[y0:y1, x0:x1] == orig[y0:y1, x0:x1]).all()  # the box as it is
    ring = whole[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2]
    assert (ring == (255, 0, 255)).all(axis=-1).sum() >= 2 * ((x1 - x0) + (y1 - y0))


def test_keypoints_and_skeleton_drawn():
    m = Viewport.fit(400, 300, 40, 15)
    kps = KeypointSet(
        "b", (Keypoint("a", 5, 5, VISIBLE), Keypoint("b", 305, 5, VISIBLE), Keypoint("c", 0, 0, 0))
    )
    o = ov.Overlay()
    ov.draw_keypoints(o, m, kps, [("a", "b"), ("a", "c")], "#00ffff")
    assert o[(0, 0)].char == ov.POINT_VISIBLE and o[(30, 0)].char == ov.POINT_VISIBLE
    assert sum(g.char == ov.SKELETON for g in o.values()) == 29


def test_cursor_move_diff_touches_two_cells_and_is_cheap():
    m = Viewport.fit(400, 300, 40, 15)  # 10 x 20 image px per cell
    rng = np.random.default_rng(0)
    frame = rng.normal(128, 30, (15 * 20, 40 * 10, 3)).clip(0, 255).astype(np.uint8)
    before, after = ov.Overlay(), ov.Overlay()
    ov.draw_box(before, m, Box("dent", 40, 60, 100, 80), "#ff0000")
    ov.draw_box(after, m, Box("dent", 40, 60, 100, 80), "#ff0000")
    ov.draw_cursor(before, m, 200, 150)
    ov.draw_cursor(after, m, 210, 150)
    d = ov.diff(before, after)
    assert d.cells == 2 and len(d.restored) == 1
    sixel = wire.delta_bytes(d, "sixel", frame)
    kitty = wire.delta_bytes(d, "kitty", frame)
    full = wire.full_frame_sixel(frame)
    assert 0 < kitty < sixel < 0.05 * full
    assert wire.full_frame_kitty(frame, 40, 15) > 100 * kitty


def test_halfcell_restore_uses_frame_colours():
    frame = np.zeros((4, 2, 3), np.uint8)
    frame[0, 1] = (1, 2, 3)
    frame[1, 1] = (4, 5, 6)
    n = wire.restore_halfcell(frame, frozenset({(1, 0)}))
    assert n == len("\x1b[1;2H\x1b[38;2;1;2;3m\x1b[48;2;4;5;6m▀".encode())


def test_row_runs_groups_adjacent_cells():
    assert ov.row_runs({(3, 1), (1, 1), (2, 1), (5, 1), (0, 0)}) == [
        (0, 0, 0),
        (1, 1, 3),
        (1, 5, 5),
    ]


def test_loupe_shows_full_resolution_pixels_and_box_edges():
    from qclabel.render.loupe import loupe, to_rgb8

    img = np.zeros((50, 60), np.uint8)
    img[20, 30] = 200
    img[21, 31] = 100
    rgb = to_rgb8(img)
    lv = loupe(rgb, 30, 20, radius=3, boxes=(Box("dent", 29, 19, 4, 3),))
    assert lv.pixel(0, 0) == (200, 200, 200) and lv.pixel(1, 1) == (100, 100, 100)
    # box covers x 29..32, y 19..21: its corner pixel (29, 19) is at loupe offset (-1, -1)
    assert lv.edges[2, 2] and lv.edges[2, 5] and lv.edges[4, 3]
    assert not lv.edges[3, 3]  # (30, 20) is inside the box, not on an edge
    corner = loupe(rgb, 0, 0, radius=2)
    assert not corner.inside[0, 0] and corner.inside[2, 2]


def test_loupe_windows_16_bit():
    from qclabel.render.loupe import to_rgb8

    img = np.array([[1000, 2000], [3000, 4000]], np.uint16)
    rgb = to_rgb8(img, (2500, 3000))
    assert rgb.dtype == np.uint8 and rgb[0, 0, 0] == 0 and rgb[1, 1, 0] == 255


def test_jump_grid_slots_and_rulers():
    from qclabel.render import jumpgrid

    vp = Viewport.fit(1200, 900, 160, 45)
    assert jumpgrid.divisions(vp) == (25, 25)  # a-z without q (q quits)
    first, last = jumpgrid.slot_cell(vp, 0, 0), jumpgrid.slot_cell(vp, 24, 24)
    assert vp.cell_in_frame(*first) and vp.cell_in_frame(*last)
    assert jumpgrid.index(vp, "z", 0) == 24 and jumpgrid.index(vp, "", 0) is None
    assert jumpgrid.index(vp, "q", 0) is None and jumpgrid.index(vp, "r", 0) == 16
    small = Viewport.fit(400, 300, 20, 8)  # fewer rows than letters
    assert jumpgrid.divisions(small)[1] == small.frame_cells[1]
    assert jumpgrid.index(small, "z", 1) is None
    rulers = jumpgrid.rulers(vp)
    assert [g.char for (c, r), g in sorted(rulers.items()) if r == vp.offset[1]][:3] == [
        "a",
        "a",
        "b",
    ]  # the row ruler's a, then the column ruler's a, b


def test_stroke_patch_on_a_shown_picture_sends_only_the_changing_pixels():
    """Over a picture already on screen, a ring's patch is transparent (P2=1) except
    for the ring: far smaller than the cells' full pixels; a full patch keeps every grey
    level of the picture (no re-quantization that would make patched cells stand out)."""
    from PIL import Image
    from qclabel.render.strokes import cell_pieces, exact, patch, rect_runs

    m = Viewport.fit(1200, 900, 160, 45, 10, 20)
    fw, fh = m.frame_size
    grey = np.random.default_rng(2).normal(150, 8, (fh, fw)).clip(0, 255).astype(np.uint8)
    picture = Image.fromarray(grey, "L")
    o = ov.Overlay()
    ov.draw_box(o, m, Box("porosity", 600, 400, 19, 19), "#ba68c8")
    pieces = cell_pieces(o.strokes, m)
    rect = rect_runs(pieces)[0]
    sparse, full = patch(picture, m, rect, pieces, {}), patch(picture, m, rect, pieces)
    assert sparse.startswith("\x1bP0;1;0q") and full.startswith("\x1bP0;0;0q")
    assert len(sparse) < len(full) / 3
    px = np.stack([grey[:20, :30]] * 3, -1)
    assert len(set(exact(px).tobytes())) == len(np.unique(grey[:20, :30]))
