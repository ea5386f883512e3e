"""Display frames: a decoded, windowed picture plus its pre-encoded terminal form.

Encoders:
  sixel     textual-image's sixel encoder, given mode L for greyscale pictures so every
            grey level (up to the 101 sixel allows) survives and nothing is dithered
  halfcell  upper-half-block cells, two pixels per cell: each text row as the escape
            codes Textual would write for it (truecolor), built with numpy; the styled
            segments only when a row is spliced or hit-tested (`HalfCellRows`); the
            frame is exactly the cell grid's pixel size: no resampling
  unicode   shade characters, one per cell, for terminals without colour
  kitty     the picture as base64 PNG (what textual-image's TGP renderable would build
            at the key), so the upload is ready when the key arrives
Every encoder runs in the prefetch threads, ahead of the keypress: the key only swaps
a ready frame in.
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual_image._sixel import image_to_sixels  # pure PIL/numpy, no Textual

from ..core.model import ImageRecord
from .decode import SourcePixels, auto_window, decode_region, to_picture
from .viewport import Viewport

ENCODERS = ("sixel", "kitty", "halfcell", "unicode")


@dataclass
class Frame:
    image_id: str
    viewport: Viewport
    picture: Image.Image
    window: tuple[float, float] | None
    high_bit: bool
    sixel: str | None = None
    cells: list[list[Segment]] | None = None  # unicode: one list of segments per text row
    halfcell: HalfCellRows | None = None  # half-cell rows (terminal strings + colours)
    kitty: str | None = None  # base64 PNG of `picture` at `kitty_size`
    kitty_size: tuple[int, int] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        return self.picture.size


def encode_sixel(picture: Image.Image) -> str:
    return image_to_sixels(picture)


def _digit_table() -> np.ndarray:
    """Each byte value as up to 3 ASCII digits, left-aligned, 0-padded (0 = no byte)."""
    table = np.zeros((256, 3), np.uint8)
    for i in range(256):
        d = str(i).encode()
        table[i, : len(d)] = list(d)
    return table


_DIGITS = _digit_table()
# One cell exactly as Rich renders Segment("▀", Style(color=top, bgcolor=bottom)) in
# truecolor: ESC[38;2;R;G;B;48;2;R;G;Bm▀ESC[0m, digits in 3-byte slots.
_PARTS = (b"\x1b[38;2;", 0, b";", 1, b";", 2, b";48;2;", 3, b";", 4, b";", 5,
          "m▀\x1b[0m".encode())


@dataclass
class HalfCellRows:
    """A half-cell frame: `pairs[row, col]` = (top, bottom) RGB of each cell, and
    `ansi[row]`, that row's terminal string in truecolor (what Textual would render
    from the styled segments, byte for byte)."""

    pairs: np.ndarray
    ansi: list[str]

    def __len__(self) -> int:
        return len(self.ansi)

    def segments(self, row: int) -> list[Segment]:
        """The row's styled cells, built on demand (a splice, a hit test, a terminal
        without truecolor): ~100 objects a row are what made full GC runs slow."""
        colours: dict[tuple[int, int, int], Color] = {}

        def colour(t: tuple[int, int, int]) -> Color:
            c = colours.get(t)
            if c is None:
                c = colours[t] = Color.from_rgb(*t)
            return c

        return [Segment("▀", Style(color=colour(tuple(top)), bgcolor=colour(tuple(bottom))))
                for top, bottom in self.pairs[row].tolist()]


def _ansi_rows(pairs: np.ndarray) -> list[str]:
    rows, cols = pairs.shape[:2]
    values = pairs.reshape(rows, cols, 6)
    pieces = []
    for part in _PARTS:
        if isinstance(part, bytes):
            pieces.append(np.broadcast_to(np.frombuffer(part, np.uint8), (rows, cols, len(part))))
        else:
            pieces.append(_DIGITS[values[:, :, part]])
    cells = np.concatenate(pieces, axis=2).reshape(rows, -1)
    return [row[row != 0].tobytes().decode() for row in cells]


def encode_halfcell(picture: Image.Image) -> HalfCellRows:
    """Upper-half-block cells (top pixel = foreground, bottom = background), built in
    the prefetch thread as terminal strings (0.5 ms where ~5000 styled segments cost
    20-50 ms and slowed every later garbage collection)."""
    rgb = np.asarray(picture.convert("RGB"))
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, np.zeros_like(rgb[:1])])
    pairs = np.ascontiguousarray(
        rgb.reshape(rgb.shape[0] // 2, 2, rgb.shape[1], 3).transpose(0, 2, 1, 3))
    return HalfCellRows(pairs, _ansi_rows(pairs))


def encode_kitty(picture: Image.Image, size: tuple[int, int] | None = None) -> str:
    """Base64 PNG exactly as textual-image's TGP upload builds it: the picture resized
    to the placement's pixel size (whole cells), PNG at compress level 2."""
    if size is not None:
        picture = picture.resize(size)  # textual-image's PixelData.scaled, same filter
    buffer = io.BytesIO()
    picture.save(buffer, format="png", compress_level=2)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


SHADES = " ░▒▓█"


def encode_unicode(picture: Image.Image) -> list[list[Segment]]:
    """Shade characters, one per cell (two picture rows averaged), for terminals with
    no colour at all; the widget's own colours apply."""
    grey = np.asarray(picture.convert("L"), dtype=np.float32)
    if grey.shape[0] % 2:
        grey = np.concatenate([grey, grey[-1:]])
    cells = (grey[0::2] + grey[1::2]) / 2
    idx = np.clip((cells * len(SHADES) / 256).astype(int), 0, len(SHADES) - 1)
    return [[Segment("".join(SHADES[i] for i in row))] for row in idx.tolist()]


def make_frame(record: ImageRecord, root: Path | None, vp: Viewport,
               window: tuple[float, float] | None,
               encoder: str, src: SourcePixels | None = None) -> tuple[Frame, SourcePixels]:
    """Decode (unless `src` is given), window, and pre-encode one frame."""
    t0 = time.perf_counter()
    if src is None:
        src = decode_region(record, root, vp)
    t1 = time.perf_counter()
    if src.high_bit and window is None:
        window = record.window or auto_window(src.array)
    picture = to_picture(src, window)
    frame = Frame(record.id, vp, picture, window if src.high_bit else None, src.high_bit)
    t2 = time.perf_counter()
    if encoder == "sixel":
        frame.sixel = encode_sixel(picture)
    elif encoder == "halfcell":
        frame.halfcell = encode_halfcell(picture)
    elif encoder == "unicode":
        frame.cells = encode_unicode(picture)
    elif encoder == "kitty":
        cols, rows = vp.frame_cells  # the placement covers whole cells
        frame.kitty_size = (cols * vp.cell_w, rows * vp.cell_h)
        frame.kitty = encode_kitty(picture, frame.kitty_size)
    frame.timings = {"decode_ms": (t1 - t0) * 1000, "window_ms": (t2 - t1) * 1000,
                     "encode_ms": (time.perf_counter() - t2) * 1000}
    return frame, src
