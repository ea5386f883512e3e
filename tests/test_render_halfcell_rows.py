"""Half-cell rows are encoded ahead as terminal strings: byte for byte what Textual
renders from the styled cells, in every colour system; an image change in the app
writes them without building a single cell segment."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from rich.console import Console
from textual.strip import Strip

from qclabel.render.frames import encode_halfcell
from test_tui_support import SIZE, make_project, settle


def picture(seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (41, 57, 3), dtype=np.uint8)  # odd height: a padded row
    a[:10] = a[:10, :, :1]  # some grey rows too (the 256-colour grey ramp)
    return Image.fromarray(a)


@pytest.mark.parametrize("system", ["truecolor", "256", "standard"])
def test_rows_match_textual_render(system):
    rows = encode_halfcell(picture(), system)
    console = Console(color_system=system, force_terminal=True)
    assert len(rows) == 21
    for r in range(len(rows)):
        assert rows.rows(system)[r] == Strip(rows.segments(r)).render(console)


async def test_image_change_builds_no_cell_segments(tmp_path):
    from qclabel.tui.app import build_app
    from qclabel.tui.widgets.encoded_strip import EncodedStrip

    app = build_app(make_project(tmp_path), "alice", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        view = app.screen.image_view
        first = view.frame
        await pilot.press("n")
        await settle(pilot, app)
        assert view.frame is not first and view._strips
        strips = [s for s in view._strips.values() if isinstance(s, EncodedStrip)]
        assert len(strips) == len(view.frame.halfcell)
        assert not any(s.built for s in strips)  # written from the encoded strings
        # A hit test still finds the picture's cells (their colours) where it is drawn.
        oc, orow = view.frame.viewport.offset
        line = view.render_line(orow)
        assert any(seg.text == "▀" and seg.style.bgcolor for seg in line)
