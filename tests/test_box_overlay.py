"""Cell mapping through zoom levels, overlay diffs and their wire cost."""

from __future__ import annotations

import numpy as np
import pytest

from qclabel.core.model import VISIBLE, Box, Keypoint, KeypointSet
from qclabel.render import overlay as ov
from qclabel.render import wire
from qclabel.render.cellmap import fit, view_frame, zoomed


def test_fit_keeps_aspect_and_maps_corners():
    m = fit(1200, 900, 160, 45)          # 7.5 px per column, 15 per row (half-cell: 2 rows)
    assert m.sx == pytest.approx(10.0) and m.sy == pytest.approx(20.0)
    assert m.cell_of(0, 0) == (0, 0) and m.cell_of(1199, 899) == (119, 44)
    assert m.step() == (10, 20)


@pytest.mark.parametrize("level", range(0, 7))
def test_every_pixel_maps_back_through_its_cell(level):
    m = zoomed(fit(1200, 900, 160, 45), level, (613, 407))
    col, row = m.cell_of(613, 407)
    assert m.visible(col, row)
    px, py = m.pixel_of(col, row)
    # the cell's centre pixel is within one cell of the cursor pixel, and exact once
    # a pixel spans at least one cell
    assert abs(px - 613) < max(1, m.sx) and abs(py - 407) < max(1, m.sy)
    if m.sx <= 1 and m.sy <= 1:
        assert (px, py) == (613, 407)


def test_zoom_clamps_at_image_border_and_follow_pans():
    m = zoomed(fit(1200, 900, 160, 45), 3, (2, 3))
    assert (m.x0, m.y0) == (0, 0)
    far = m.follow(1100, 800)
    assert far.visible(*far.cell_of(1100, 800))
    assert far.x0 + far.view_w <= 1200 and far.y0 + far.view_h <= 900
    assert far.follow(1101, 800) == far  # already visible: no pan
    assert far.pan(-1000, 0).x0 == 0


def test_view_frame_magnifies_exact_pixels():
    img = np.arange(20 * 30, dtype=np.uint8).reshape(20, 30)
    m = zoomed(fit(30, 20, 30, 10), 2, (10, 10))   # 0.25 px per column
    out = view_frame(img, m, m.cols * 4, m.rows * 8)
    # each image pixel became a 16 x 16 block; the first block is pixel (x0, y0)
    assert out[0, 0] == img[int(m.y0), int(m.x0)]
    assert out[0, 16] == img[int(m.y0), int(m.x0) + 1]
    assert out[16, 0] == img[int(m.y0) + 1, int(m.x0)]


def test_view_frame_reduces_whole_image():
    img = np.full((900, 1200), 77, np.uint8)
    out = view_frame(img, fit(1200, 900, 160, 45), 160, 90)
    assert out.shape == (90, 160) and out[10, 10] == 77 and out[89, 159] == 0  # outside


def test_box_outline_sits_on_edge_pixel_cells():
    m = fit(1200, 900, 160, 45)
    o: ov.Overlay = {}
    ov.draw_box(o, m, Box("dent", 100, 200, 51, 40), "#ff0000")
    assert o[(10, 10)].char == "┌" and o[(15, 11)].char == "┘"
    assert o[(12, 10)].char == "─" and (12, 11) in o
    assert (12, 12) not in o  # interior untouched


def test_keypoints_and_skeleton_drawn():
    m = fit(400, 300, 40, 15)
    kps = KeypointSet("b", (Keypoint("a", 5, 5, VISIBLE), Keypoint("b", 305, 5, VISIBLE),
                           Keypoint("c", 0, 0, 0)))
    o: ov.Overlay = {}
    ov.draw_keypoints(o, m, kps, [("a", "b"), ("a", "c")], "#00ffff")
    assert o[(0, 0)].char == ov.POINT_VISIBLE and o[(30, 0)].char == ov.POINT_VISIBLE
    assert sum(g.char == ov.SKELETON for g in o.values()) == 29


def test_cursor_move_diff_touches_two_cells_and_is_cheap():
    m = fit(1200, 900, 160, 45)
    frame = np.random.default_rng(0).integers(0, 255, (45 * 20, 160 * 10, 3), np.uint8)
    before, after = {}, {}
    ov.draw_box(before, m, Box("dent", 100, 200, 300, 200), "#ff0000")
    ov.draw_box(after, m, Box("dent", 100, 200, 300, 200), "#ff0000")
    ov.draw_cursor(before, m, 600, 450)
    ov.draw_cursor(after, m, 610, 450)
    d = ov.diff(before, after)
    assert d.cells == 2 and len(d.restored) == 1
    sixel = wire.delta_bytes(d, "sixel", frame)
    kitty = wire.delta_bytes(d, "kitty", frame)
    full = wire.full_frame_sixel(frame)
    assert 0 < kitty < sixel < 0.05 * full
    assert wire.full_frame_kitty(frame, 160, 45) > 100 * kitty


def test_halfcell_restore_uses_frame_colours():
    frame = np.zeros((4, 2, 3), np.uint8)
    frame[0, 1] = (1, 2, 3)
    frame[1, 1] = (4, 5, 6)
    n = wire.restore_halfcell(frame, frozenset({(1, 0)}))
    assert n == len("\x1b[1;2H\x1b[38;2;1;2;3m\x1b[48;2;4;5;6m▀".encode())


def test_row_runs_groups_adjacent_cells():
    assert ov.row_runs({(3, 1), (1, 1), (2, 1), (5, 1), (0, 0)}) == [(0, 0, 0), (1, 1, 3),
                                                                    (1, 5, 5)]
