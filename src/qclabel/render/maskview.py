"""Masks over the picture: class colour, semi-transparent fill or an outline just
outside the mask, never hiding the pixels being judged.

A mask is first mapped to display pixels (the frame's pixel grid: display pixel
px shows canonical pixel vp.x + floor((px + 0.5) / scale)). Then per graphics mode:
- sixel: pixel strokes (render.strokes) with the class colour, for the fill at
  `FILL_ALPHA` (`#rrggbbaa`: blended, the texture stays visible) or, for the outline, a
  ring one display pixel wide just outside the mask; only the cells whose pixels
  change are sent as sixel patches.
- half-cell / unicode (two display pixels per cell): each cell the mask touches is an
  upper-half-block glyph whose two colours are the picture's own two pixels, blended
  with the class colour where the mask (fill) or its outer ring (outline) is.
- kitty: a text glyph would replace the cell's pixels, so a mask is always shown as
  dots in the ring of cells just outside the cells it covers (the fill toggle only
  changes how that ring is drawn).
An edit changes the glyphs/pieces of only the cells it touched: `overlay.diff` (and
the sixel layer's per-cell keys) then send those cells alone.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ..core.mask import Mask
from .overlay import Glyph, Overlay
from .strokes import Stroke
from .viewport import Viewport

FILL_ALPHA = 0.35
SELECTED_ALPHA = 0.55
HALF = "▀"
RING_DOT = "•"


def _bins(start: int, length: int, origin: int, scale: float, size: int) -> tuple[int, np.ndarray]:
    """Display pixels [p0, p0 + n) showing canonical [start, start + length), and the
    first canonical pixel (relative to start) under each: display pixel px covers
    canonical floor(origin + px / scale) onwards, as the frame's resize samples it."""
    p0 = max(0, math.floor((start - origin) * scale + 1e-9))
    p1 = min(size, math.ceil((start + length - origin) * scale - 1e-9))
    if p1 <= p0:
        return p0, np.zeros(0, int)
    lo = np.floor(origin + np.arange(p0, p1) / scale + 1e-9).astype(int) - start
    # +1: indices into the region with one empty row/column in front, so a display
    # pixel that starts before the region and ends before its first pixel stays empty
    return p0, np.clip(lo, -1, length - 1) + 1


def display_mask(mask: Mask, vp: Viewport, pad: int = 0) -> tuple[np.ndarray, int, int] | None:
    """The mask at display resolution: a bool array over the frame pixels near it (with
    `pad` empty pixels around it for an outer ring) and its frame-pixel offset. A
    display pixel is set when any canonical pixel under it is, so a 2 px pore still
    shows at a fitted view of a 5 MP image."""
    (sx, sy), (fw, fh) = vp.scale, vp.frame_size
    x0, cols = _bins(mask.left, mask.width, vp.x, sx, fw)
    y0, rows = _bins(mask.top, mask.height, vp.y, sy, fh)
    if not len(cols) or not len(rows):
        return None
    region = np.pad(mask.region(), ((1, 0), (1, 0)))
    out = np.maximum.reduceat(np.maximum.reduceat(region, rows, axis=0), cols, axis=1)
    out = out.astype(bool)
    if pad:
        out = np.pad(out, pad)
        x0, y0 = x0 - pad, y0 - pad
    return out, x0, y0


def ring(dm: np.ndarray) -> np.ndarray:
    """Display pixels just outside the mask (8-neighbours of a mask pixel)."""
    grown = cv2.dilate(dm.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    result: np.ndarray = grown & ~dm
    return result


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], np.float32)


def _hex(v: Any) -> str:
    return "#%02x%02x%02x" % tuple(int(c) for c in v)


