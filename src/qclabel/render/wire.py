"""Bytes an overlay change costs on the terminal wire, per graphics mode.

The model is the one the box tool follows: the image frame was sent once; an overlay
change writes only `overlay.diff(old, new)`:
- drawn cells: cursor positioning + colour + the glyph (the text layer; a glyph
  replaces the image in its cell in every mode);
- restored cells (a glyph moved away) get the image back:
  * half-cell: the cell's half-block character with its two colours;
  * sixel: a sixel patch of just those cells' pixels, encoded by textual-image's
    own encoder (one patch per horizontal run of cells);
  * kitty (Unicode placeholders, as textual-image places images): the placeholder
    character of the cell; the image data itself stays in the terminal.
The full-frame figures use the same encoders on the whole frame, so the ratio says
how much of "re-send the image" an edit costs.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image
from textual_image._sixel import image_to_sixels

from .overlay import Cell, Delta, Glyph, row_runs

_PLACEHOLDER = "\U0010eeee"
_DIACRITIC = "\u0305"  # every row/column diacritic is a 2-byte UTF-8 combining mark
_TGP_CHUNK = 4096


def _cup(row: int, col: int) -> str:
    return f"\x1b[{row + 1};{col + 1}H"


def _fg(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"\x1b[38;2;{r};{g};{b}m"


def text_bytes(drawn: dict[Cell, Glyph]) -> int:
    """Glyphs written into cells: one cursor move per run, a colour change only when
    the colour changes."""
    out: list[str] = []
    for row, c1, c2 in row_runs(drawn):
        out.append(_cup(row, c1))
        style = None
        for col in range(c1, c2 + 1):
            g = drawn[(col, row)]
            if (g.colour, g.bold, g.bg) != style:
                out.append(("\x1b[1m" if g.bold else "\x1b[22m") + _fg(g.colour))
                if g.bg:
                    out.append(_fg(g.bg).replace("[38;", "[48;"))
                style = (g.colour, g.bold, g.bg)
            out.append(g.char)
    return len("".join(out).encode())


def restore_halfcell(frame: np.ndarray, cells: frozenset[Cell]) -> int:
    """frame: RGB, 2 pixel rows per cell row, 1 pixel column per cell column."""
    out: list[str] = []
    for row, c1, c2 in row_runs(cells):
        out.append(_cup(row, c1))
        for col in range(c1, c2 + 1):
            top, bottom = frame[2 * row, col], frame[2 * row + 1, col]
            out.append(_fg("#%02x%02x%02x" % tuple(top[:3])))
            out.append("\x1b[48;2;%d;%d;%dm▀" % tuple(bottom[:3]))
    return len("".join(out).encode())


def restore_sixel(frame: np.ndarray, cell_w: int, cell_h: int, cells: frozenset[Cell]) -> int:
    """frame: the displayed pixels (cols*cell_w x rows*cell_h)."""
    total = 0
    for row, c1, c2 in row_runs(cells):
        patch = frame[row * cell_h : (row + 1) * cell_h, c1 * cell_w : (c2 + 1) * cell_w]
        total += len(_cup(row, c1)) + len(image_to_sixels(Image.fromarray(patch)))
    return total


def restore_kitty(cells: frozenset[Cell]) -> int:
    """Placeholder + row and column diacritics + image-id diacritic, per cell, and the
    colour that carries the image id, per run."""
    per_cell = len((_PLACEHOLDER + _DIACRITIC * 3).encode())
    runs = row_runs(cells)
    return sum(len(_cup(r, a)) + len(_fg("#123456")) + per_cell * (b - a + 1) for r, a, b in runs)


def delta_bytes(
    delta: Delta, mode: str, frame: np.ndarray, cell_w: int = 10, cell_h: int = 20
) -> int:
    """Bytes one overlay change writes in `mode` (halfcell, sixel, kitty)."""
    drawn = text_bytes(delta.drawn)
    if mode == "halfcell":
        return drawn + restore_halfcell(frame, delta.restored)
    if mode == "sixel":
        return drawn + restore_sixel(frame, cell_w, cell_h, delta.restored)
    if mode == "kitty":
        return drawn + restore_kitty(delta.restored)
    raise ValueError(f"graphics mode must be halfcell, sixel or kitty, not {mode!r}")


def full_frame_sixel(frame: np.ndarray) -> int:
    return len(image_to_sixels(Image.fromarray(frame)))


def full_frame_kitty(frame: np.ndarray, cols: int, rows: int) -> int:
    """PNG (compress_level=2, as textual-image sends it), base64, in 4 KiB chunks,
    plus one placeholder per cell."""
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="png", compress_level=2)
    b64 = len(base64.b64encode(buf.getvalue()))
    chunks = math.ceil(b64 / _TGP_CHUNK)
    framing = chunks * len("\x1b_Gi=4294967295,m=1,f=100,q=2;\x1b\\")
    return (
        b64 + framing + restore_kitty(frozenset((c, r) for r in range(rows) for c in range(cols)))
    )


def full_frame_halfcell(frame: np.ndarray, cols: int, rows: int) -> int:
    return restore_halfcell(frame, frozenset((c, r) for r in range(rows) for c in range(cols)))
