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
from rich.color import Color, ColorSystem
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
_PARTS = (b"\x1b[38;2;", 0, b";", 1, b";", 2, b";48;2;", 3, b";", 4, b";", 5, "m▀\x1b[0m".encode())


@dataclass
class HalfCellRows:
    """A half-cell frame: `pairs[row, col]` = (top, bottom) RGB of each cell, and each
    row's terminal string per colour system (`ansi`), byte for byte what Textual would
    render from the styled segments on a console of that colour system."""

    pairs: np.ndarray
    ansi: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.pairs.shape[0])

    def rows(self, system: str) -> list[str]:
        """The rows' strings for `system` (truecolor, 256, standard), built once."""
        got = self.ansi.get(system)
        if got is None:
            got = self.ansi[system] = (
                _ansi_rows(self.pairs)
                if system == "truecolor"
                else _downgraded_rows(self.pairs, system)
            )
        return got

    def segments(self, row: int) -> list[Segment]:
        """The row's styled cells, built on demand (a splice, a hit test): ~100 objects
        a row, ~5000 a frame, are what made full garbage collections slow."""
        colours: dict[tuple[int, int, int], Color] = {}

        def colour(t: tuple[int, int, int]) -> Color:
            c = colours.get(t)
            if c is None:
                c = colours[t] = Color.from_rgb(*t)
            return c

        return [
            Segment("▀", Style(color=colour(tuple(top)), bgcolor=colour(tuple(bottom))))
            for top, bottom in self.pairs[row].tolist()
        ]


def _ansi_rows(pairs: np.ndarray) -> list[str]:
    """Truecolor rows with numpy: digits from a table, padding bytes dropped."""
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


_CODES: dict[tuple[str, int], tuple[str, str]] = {}
_SYSTEMS = {
    "256": ColorSystem.EIGHT_BIT,
    "standard": ColorSystem.STANDARD,
    "windows": ColorSystem.WINDOWS,
}


def _codes(system: str, rgb: int) -> tuple[str, str]:
    """Rich's own downgrade of one colour: (foreground, background) SGR codes."""
    got = _CODES.get((system, rgb))
    if got is None:
        if len(_CODES) > 100_000:
            _CODES.clear()
        c = Color.from_rgb(rgb >> 16, (rgb >> 8) & 255, rgb & 255).downgrade(_SYSTEMS[system])
        got = _CODES[(system, rgb)] = (
            ";".join(c.get_ansi_codes(True)),
            ";".join(c.get_ansi_codes(False)),
        )
    return got


def _downgraded_rows(pairs: np.ndarray, system: str) -> list[str]:
    """Rows for a 256- or 16-colour console (tmux, most SSH terminals), each colour
    downgraded once by Rich."""
    packed = (
        (pairs[..., 0].astype(np.int32) << 16)
        | (pairs[..., 1].astype(np.int32) << 8)
        | pairs[..., 2]
    )
    uniq, inverse = np.unique(packed, return_inverse=True)
    table = [_codes(system, int(v)) for v in uniq.tolist()]
    fg = [f"\x1b[{t[0]};" for t in table]
    bg = [f"{t[1]}m▀\x1b[0m" for t in table]
    index = inverse.reshape(packed.shape).tolist()
    return ["".join([fg[top] + bg[bottom] for top, bottom in row]) for row in index]


def encode_halfcell(picture: Image.Image, system: str = "truecolor") -> HalfCellRows:
    """Upper-half-block cells (top pixel = foreground, bottom = background), built in
    the prefetch thread as the terminal strings of the console's colour system `system`
    (where ~5000 styled segments cost 20-50 ms and slowed every later garbage
    collection)."""
    rgb = np.asarray(picture.convert("RGB"))
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, np.zeros_like(rgb[:1])])
    pairs = np.ascontiguousarray(
        rgb.reshape(rgb.shape[0] // 2, 2, rgb.shape[1], 3).transpose(0, 2, 1, 3)
    )
    rows = HalfCellRows(pairs)
    rows.rows(system)
    return rows


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


def make_frame(
    record: ImageRecord,
    root: Path | None,
    vp: Viewport,
    window: tuple[float, float] | None,
    encoder: str,
    src: SourcePixels | None = None,
    colours: str = "truecolor",
) -> tuple[Frame, SourcePixels]:
    """Decode (unless `src` is given), window, and pre-encode one frame (`colours`: the
    console's colour system, for half-cell rows)."""
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
        frame.halfcell = encode_halfcell(picture, colours)
    elif encoder == "unicode":
        frame.cells = encode_unicode(picture)
    elif encoder == "kitty":
        cols, rows = vp.frame_cells  # the placement covers whole cells
        frame.kitty_size = (cols * vp.cell_w, rows * vp.cell_h)
        frame.kitty = encode_kitty(picture, frame.kitty_size)
    frame.timings = {
        "decode_ms": (t1 - t0) * 1000,
        "window_ms": (t2 - t1) * 1000,
        "encode_ms": (time.perf_counter() - t2) * 1000,
    }
    return frame, src
