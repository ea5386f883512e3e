"""Box outlines drawn in the picture's own pixels, for terminals that show pixels (sixel).

A text glyph over a sixel picture replaces all the pixels of its cell: on a small box,
an outline made of glyphs covers the very pixels being judged (a 3x3 cell box is all
outline). A stroke instead is a thin ring of display pixels just *outside* the box:
every pixel of the box keeps its own colour at every zoom, and only the cells the ring
crosses are re-sent, each as a sixel patch of the picture with the ring painted in.

Geometry is in frame display pixels (the frame's top-left pixel is (0, 0), and it sits
at the viewport's cell offset), so the ring lands where the picture shows the box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from PIL import Image
from textual_image import _sixel as sx  # pure PIL/numpy, no Textual

from ..core.model import Box
from .cellmap import Cell
from .viewport import Viewport

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 display pixels, inclusive


@dataclass(frozen=True)
class Stroke:
    rects: tuple[Rect, ...]  # the ring's four sides, clipped to the frame
    colour: str
    dash: int = 0  # 0: solid; n: n pixels on, n off


def box_stroke(vp: Viewport, box: Box, colour: str, width: int = 2, dash: int = 0) -> Stroke:
    """The ring `width` px wide around the display pixels that show any of the box.
    A side that would fall outside the frame (a box on the image border) is drawn on
    the box's own outermost pixels instead, so every side stays visible."""
    (sx, sy), (fw, fh) = vp.scale, vp.frame_size
    x0 = math.floor((box.x - vp.x) * sx + 1e-9)
    y0 = math.floor((box.y - vp.y) * sy + 1e-9)
    x1 = math.ceil((box.x2 - vp.x) * sx - 1e-9) - 1
    y1 = math.ceil((box.y2 - vp.y) * sy - 1e-9) - 1
    left = (x0 - width, x0 - 1) if x0 - width >= 0 else (x0, x0 + width - 1)
    right = (x1 + 1, x1 + width) if x1 + width < fw else (x1 - width + 1, x1)
    top = (y0 - width, y0 - 1) if y0 - width >= 0 else (y0, y0 + width - 1)
    bottom = (y1 + 1, y1 + width) if y1 + width < fh else (y1 - width + 1, y1)
    ya, yb = top[0], bottom[1]
    sides = (
        (left[0], ya, left[1], yb),
        (right[0], ya, right[1], yb),
        (left[0], top[0], right[1], top[1]),
        (left[0], bottom[0], right[1], bottom[1]),
    )
    clipped = tuple(r for r in (_clip(s, fw, fh) for s in sides) if r is not None)
    return Stroke(clipped, colour, dash)


def _clip(r: Rect, fw: int, fh: int) -> Rect | None:
    x0, y0, x1, y1 = max(r[0], 0), max(r[1], 0), min(r[2], fw - 1), min(r[3], fh - 1)
    return (x0, y0, x1, y1) if x0 <= x1 and y0 <= y1 else None


Piece = tuple[Rect, str, int]  # a part of a stroke inside one cell: rect, colour, dash


