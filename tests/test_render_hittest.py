"""A mouse click on the picture makes Textual render single lines of the image view
to find the cell under the pointer. With a forced half-cell or sixel renderer that
must never build a kitty (TGP) picture, which writes its upload straight to the real
stdout: no `ESC _ G` bytes, whatever the screen."""

from __future__ import annotations

import pytest

from qclabel.tui.app import build_app
from qclabel.tui.widgets.overlay import OverlayImageView
from test_tui_support import SIZE, make_project, settle

APC_GRAPHICS = "\x1b_G"


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path, n_rgb=2, grey16=False, jpeg=False)


@pytest.mark.parametrize("graphics", ["halfcell", "sixel"])
@pytest.mark.parametrize("task", ["classification", "box"])
async def test_click_on_the_picture_sends_no_kitty_graphics(proj, capfd, graphics, task):
    app = build_app(
        proj,
        "admin",
        graphics=graphics,
        task=task,
        cell_px=(10, 20) if graphics == "sixel" else None,
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        view = app.screen.image_view
        assert view.frame is not None
        (oc, orow), (fc, fr) = view.frame.viewport.offset, view.frame.viewport.frame_cells
        capfd.readouterr()
        for dx, dy in ((1, 1), (fc // 2, fr // 2), (fc - 1, fr - 1)):
            await pilot.click(view, offset=(oc + dx, orow + dy))
            await pilot.hover(view, offset=(oc + dx, orow + dy - 1))
        await pilot.pause()
        out = capfd.readouterr()
        assert APC_GRAPHICS not in out.out and APC_GRAPHICS not in out.err
        assert view._renderable is None  # no TGP picture was built
        # what the hit test sees is the picture itself, not an empty line
        strip = view.render_line(orow + fr // 2)
        assert strip.cell_length == view.size.width
        if graphics == "halfcell":
            assert "▀" in strip.text or "▄" in strip.text
        if task == "box":
            assert isinstance(view, OverlayImageView)
            # the clicks moved the box cursor to the pixel under the last one
            assert app.screen.cursor == view_pixel(view, oc + fc - 1, orow + fr - 1)


def view_pixel(view, col, row):
    from qclabel.render import cellmap

    return cellmap.cell_pixel(view.frame.viewport, col, row)
