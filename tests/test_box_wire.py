"""What the box tool writes to the terminal: an overlay change sends a few cells (and,
in sixel mode, a patch of the vacated cell), never the picture again."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.tui.app import build_app
from test_tui_support import settle

SIZE = (160, 45)


@pytest.fixture
def textured(tmp_path):
    """Two textured plates (camera-like noise and shading): a realistic frame size."""
    (tmp_path / "images").mkdir()
    rng = np.random.default_rng(5)
    for i in range(2):
        a = rng.normal(140 + 5 * i, 20, (300, 400)) + np.linspace(-25, 25, 400)[None, :]
        a[120:130, 150:230] -= 70
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(tmp_path / f"images/p{i}.png")
    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp_path / "images"], executor=pool)
    return Project.open(project.root)


def meter(app):
    """Collect every byte string the app writes (compositor updates and the overlay's
    direct cell writes); headless apps render them but send them nowhere."""
    from textual._compositor import CompositorUpdate

    out: list[str] = []
    display, write = app._display, app._driver.write

    def _display(screen, renderable):
        if isinstance(renderable, CompositorUpdate):
            out.append(renderable.render_segments(app.console))
        return display(screen, renderable)

    def _write(data):
        out.append(data)
        return write(data)

    app._display, app._driver.write = _display, _write
    return out


@pytest.mark.parametrize("graphics,cell_px", [("sixel", (10, 20)), ("halfcell", (1, 2))])
async def test_cursor_move_and_edit_send_cells_not_the_picture(
    textured, graphics, cell_px, monkeypatch
):
    import textual.constants

    # what `qclabel label` sets (read by Textual at import, hence the patch)
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "truecolor")
    app = build_app(textured, "admin", graphics=graphics, task="box", cell_px=cell_px)
    async with app.run_test(size=SIZE) as pilot:
        out = meter(app)
        await settle(pilot, app)
        screen = app.screen
        out.clear()
        await pilot.press("n")  # an image change: one frame
        await settle(pilot, app)
        screen.load_pixels_now()
        await pilot.press("l")
        await pilot.pause()
        frame = screen.image_view.frame
        full = sum(len(s) for s in out)
        if graphics == "sixel":
            assert sum(s.count(frame.sixel) for s in out) == 1
        out.clear()
        await pilot.press("l")
        await pilot.pause()
        move = "".join(out)
        if graphics == "sixel":
            assert frame.sixel not in move
            assert move.count("\x1bP") == 1  # one patch: the cell the cursor left
        assert "┼" in move
        assert 0 < len(move) < 0.05 * full
        await pilot.press("space", "J", "L", "enter", "shift+tab", "e", "e")
        await pilot.pause()
        out.clear()
        await pilot.press("h")  # left edge one cell further out
        await pilot.pause()
        edit = "".join(out)
        if graphics == "sixel":  # the outline is pixels: patches of the cells it crosses
            assert frame.sixel not in edit and edit.count("\x1bP") >= 2
            assert not set("┏┗┃") & set(edit)
        else:
            assert set("┏┗┃") & set(edit), repr(edit[:600])
        assert 0 < len(edit) < 0.05 * full


async def test_sixel_outline_is_a_pixel_ring_around_the_box_and_toggles(textured, monkeypatch):
    """Over sixel, a box outline is never glyphs on the box's cells: it is a ring of
    pixels just outside the box, sent as transparent patches (only the ring's pixels);
    ctrl+o hides every outline and gives the pixels back."""
    import textual.constants
    from qclabel.render.strokes import cell_pieces

    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "truecolor")
    app = build_app(textured, "admin", graphics="sixel", task="box", cell_px=(10, 20))
    async with app.run_test(size=SIZE) as pilot:
        out = meter(app)
        await settle(pilot, app)
        screen = app.screen
        screen.load_pixels_now()
        frame = screen.image_view.frame
        out.clear()
        await pilot.press("space", "l", "l", "j", "enter")  # a small box, 3 x 2 cells
        await pilot.pause()
        drawn = "".join(out)
        [box] = screen.boxes
        assert "\x1bP0;1;0q" in drawn  # P2=1: transparent patch
        assert frame.sixel not in drawn and not set("┌┐└┘─│") & set(drawn)
        view = screen.image_view
        vp = frame.viewport
        pieces = cell_pieces(view.overlay.strokes, vp)
        sx, sy = vp.scale
        for (x0, y0, x1, y1), _, _ in (p for ps in pieces.values() for p in ps):
            inside_x = x0 >= (box.x - vp.x) * sx and x1 < (box.x2 - vp.x) * sx
            inside_y = y0 >= (box.y - vp.y) * sy and y1 < (box.y2 - vp.y) * sy
            assert not (inside_x and inside_y)  # no stroke pixel on the box
        out.clear()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not view.overlay.strokes and "\x1bP0;1;0q" in "".join(out)
        assert "outlines off" in screen.status_text()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert len(view.overlay.strokes) == 1
