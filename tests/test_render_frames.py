"""Decode at display size, windowing, greyscale fidelity, the frame cache/prefetch."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from qclabel.core.model import ImageRecord
from qclabel.errors import ImageError
from qclabel.render import FrameSource, Viewport, make_frame
from qclabel.render.decode import apply_window, auto_window, decode_region
from qclabel.render.sheet import SheetLayout, compose_sheet, halfcells


def rec(path, w, h, **kw) -> ImageRecord:
    return ImageRecord(
        id=path.stem, sha256="0" * 64, source=str(path), file=str(path), width=w, height=h, **kw
    )


@pytest.fixture
def xray16(tmp_path):
    """16-bit X-ray-like image: signal in 20000..24000 with a faint 40-count scratch."""
    a = np.tile(np.linspace(20000, 24000, 400, dtype=np.float32), (300, 1))
    a[150, 50:350] += 40
    path = tmp_path / "xray.tif"
    Image.fromarray(a.astype(np.uint16)).save(path)
    return path


def sixel_registers(sixel: str) -> set[tuple[int, int, int]]:
    return {tuple(map(int, m)) for m in re.findall(r"#\d+;2;(\d+);(\d+);(\d+)", sixel)}


def test_16bit_is_windowed_not_white(xray16):
    r = rec(xray16, 400, 300, bit_depth=16, mode="I;16")
    frame, src = make_frame(r, None, Viewport.fit(400, 300, 100, 40, 10, 20), None, "text")
    assert src.high_bit and frame.high_bit
    lo, hi = frame.picture.getextrema()
    assert frame.picture.mode == "L" and lo < 10 and hi > 245  # full range, not white
    c, w = frame.window
    assert 19900 < c - w / 2 < 20100 and 23900 < c + w / 2 < 24100


def test_catalog_window_is_the_default(xray16):
    r = rec(xray16, 400, 300, bit_depth=16, mode="I;16", window=(21000.0, 2000.0))
    frame, _ = make_frame(r, None, Viewport.fit(400, 300, 40, 20), None, "text")
    assert frame.window == (21000.0, 2000.0)
    px = np.asarray(frame.picture)
    assert px[:, 0].max() < 10 and px[:, -18:].min() == 255  # above the window: clipped


def test_apply_window_maps_linearly():
    a = np.array([[0, 1000, 2000, 3000]], dtype=np.uint16)
    assert apply_window(a, 1000, 2000).tolist() == [[0, 128, 255, 255]]
    assert apply_window(a, 1500, 2000).tolist() == [[0, 64, 191, 255]]
    c, w = auto_window(np.arange(10000, dtype=np.uint16).reshape(100, 100))
    assert 4900 < c < 5100 and 9800 < w < 10000


def test_grey_sixel_keeps_at_least_64_levels(xray16):
    r = rec(xray16, 400, 300, bit_depth=16, mode="I;16")
    frame, _ = make_frame(r, None, Viewport.fit(400, 300, 50, 20, 8, 17), None, "sixel")
    regs = sixel_registers(frame.sixel)
    assert all(a == b == c for a, b, c in regs)  # grey stays grey
    assert len(regs) >= 64
    # one row of the ramp: neighbouring pixels differ by at most one step (no dither noise)
    row = np.asarray(frame.picture, dtype=np.int16)[10]
    assert np.abs(np.diff(row)).max() <= 3


def test_jpeg_decoded_at_display_size(tmp_path):
    path = tmp_path / "big.jpg"
    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((1200, 1600, 3)) * 255).astype("uint8")).save(path, quality=90)
    vp = Viewport.fit(1600, 1200, 40, 15)
    src = decode_region(rec(path, 1600, 1200), None, vp)
    assert src.array.shape[:2] == (vp.frame_size[1], vp.frame_size[0])
    frame, _ = make_frame(rec(path, 1600, 1200), None, vp, None, "text")
    assert frame.picture.mode == "RGB" and frame.picture.size == vp.frame_size


def test_zoomed_region_is_a_full_resolution_crop(tmp_path):
    a = np.zeros((400, 400), np.uint8)
    a[100:110, 200:210] = 255  # a 10 px bright square
    path = tmp_path / "dot.png"
    Image.fromarray(a).save(path)
    vp = Viewport.fit(400, 400, 40, 20).zoomed(20, center=(205, 105))  # region 20x20
    frame, _ = make_frame(rec(path, 400, 400), None, vp, None, "text")
    px = np.asarray(frame.picture)
    assert frame.picture.size == vp.frame_size
    col, row = vp.cell_of(205, 105)
    oc, orow = vp.offset
    assert px[(row - orow) * 2, col - oc] == 255  # the dot sits under its cell
    assert px[0, 0] == 0


def test_relative_file_resolves_against_project_root(tmp_path):
    (tmp_path / "canonical").mkdir()
    Image.new("L", (20, 10), 77).save(tmp_path / "canonical" / "c.png")
    r = replace(rec(tmp_path / "canonical" / "c.png", 20, 10), file="canonical/c.png")
    frame, _ = make_frame(r, tmp_path, Viewport.fit(20, 10, 20, 10), None, "text")
    assert frame.picture.getextrema() == (77, 77)


def test_missing_file_is_a_clear_error(tmp_path):
    r = rec(tmp_path / "gone.png", 20, 10)
    with pytest.raises(ImageError, match="gone.png"):
        make_frame(r, None, Viewport.fit(20, 10, 20, 10), None, "text")


def test_frame_source_caches_and_rewindows_without_decoding(xray16):
    src = FrameSource(None, "text", workers=2)
    r = rec(xray16, 400, 300, bit_depth=16, mode="I;16")
    vp = Viewport.fit(400, 300, 40, 20)
    first = src.request(r, vp).result(timeout=30)
    assert src.request(r, vp).result() is first  # cached
    assert src.ready(r, vp) is first
    other = src.request(r, vp, (22000.0, 500.0)).result(timeout=30)
    assert other.window == (22000.0, 500.0) and src.decodes == 1  # re-window only
    src.prefetch([(r, vp.zoomed(2))])
    src.request(r, vp.zoomed(2)).result(timeout=30)
    assert src.decodes == 2
    src.close()


def test_sheet_layout_and_composite():
    lay = SheetLayout.for_area(100, 28)
    assert lay.cols * lay.slot_w <= 100 and lay.rows * lay.slot_h <= 28 and lay.per_page >= 4
    pics = [Image.new("RGB", (40, 30), (200, 0, 0)), None, Image.new("L", (30, 40), 90)]
    sheet = compose_sheet(pics, lay)
    assert sheet.mode == "RGBA" and sheet.size == (lay.cols * lay.slot_w, lay.rows * lay.slot_h * 2)
    alpha = np.asarray(sheet)[:, :, 3]
    c, r = lay.slot_origin(0)
    assert alpha[(r + lay.thumb_h) * 2, c + 1] == 0  # caption row stays transparent
    cells = halfcells(pics[0], 10, 4)
    assert cells.shape == (4, 10, 2, 3) and tuple(cells[2, 5, 0]) == (200, 0, 0)