def _rects(on: np.ndarray, x0: int, y0: int, fw: int, fh: int) -> tuple[Any, ...]:
    """Row runs of set pixels as stroke rectangles (frame px, inclusive), clipped."""
    out = []
    padded = np.zeros((on.shape[0], on.shape[1] + 2), np.int8)
    padded[:, 1:-1] = on
    d = np.diff(padded, axis=1)
    starts = np.argwhere(d == 1)
    ends = np.argwhere(d == -1)
    for (r, c0), (_, c1) in zip(starts, ends):
        y = y0 + int(r)
        a, b = max(0, x0 + int(c0)), min(fw - 1, x0 + int(c1) - 1)
        if 0 <= y < fh and a <= b:
            out.append((a, y, b, y))
    return tuple(out)


def draw_mask(
    ov: Overlay,
    vp: Viewport,
    mask: Mask,
    colour: str,
    mode: str,
    picture: np.ndarray | None,
    style: str = "fill",
    selected: bool = False,
) -> None:
    """Add one mask to the overlay (see the module doc for what each mode shows).
    `picture`: the frame's RGB pixels (needed in the text modes)."""
    got = display_mask(mask, vp, pad=1)
    if got is None:
        return
    dm, x0, y0 = got
    if mode == "kitty":
        _kitty_ring(ov, vp, dm, x0, y0, colour, selected)
        return
    alpha = SELECTED_ALPHA if selected else FILL_ALPHA
    on = ring(dm) if style == "outline" else dm
    if style == "outline":
        alpha = 1.0
    fw, fh = vp.frame_size
    if mode == "sixel":
        a = "" if alpha >= 1 else "%02x" % round(alpha * 255)
        rects = _rects(on, x0, y0, fw, fh)
        if rects:
            ov.strokes.append(Stroke(rects, colour + a))
        return
    if picture is not None:
        _half_cells(ov, vp, on, x0, y0, colour, alpha, picture)


def _half_cells(
    ov: Overlay,
    vp: Viewport,
    on: np.ndarray,
    x0: int,
    y0: int,
    colour: str,
    alpha: float,
    picture: np.ndarray,
) -> None:
    """Two display pixels per cell: each touched cell's two colours, blended."""
    (oc, orow), fh, fw = vp.offset, picture.shape[0], picture.shape[1]
    ys, xs = np.nonzero(on)
    ys, xs = ys + y0, xs + x0
    keep = (xs >= 0) & (xs < fw) & (ys >= 0) & (ys < fh)
    tint = _rgb(colour)
    for col, row in {(int(x), int(y) // 2) for x, y in zip(xs[keep], ys[keep])}:
        cell = (col + oc, row + orow)
        old = ov.get(cell)
        pair = []
        for y in (2 * row, 2 * row + 1):
            if y >= fh:
                pair.append(np.zeros(3, np.float32))
                continue
            base = picture[y, col].astype(np.float32)
            if old is not None and old.char == HALF:  # another mask shares the cell
                base = _rgb(old.colour if y == 2 * row else (old.bg or old.colour))
            hit = bool(on[y - y0, col - x0]) if 0 <= y - y0 < on.shape[0] else False
            pair.append(base * (1 - alpha) + tint * alpha if hit else base)
        ov[cell] = Glyph(HALF, _hex(pair[0]), False, True, bg=_hex(pair[1]))


def _kitty_ring(
    ov: Overlay, vp: Viewport, dm: np.ndarray, x0: int, y0: int, colour: str, selected: bool
) -> None:
    """Dots in the cells around (never on) the cells showing mask pixels."""
    (oc, orow), cw, ch = vp.offset, vp.cell_w, vp.cell_h
    ys, xs = np.nonzero(dm)
    cells = {((int(x) + x0) // cw, (int(y) + y0) // ch) for x, y in zip(xs, ys)}
    glyph = Glyph(RING_DOT, colour, selected, True)
    for c, r in cells:
        for dc in (-1, 0, 1):
            for dr in (-1, 0, 1):
                n = (c + dc, r + dr)
                cell = (n[0] + oc, n[1] + orow)
                if n not in cells and vp.cell_in_frame(*cell):
                    ov[cell] = glyph
