"""16-bit colour sources reach the display at full depth: decoded through the ingest
reader (OpenCV), not Pillow (which has no 16-bit RGB mode and cuts them to 8 bit), so
the window maps the real 16-bit values."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.render import Viewport
from qclabel.render.decode import decode_region
from qclabel.tui.app import build_app
from test_tui_support import SIZE, settle

W, H = 160, 120


def colour16() -> np.ndarray:
    """RGB, all values within 400 counts of 30000: one 8-bit level once Pillow cuts it.
    Red rises left to right, green falls, blue is flat in the middle."""
    ramp = np.tile(np.linspace(0, 400, W), (H, 1))
    rgb = np.stack([30000 + ramp, 30400 - ramp, np.full((H, W), 30200.0)], axis=2)
    return rgb.astype(np.uint16)


@pytest.fixture
def proj(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    assert cv2.imwrite(str(folder / "colour16.tif"), colour16()[:, :, ::-1])  # OpenCV is BGR
    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [folder], executor=pool)
    return Project.open(project.root)


def test_decode_keeps_16_bit_colour_in_rgb_order(proj):
    [rec] = proj.store.catalog.all()
    vp = Viewport.fit(W, H, W, H // 2, 1, 2)  # one source pixel per frame pixel
    src = decode_region(rec, proj.root, vp)
    assert src.high_bit and src.array.dtype == np.uint16 and src.array.shape == (H, W, 3)
    assert np.array_equal(src.array, colour16())


async def test_app_windows_the_full_16_bit_range_of_a_colour_image(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        frame = app.screen.image_view.frame
        assert frame is not None and frame.high_bit
        c, w = frame.window
        assert 30000 <= c - w / 2 and c + w / 2 <= 30400 + 1  # the real values' range
        pic = np.asarray(frame.picture.convert("RGB"), dtype=np.int16)
        red, green = pic[pic.shape[0] // 2, :, 0], pic[pic.shape[0] // 2, :, 1]
        # 400 counts spread over the 8-bit range: a ramp, not one flat level
        assert red[-1] - red[0] > 200 and green[0] - green[-1] > 200
        assert np.all(np.diff(red) >= 0) and len(set(red.tolist())) > 50
        # the window keys work on that depth: a narrower window steepens the ramp
        await pilot.press("left_curly_bracket")
        await settle(pilot, app)
        narrower = np.asarray(app.screen.image_view.frame.picture.convert("RGB"), np.int16)
        assert app.screen.window[1] < w
        assert np.count_nonzero(narrower[pic.shape[0] // 2, :, 0] == 255) > np.count_nonzero(
            red == 255
        )
