"""Kitty frames are encoded in the prefetch threads: the key only sends a payload that
already exists, and the bytes are exactly what textual-image's own upload would send."""

from __future__ import annotations

import re

from PIL import Image

from qclabel.render.frames import encode_kitty
from qclabel.tui.app import build_app
from test_tui_support import SIZE, make_project, settle

APC = re.compile(r"\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\")


def uploads(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2) or "") for m in APC.finditer(text)]


def payload(text: str) -> str:
    """The base64 of every upload chunk (action a=p placements carry none)."""
    return "".join(data for keys, data in uploads(text) if "f=100" in keys)


def test_pre_encoded_upload_equals_textual_image_upload(capfd):
    from textual_image.renderable.tgp import Image as TGPImage

    from qclabel.tui.widgets.kitty_upload import PreEncodedTGP

    picture = Image.linear_gradient("L").convert("RGB").resize((90, 57))  # not whole cells
    capfd.readouterr()
    TGPImage(picture, width=9, height=3)._send_image_to_terminal(90, 60)
    theirs = capfd.readouterr().out
    ours_img = PreEncodedTGP(picture, encode_kitty(picture, (90, 60)), (90, 60), width=9, height=3)
    ours_img._send_image_to_terminal(90, 60)
    ours = capfd.readouterr().out
    assert ours_img.used_payload
    assert payload(ours) and payload(ours) == payload(theirs)
    # chunking follows the protocol: every chunk but the last says m=1
    flags = [keys for keys, _ in uploads(ours)]
    assert all("m=1" in k for k in flags[:-1]) and "m=0" in flags[-1]


def test_a_size_the_payload_was_not_built_for_falls_back(capfd):
    from qclabel.tui.widgets.kitty_upload import PreEncodedTGP

    picture = Image.new("RGB", (40, 20), (200, 10, 10))
    img = PreEncodedTGP(picture, encode_kitty(picture, (40, 20)), (40, 20), width=4, height=1)
    capfd.readouterr()
    img._send_image_to_terminal(80, 40)  # the terminal's cells grew since the frame
    out = capfd.readouterr().out
    assert not img.used_payload and payload(out)
    import base64
    import io

    with Image.open(io.BytesIO(base64.b64decode(payload(out)))) as sent:
        assert sent.size == (80, 40)


async def test_the_app_sends_the_frame_built_by_prefetch(tmp_path, capfd):
    proj = make_project(tmp_path, n_rgb=2, grey16=False, jpeg=False)
    app = build_app(proj, "admin", graphics="kitty", cell_px=(10, 20))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        view = app.screen.image_view
        frame = view.frame
        assert frame is not None and frame.kitty, "prefetch built no kitty payload"
        await pilot.pause()
        out = capfd.readouterr().out
        sent = payload(out)
        assert sent == frame.kitty
        # The widget sent it itself (no textual-image renderable at the key) ...
        assert view._kitty_id is not None and view._renderable is None
        assert f"a=p,i={view._kitty_id},c={frame.viewport.frame_cells[0]}" in out
        # ... and draws exactly the placeholder rows textual-image would.
        from textual_image.renderable.tgp import Image as TGPImage

        theirs = TGPImage(frame.picture)
        theirs.terminal_image_id = view._kitty_id
        cols, rows = frame.viewport.frame_cells
        expected = [seg.text.rstrip("\n") for seg in theirs._render_diacritics(cols, rows)]
        orow = frame.viewport.offset[1]
        drawn = [view.render_line(orow + r).text.strip() for r in range(rows)]
        assert drawn == expected
        await pilot.press("n")
        await settle(pilot, app)
        nxt = view.frame
        assert nxt is not frame and nxt.kitty
        assert payload(capfd.readouterr().out) == nxt.kitty