def cell_pieces(strokes: Iterable[Stroke], vp: Viewport) -> dict[Cell, tuple[Piece, ...]]:
    """Every cell a stroke crosses, with the parts of the strokes inside it (frame px).
    Two overlays paint a cell alike exactly when its pieces are equal."""
    (oc, orow), cw, ch = vp.offset, vp.cell_w, vp.cell_h
    out: dict[Cell, list[Piece]] = {}
    for s in strokes:
        for x0, y0, x1, y1 in s.rects:
            for col in range(x0 // cw, x1 // cw + 1):
                for row in range(y0 // ch, y1 // ch + 1):
                    part = (
                        max(x0, col * cw),
                        max(y0, row * ch),
                        min(x1, col * cw + cw - 1),
                        min(y1, row * ch + ch - 1),
                    )
                    out.setdefault((col + oc, row + orow), []).append((part, s.colour, s.dash))
    return {cell: tuple(pieces) for cell, pieces in out.items()}


def painted(
    picture: Image.Image, vp: Viewport, cells: Rect, pieces: dict[Cell, tuple[Piece, ...]]
) -> Image.Image:
    """The picture's pixels under cells c1..c2 x r1..r2 (inclusive), strokes painted in."""
    crop, left, top = _crop(picture, vp, cells)
    if not _any(pieces, cells):
        return crop  # the plain picture, in its own mode (grey stays grey, as in the frame)
    px = np.array(crop.convert("RGB"))
    for piece in _pieces_in(pieces, cells):
        _paint(px, piece, left, top)
    return exact(px)


def patch(
    picture: Image.Image,
    vp: Viewport,
    cells: Rect,
    new: dict[Cell, tuple[Piece, ...]],
    old: dict[Cell, tuple[Piece, ...]] | None = None,
) -> str:
    """A sixel for cells c1..c2 x r1..r2. With `old` (what those cells showed: the
    picture plus the old strokes), only the pixels that change are sent (the new
    strokes, and the picture where an old stroke was); the rest is transparent (P2=1),
    so the terminal keeps its pixels. Without `old`, the whole area is sent."""
    if old is None:
        return encode(painted(picture, vp, cells, new))
    crop, left, top = _crop(picture, vp, cells)
    px = np.array(crop.convert("RGB"))
    opaque = np.zeros(px.shape[:2], bool)
    for (x0, y0, x1, y1), _, _ in _pieces_in(old, cells):
        opaque[y0 - top : y1 - top + 1, x0 - left : x1 - left + 1] = True
    for piece in _pieces_in(new, cells):
        opaque |= _paint(px, piece, left, top)
    return encode(exact(px), opaque)


def _crop(picture: Image.Image, vp: Viewport, cells: Rect) -> tuple[Image.Image, int, int]:
    c1, r1, c2, r2 = cells
    (oc, orow), cw, ch = vp.offset, vp.cell_w, vp.cell_h
    left, top = (c1 - oc) * cw, (r1 - orow) * ch
    return picture.crop((left, top, (c2 + 1 - oc) * cw, (r2 + 1 - orow) * ch)), left, top


def _any(pieces: dict[Any, Any], cells: Rect) -> bool:
    c1, r1, c2, r2 = cells
    return any(pieces.get((c, r)) for c in range(c1, c2 + 1) for r in range(r1, r2 + 1))


def _pieces_in(pieces: dict[Any, Any], cells: Rect) -> list[Piece]:
    c1, r1, c2, r2 = cells
    return [p for c in range(c1, c2 + 1) for r in range(r1, r2 + 1) for p in pieces.get((c, r), ())]


def _paint(px: np.ndarray, piece: Piece, left: int, top: int) -> np.ndarray:
    """Paint one piece into `px` (whose top-left is frame pixel left, top); returns
    the mask of the pixels painted."""
    (x0, y0, x1, y1), colour, dash = piece
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    alpha = int(colour[7:9], 16) / 255 if len(colour) == 9 else 1.0  # #rrggbbaa: a mask fill
    mask = np.zeros(px.shape[:2], bool)
    if dash:
        ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
        on = ((xs + ys) // dash) % 2 == 0  # in frame coordinates: dashes line up across cells
    else:
        on = True
    mask[y0 - top : y1 - top + 1, x0 - left : x1 - left + 1] = on
    if alpha < 1.0:
        px[mask] = (px[mask] * (1 - alpha) + np.array(rgb) * alpha).astype(px.dtype)
    else:
        px[mask] = rgb
    return mask


def exact(px: np.ndarray) -> Image.Image:
    """The patch as a palette image holding exactly its colours when there are at most
    256 (a grey picture plus a stroke colour): the sixel encoder then keeps every grey
    level, as it does for the frame (mode L). Quantizing it as RGB would flatten the
    grey texture around the box to a few levels and the patched cells would stand out."""
    colours, index = np.unique(px.reshape(-1, 3), axis=0, return_inverse=True)
    if len(colours) > 256:
        return Image.fromarray(px).quantize(256, Image.Quantize.FASTOCTREE)
    out = Image.fromarray(index.reshape(px.shape[:2]).astype(np.uint8), "P")
    out.putpalette(colours.astype(np.uint8).ravel().tolist())
    return out


def encode(image: Image.Image, opaque: np.ndarray | None = None) -> str:
    """Sixel of a picture or patch. A palette image is encoded with its palette as is,
    and `opaque` (False = leave the terminal's pixel) becomes sixel transparency. This
    is textual-image's `image_to_sixels` with our palette and mask instead of its own
    quantization and alpha handling (which would re-quantize any RGB patch)."""
    if image.mode != "P" and opaque is None:
        return sx.image_to_sixels(image)
    if image.mode != "P":
        image = exact(np.array(image.convert("RGB")))
    w, h = image.size
    mask = None if opaque is None else (opaque.astype(np.uint8) * 255).tobytes()
    data, registers = sx._compact_palette_np(image, image.tobytes(), mask)
    chunks = sx._iter_bands_np(data, w, h, sx._PaletteColorTracker(), mask)
    return (
        sx._make_header(w, h, transparent=mask is not None)
        + b"".join(registers)
        + b"".join(chunks)
        + sx._ST
    ).decode("ascii")


def rect_runs(cells: Iterable[Cell]) -> list[Rect]:
    """Cells grouped into few rectangles (c1, r1, c2, r2): horizontal runs first (the
    top and bottom of a ring), the single cells left over as vertical runs (its sides).
    Each rectangle is one sixel patch."""
    todo = set(cells)
    out: list[Rect] = []
    for col, row in sorted(todo, key=lambda c: (c[1], c[0])):
        if (col, row) not in todo or (col + 1, row) not in todo:
            continue
        end = col
        while (end + 1, row) in todo:
            end += 1
        out.append((col, row, end, row))
        todo -= {(c, row) for c in range(col, end + 1)}
    for col, row in sorted(todo):
        if (col, row) not in todo:
            continue
        end = row
        while (col, end + 1) in todo:
            end += 1
        out.append((col, row, col, end))
        todo -= {(col, r) for r in range(row, end + 1)}
    return out
