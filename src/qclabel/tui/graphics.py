"""Choosing how pictures reach the terminal, BEFORE the app owns the terminal.

textual-image decides sixel / kitty / half-cell / unicode once, when
`textual_image.renderable` is imported, by probing the real terminal on stdin/stdout;
once Textual runs, the probe cannot work. So `prepare()` runs first, in the CLI:
`auto` imports the module (the probe), the other modes never probe for the protocol.
"""

from __future__ import annotations

import os

GRAPHICS = ("auto", "sixel", "kitty", "halfcell", "unicode")
TEXT_CELL_PX = (1, 2)  # half-cell: one pixel wide, two tall per cell


def ensure_colour_system() -> None:
    """Textual falls back to 16 colours when TERM=xterm and no COLORTERM is set (xterm
    and SSH do not pass it): the half-cell fallback turns into 3 grey levels. Ask for
    truecolor unless the user chose a colour system."""
    if "TEXTUAL_COLOR_SYSTEM" in os.environ:
        return
    if os.environ.get("COLORTERM", "") in ("truecolor", "24bit"):
        return
    os.environ["TEXTUAL_COLOR_SYSTEM"] = "truecolor"


def detect() -> str:
    """The renderer the terminal supports (runs textual-image's probe)."""
    import textual_image.renderable as tir

    return {tir.SixelImage: "sixel", tir.TGPImage: "kitty", tir.HalfcellImage: "halfcell"}.get(
        tir.Image, "unicode"
    )


def prepare(mode: str) -> str:
    """Resolve `auto` to a concrete renderer; call before the app starts."""
    if mode not in GRAPHICS:
        raise ValueError(f"graphics must be one of {GRAPHICS}, not {mode!r}")
    ensure_colour_system()
    return detect() if mode == "auto" else mode


def cell_pixels(mode: str) -> tuple[int, int]:
    """Display pixels per terminal cell for the renderer."""
    if mode in ("sixel", "kitty"):
        from textual_image._terminal import get_cell_size

        size = get_cell_size()
        return (size.width, size.height)
    return TEXT_CELL_PX
