"""The key counts the README promises, measured by doing the work with keys only on
the sample images (a pore from its box is in test_segment_screen)."""

from __future__ import annotations

import numpy as np

from qclabel.core.mask_measure import measure
from qclabel.tui.app import build_app
from segment_support import jump_keys, on_disk, sample_project, start
from test_tui_support import settle

SIZE = (120, 40)


async def _open(app, pilot, name):
    screen = await start(app, pilot)
    lab = app.labeler
    target = next(i for i in lab.queue if lab.record(i).source.endswith(name))
    lab.index = lab.queue.index(target)
    screen.show_image()
    await settle(pilot, app)
    screen.load_pixels_now()
    return screen, target


async def test_a_60_px_diagonal_scratch_in_nine_keys(tmp_path):
    project = sample_project(tmp_path, "metal")
    app = build_app(project, "admin", graphics="halfcell", task="segmentation")
    async with app.run_test(size=SIZE) as pilot:
        screen, image = await _open(app, pilot, "P1002_L08_S3_cam1_0007.jpg")  # clean
        a, b = (300, 300), (342, 342)  # 42 px each way: 59 px long
        keys = ["1", "g", *jump_keys(screen, *a), "space", "g", *jump_keys(screen, *b), "space"]
        await pilot.press(*keys)
        assert len(keys) == 9
        [m] = on_disk(project, image).masks
        mm = measure(m)
        assert m.cls == "scratch" and 45 <= mm.extent_px <= 75, mm


async def test_a_coating_run_with_a_hole_in_seventeen_keys(tmp_path):
    project = sample_project(tmp_path, "paint")
    app = build_app(project, "admin", graphics="halfcell", task="segmentation")
    async with app.run_test(size=SIZE) as pilot:
        screen, image = await _open(app, pilot, "panel_0002.jpg")
        x, y, w, h = 303, 288, 37, 96  # the run's box (ground truth)
        keys = [
            "1",
            "m",
            "g",
            *jump_keys(screen, x, y),
            "space",
            "g",
            *jump_keys(screen, x + w, y + h),
            "enter",
            "enter",
        ]
        await pilot.press(*keys)
        [m] = on_disk(project, image).masks
        full = m.full(640, 480)
        ys, xs = np.nonzero(full)
        cx, cy = int(np.median(xs)), int(np.median(ys))
        hole = ["e", "g", *jump_keys(screen, cx, cy), "space", "space"]
        await pilot.press(*hole)
        keys += hole
        assert len(keys) == 17
        [m2] = on_disk(project, image).masks
        assert m2.id == m.id and m2.area < m.area
        after = m2.full(640, 480)
        hx, hy = screen.cursor
        assert not after[hy, hx]  # the hole ...
        assert after[hy, hx - 6] or after[hy, hx + 6]  # ... inside the run
