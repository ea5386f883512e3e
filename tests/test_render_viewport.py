"""Viewport: the exact mapping between canonical pixels and terminal cells."""

from __future__ import annotations

import itertools

import pytest

from qclabel.render import Viewport


def test_fit_keeps_aspect_and_centres():
    vp = Viewport.fit(4000, 3000, 100, 40, 10, 20)  # area 1000x800 px
    assert vp.frame_size == (1000, 750)
    assert vp.frame_cells == (100, 38)  # 750 / 20 = 37.5 -> 38 rows
    assert vp.offset == (0, 1)
    tall = Viewport.fit(1000, 4000, 100, 40, 10, 20)
    assert tall.frame_size == (200, 800) and tall.offset == (40, 0)


def test_halfcell_pixels_are_one_by_two():
    vp = Viewport.fit(120, 90, 100, 28)
    assert vp.frame_size == (74, 56)  # 56 px = 28 rows of two half-cells
    assert vp.frame_cells == (74, 28)


@pytest.mark.parametrize(
    "size,area,cell",
    [
        ((4000, 3000), (100, 40), (10, 20)),
        ((1600, 1200), (80, 20), (1, 2)),
        ((333, 977), (57, 31), (8, 17)),
        ((5, 3), (40, 20), (1, 2)),
    ],
)
def test_cell_mapping_round_trips(size, area, cell):
    vp = Viewport.fit(*size, *area, *cell)
    oc, orow = vp.offset
    fc, fr = vp.frame_cells
    for col, row in itertools.product(range(oc, oc + fc), range(orow, orow + fr)):
        x0, y0, x1, y1 = vp.cell_rect(col, row)
        assert vp.cell_of(*vp.cell_center(col, row)) == (col, row)
        assert vp.cell_of(x0, y0) == (col, row)  # top-left corner is inside
        assert vp.cell_of(x1 - 1e-6, y1 - 1e-6) == (col, row)
        assert vp.cell_in_frame(col, row)
    assert not vp.cell_in_frame(oc + fc, orow)


def test_cell_rects_tile_the_region_exactly():
    vp = Viewport(4000, 3000, 100, 40, 10, 20, x=1000, y=500, w=1000, h=750)
    oc, orow = vp.offset
    fc, fr = vp.frame_cells
    assert vp.cell_rect(oc, orow)[:2] == pytest.approx((1000, 500))
    last = vp.cell_rect(oc + fc - 1, orow + fr - 1)
    assert last[2] == pytest.approx(2000) and last[3] >= 1250 - 1e-9
    # neighbouring cells share their edge: no gaps, no overlap
    a, b = vp.cell_rect(oc + 3, orow), vp.cell_rect(oc + 4, orow)
    assert a[2] == pytest.approx(b[0])


def test_zoom_and_pan_stay_inside_the_image():
    vp = Viewport.fit(1000, 800, 100, 40, 10, 20)
    z = vp.zoomed(2)
    assert (z.w, z.h) == (500, 400) and (z.x, z.y) == (250, 200)
    assert z.zoom == pytest.approx(2)
    far = z.panned(10, 10)
    assert (far.x + far.w, far.y + far.h) == (1000, 800)
    back = far.panned(-10, -10)
    assert (back.x, back.y) == (0, 0)
    corner = vp.zoomed(4, center=(0, 0))
    assert (corner.x, corner.y) == (0, 0)
    assert vp.zoomed(1e6).w == 8  # never below MIN_REGION
    assert z.zoomed(0.25).region == (0, 0, 1000, 800)
    assert z.fitted().region == (0, 0, 1000, 800)


def test_zoomed_mapping_lands_on_region_pixels():
    vp = Viewport.fit(1000, 800, 100, 40, 10, 20).zoomed(4, center=(600, 300))
    sx, sy = vp.scale
    col, row = vp.cell_of(600, 300)
    x0, y0, x1, y1 = vp.cell_rect(col, row)
    assert x0 <= 600 < x1 and y0 <= 300 < y1
    assert x1 - x0 == pytest.approx(10 / sx)


def test_bad_size_is_rejected():
    with pytest.raises(ValueError):
        Viewport.fit(0, 10, 10, 10)
