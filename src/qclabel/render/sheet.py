"""Contact sheets for grid triage: page layout, the composite picture, half-cells.

A page is sent as ONE picture (one sixel frame, or one block of half-cell text), never
one frame per thumbnail. Each slot is a thumbnail area plus one caption row below it;
the caption rows are transparent in the sixel picture, so the text layer (cell number,
fail mark, cursor) shows through and can change without re-sending the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

MIN_SLOT_COLS, TARGET_SLOT_COLS, MAX_SLOT_COLS = 8, 22, 80


@dataclass(frozen=True)
class SheetLayout:
    cols: int  # slots across
    rows: int  # slots down
    slot_w: int  # cells
    thumb_h: int  # cells of picture per slot (the caption row comes below)
    cell_w: int = 1
    cell_h: int = 2

    @property
    def slot_h(self) -> int:
        return self.thumb_h + 1

    @property
    def per_page(self) -> int:
        return self.cols * self.rows

    @property
    def thumb_px(self) -> tuple[int, int]:
        return ((self.slot_w - 1) * self.cell_w, self.thumb_h * self.cell_h)

    def slot_origin(self, i: int) -> tuple[int, int]:
        """(col, row) cell of slot i's top-left corner."""
        r, c = divmod(i, self.cols)
        return (c * self.slot_w, r * self.slot_h)

    @classmethod
    def for_area(
        cls,
        cols: int,
        rows: int,
        cell_w: int = 1,
        cell_h: int = 2,
        aspect: float = 4 / 3,
        slot_cols: int = TARGET_SLOT_COLS,
    ) -> "SheetLayout":
        """Fit slots of ~`slot_cols` cells (thumbnails of `aspect`) into the area."""
        slot_cols = max(MIN_SLOT_COLS, slot_cols)
        across = max(1, cols // slot_cols) if cols >= MIN_SLOT_COLS else 1
        slot_w = max(1, cols // across)
        thumb_h = max(1, round((slot_w - 1) * cell_w / aspect / cell_h))
        down = max(1, rows // (thumb_h + 1))
        if rows < thumb_h + 1:  # very short terminal: shrink the thumbnails instead
            thumb_h = max(1, rows - 1)
        return cls(across, down, slot_w, thumb_h, cell_w, cell_h)


def compose_sheet(pictures: list[Image.Image | None], layout: SheetLayout) -> Image.Image:
    """One RGBA picture for the page; transparent outside the thumbnails."""
    cw, ch = layout.cell_w, layout.cell_h
    size = (layout.cols * layout.slot_w * cw, layout.rows * layout.slot_h * ch)
    sheet = Image.new("RGBA", size, (0, 0, 0, 0))
    tw, th = layout.thumb_px
    for i, pic in enumerate(pictures):
        if pic is None:
            continue
        c, r = layout.slot_origin(i)
        p = pic.convert("RGB")
        p.thumbnail((tw, th))
        sheet.paste(p, (c * cw + (tw - p.width) // 2, r * ch + (th - p.height) // 2))
    return sheet


def halfcells(picture: Image.Image, cols: int, rows: int) -> np.ndarray:
    """(rows, cols, 2, 3) uint8: top and bottom colour of each half-block cell, the
    picture centred in a black cols x rows area."""
    p = picture.convert("RGB")
    p.thumbnail((cols, rows * 2))
    canvas = Image.new("RGB", (cols, rows * 2))
    canvas.paste(p, ((cols - p.width) // 2, (rows * 2 - p.height) // 2))
    a = np.asarray(canvas).reshape(rows, 2, cols, 3)
    return a.transpose(0, 2, 1, 3)


def grid_thumb_cols(config: dict[str, Any]) -> int:
    """`[grid] thumb_cols` from the project config: the width of one grid slot in cells
    (smaller: more images per page). A bad value is a config error, not a guess."""
    from ..errors import ConfigError

    value = config.get("grid", {}).get("thumb_cols", TARGET_SLOT_COLS)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_SLOT_COLS <= value <= MAX_SLOT_COLS
    ):
        raise ConfigError(
            "qclabel.toml",
            "[grid] thumb_cols",
            value,
            f"a whole number of cells from {MIN_SLOT_COLS} to {MAX_SLOT_COLS}",
        )
    return value
