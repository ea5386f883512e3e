"""Masks on screen: class colour, semi-transparent or an outline, never hiding the
pixels being judged; a stroke re-sends only the cells it changed (sixel, kitty and
half-cell), measured on the bytes the real app writes and on the wire model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from qclabel.core.mask import Mask
from qclabel.maskedit.brush import stamp
from qclabel.render import overlay as ov, wire
from qclabel.render.maskview import HALF, RING_DOT, display_mask, draw_mask, ring
from qclabel.render.strokes import cell_pieces, painted
from qclabel.render.viewport import Viewport
from qclabel.tui.app import build_app
from segment_support import goto, sample_project, start
from test_box_wire import meter
from test_tui_support import settle

RNG = np.random.default_rng(3)
IMG_W, IMG_H = 640, 480


def blob(x=300, y=200, r=25) -> Mask:
    p = stamp([(x, y)], r, "round", IMG_W, IMG_H)
    return Mask.from_array("run", p.pixels, p.x, p.y)


def textured(fw, fh) -> np.ndarray:
    return RNG.integers(40, 220, (fh, fw, 3), dtype=np.uint8)


@pytest.mark.parametrize("level", [0, 5])
def test_display_mask_follows_the_frame_pixel_grid(level):
    """A display pixel is set exactly when a mask pixel lies under it (zoomed out: any
    of them, so small defects never vanish; zoomed in: the one pixel it shows)."""
    from qclabel.render import cellmap as cm

    vp = cm.zoom_to(Viewport.fit(IMG_W, IMG_H, 160, 45), level, (300, 200))
    m = blob(300, 200, 3)  # a 7 px pore
    dm, x0, y0 = display_mask(m, vp)
    (sx, sy) = vp.scale
    full = m.full(IMG_W, IMG_H).astype(bool)
    for py in range(dm.shape[0]):
        for px in range(dm.shape[1]):
            fx, fy = px + x0, py + y0
            cx0, cy0 = int(np.floor(vp.x + fx / sx + 1e-9)), int(np.floor(vp.y + fy / sy + 1e-9))
            cx1 = max(cx0 + 1, int(np.floor(vp.x + (fx + 1) / sx + 1e-9)))
            cy1 = max(cy0 + 1, int(np.floor(vp.y + (fy + 1) / sy + 1e-9)))
            assert dm[py, px] == full[cy0:cy1, cx0:cx1].any(), (px, py)
    assert dm.sum() > 0


@pytest.mark.parametrize("style", ["fill", "outline"])
def test_halfcell_keeps_the_picture_under_the_tint(style):
    vp = Viewport.fit(IMG_W, IMG_H, 160, 45)
    fw, fh = vp.frame_size
    pic = textured(fw, fh)
    o = ov.Overlay()
    m = blob()
    draw_mask(o, vp, m, "#ff0000", "halfcell", pic, style)
    assert o and all(g.char == HALF and g.bg for g in o.values())
    oc, orow = vp.offset
    dm, x0, y0 = display_mask(m, vp, pad=1)
    inside = {(x + x0, y + y0) for y, x in zip(*np.nonzero(dm))}
    for (col, row), g in o.items():
        for y, colour in ((2 * (row - orow), g.colour), (2 * (row - orow) + 1, g.bg)):
            x = col - oc
            got = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
            base = pic[y, x].astype(int)
            if (x, y) in inside:
                if style == "outline":  # the outline never touches a mask pixel
                    assert (got == base).all()
                else:  # tinted, not painted over: the texture stays
                    assert np.allclose(got, base * 0.65 + np.array([255, 0, 0]) * 0.35, atol=1)
    if style == "fill":
        colours = {g.colour for g in o.values()}
        assert len(colours) > len(o) // 2  # the picture's own variation shows through


def test_kitty_ring_never_covers_a_cell_showing_the_mask():
    vp = Viewport.fit(IMG_W, IMG_H, 160, 45, 10, 20)
    o = ov.Overlay()
    m = blob()
    draw_mask(o, vp, m, "#00ff00", "kitty", None, "fill")
    assert o and all(g.char == RING_DOT for g in o.values())
    dm, x0, y0 = display_mask(m, vp)
    oc, orow = vp.offset
    shown = {((x + x0) // 10 + oc, (y + y0) // 20 + orow) for y, x in zip(*np.nonzero(dm))}
    assert not shown & set(o)
    # every shown cell is surrounded: the ring encloses the mask
    for c, r in shown:
        assert all((c + dc, r + dr) in shown | set(o) for dc in (-1, 0, 1) for dr in (-1, 0, 1))


@pytest.mark.parametrize("style", ["fill", "outline"])
def test_sixel_strokes_blend_or_ring_without_hiding_mask_pixels(style):
    vp = Viewport.fit(IMG_W, IMG_H, 160, 45, 10, 20)
    fw, fh = vp.frame_size
    pic = Image.fromarray(textured(fw, fh)[..., 0], "L")  # a greyscale inspection image
    o = ov.Overlay()
    m = blob()
    draw_mask(o, vp, m, "#0000ff", "sixel", None, style)
    assert not o and len(o.strokes) == 1
    pieces = cell_pieces(o.strokes, vp)
    cols = [c for c, _ in pieces]
    rows = [r for _, r in pieces]
    cells = (min(cols), min(rows), max(cols), max(rows))
    out = np.asarray(painted(pic, vp, cells, pieces).convert("RGB")).astype(int)
    oc, orow = vp.offset
    left, top = (cells[0] - oc) * 10, (cells[1] - orow) * 20
    base = np.asarray(pic.convert("RGB")).astype(int)[
        top : top + out.shape[0], left : left + out.shape[1]
    ]
    dm, x0, y0 = display_mask(m, vp, pad=1)
    sub = np.zeros(base.shape[:2], bool)
    for y, x in zip(*np.nonzero(dm)):
        if 0 <= y + y0 - top < sub.shape[0] and 0 <= x + x0 - left < sub.shape[1]:
            sub[y + y0 - top, x + x0 - left] = True
    if style == "outline":
        assert (out[sub] == base[sub]).all()  # mask pixels untouched
        rg = ring(dm)
        assert rg.sum() > 0
    else:
        expect = base[sub] * (1 - 0x59 / 255) + np.array([0, 0, 255]) * (0x59 / 255)
        # blended (within the patch's 256-colour quantization), the texture kept
        assert np.abs(out[sub] - expect).mean() < 12
        assert np.corrcoef(out[sub][:, 0], base[sub][:, 0])[0, 1] > 0.9
        assert out[sub][:, 0].std() > 20


def _brush_overlays(vp, mode, pic):
    """The overlay before and after one stroke added to a mask already on screen."""
    other = blob(200, 150, 30)
    m = blob(400, 260, 20)
    before, after = ov.Overlay(), ov.Overlay()
    for o, masks in (
        (before, (other, m)),
        (
            after,
            (
                other,
                m.painted(
                    stamp([(420, 260), (450, 270)], 4, "round", IMG_W, IMG_H).pixels, 416, 256
                ),
            ),
        ),
    ):
        for x in masks:
            draw_mask(o, vp, x, "#ff7043", mode, pic, "fill")
    return before, after


@pytest.mark.parametrize(
    "mode,cell", [("halfcell", (1, 2)), ("kitty", (10, 20)), ("sixel", (10, 20))]
)
def test_a_stroke_costs_a_few_cells_on_the_wire_model(mode, cell):
    vp = Viewport.fit(IMG_W, IMG_H, 160, 45, *cell)
    fw, fh = vp.frame_size
    frame = textured(fw, fh)
    before, after = _brush_overlays(vp, mode, frame)
    cols, rows = vp.frame_cells
    if mode == "sixel":
        old, new = cell_pieces(before.strokes, vp), cell_pieces(after.strokes, vp)
        changed = {c for c in old.keys() | new.keys() if old.get(c) != new.get(c)}
        assert 0 < len(changed) <= 0.05 * cols * rows
        oc, orow = vp.offset
        sent = frozenset((c - oc, r - orow) for c, r in changed)
        cost = wire.restore_sixel(frame, 10, 20, sent)
        full = wire.full_frame_sixel(frame)
    else:
        delta = ov.diff(before, after)
        assert 0 < delta.cells <= 0.05 * cols * rows
        if mode == "halfcell":
            cost = wire.delta_bytes(delta, "halfcell", frame)
            full = wire.full_frame_halfcell(frame, cols, rows)
        else:
            cost = wire.delta_bytes(delta, "kitty", frame)
            full = wire.full_frame_kitty(frame, cols, rows)
    assert cost < 0.05 * full, (mode, cost, full)


@pytest.mark.parametrize("graphics,cell_px", [("sixel", (10, 20)), ("halfcell", (1, 2))])
async def test_a_brush_stroke_in_the_app_sends_only_its_cells(
    tmp_path, graphics, cell_px, monkeypatch
):
    import textual.constants

    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "truecolor")
    project = sample_project(tmp_path, "paint")
    app = build_app(project, "admin", graphics=graphics, task="segmentation", cell_px=cell_px)
    async with app.run_test(size=(160, 45)) as pilot:
        out = meter(app)
        screen = await start(app, pilot)
        out.clear()
        await pilot.press("n")
        await settle(pilot, app)
        screen.load_pixels_now()
        await pilot.press("l")
        await pilot.pause()
        full = sum(len(s) for s in out)
        frame = screen.image_view.frame
        await pilot.press("1", *["]"] * 5)
        await goto(pilot, screen, 300, 300)
        await pilot.press("space", "l", "l", "l", "space")  # one stroke, saved
        await pilot.pause()
        assert (
            project.store.state("admin").annotation(app.labeler.current).masks
            or app.labeler.annotation().masks
        )
        per_key = []
        for key in ("space", "l", "l", "space"):  # a second stroke, key by key
            out.clear()
            await pilot.press(key)
            await pilot.pause()
            sent = "".join(out)
            if graphics == "sixel":
                assert frame.sixel not in sent
            per_key.append(len(sent))
        assert screen.image_view.frame is frame  # no new picture
        assert all(0 < n < 0.05 * full for n in per_key), (per_key, full)
        assert sum(per_key) < 0.2 * full  # the whole stroke
        await pilot.press("ctrl+f")  # outline: the ring only
        await pilot.pause()
        assert screen.display_style == "outline"
