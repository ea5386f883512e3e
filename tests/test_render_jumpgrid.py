"""Fine jump stages, for many image and terminal sizes: every letter of a stage has a
cell of its own, the stage covers the slot it continues, and a few stages always end
on one exact pixel; the nearest-letter choice at the first stage always leaves the
target inside the next stage."""

from __future__ import annotations

import pytest

from qclabel.render import cellmap as cm, jumpgrid
from qclabel.render.viewport import Viewport

CASES = [
    (400, 300, 66, 27, 1, 2),
    (800, 600, 126, 42, 10, 20),
    (2592, 1944, 46, 21, 1, 2),
    (1024, 256, 126, 42, 1, 2),
    (480, 360, 200, 60, 8, 16),
]


def nearest_slot(vp, x, y):
    ncol, nrow = jumpgrid.divisions(vp)
    col, row = cm.pixel_cell(vp, x, y)
    i = min(range(ncol), key=lambda i: abs(jumpgrid.slot_cell(vp, i, 0)[0] - col))
    j = min(range(nrow), key=lambda j: abs(jumpgrid.slot_cell(vp, 0, j)[1] - row))
    return i, j


@pytest.mark.parametrize("w,h,cols,rows,cw,ch", CASES)
def test_stages_reach_every_pixel_exactly(w, h, cols, rows, cw, ch):
    home = Viewport.fit(w, h, cols, rows, cw, ch)
    for x, y in [(0, 0), (w - 1, h - 1), (w // 3, h // 2), (w - 7, 5), (137, 91 % h)]:
        vp = home
        i, j = nearest_slot(vp, x, y)
        area = jumpgrid.widened(jumpgrid.slot_area(vp, i, j), vp)
        stages = 1
        while not area.exact:
            assert area.x0 <= x < area.x1 and area.y0 <= y < area.y1, (x, y, area)
            vp = jumpgrid.stage_view(vp, area)
            rulers = jumpgrid.area_rulers(vp, area)
            assert len(rulers) == sum(area.divisions())  # one cell per letter
            ncol, nrow = area.divisions()
            i = next(k for k in range(ncol) if area.slot(k, 0).x0 <= x < area.slot(k, 0).x1)
            j = next(k for k in range(nrow) if area.slot(0, k).y0 <= y < area.slot(0, k).y1)
            area = jumpgrid.widened(area.slot(i, j), vp)
            stages += 1
            assert stages <= 4
        assert (area.x0, area.y0) == (x, y)


def test_corner_area_starts_at_the_anchor_and_stays_in_the_image():
    vp = Viewport.fit(400, 300, 66, 27, 1, 2)
    a = jumpgrid.corner_area(vp, 137, 91)
    assert (a.x0, a.y0) == (137, 91) and a.divisions() == (25, 25) and a.x1 - a.x0 == 25
    edge = jumpgrid.corner_area(vp, 395, 298)  # shifted back: still 25 pixels to pick from
    assert (edge.x1, edge.y1) == (400, 300) and edge.x0 <= 395 and edge.y0 <= 298
    assert len(jumpgrid.area_rulers(jumpgrid.stage_view(vp, a), a)) == 50
