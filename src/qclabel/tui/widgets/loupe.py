"""The loupe widget: full-resolution pixels around the cursor, two cells per pixel.

Drawn in the text layer (background colours), so it costs the same on every
terminal and needs no image protocol. The cursor pixel shows `><`, pixels on a box
edge show `··`: the annotator sees which pixel an edge includes.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from ...render.loupe import LoupeView

CURSOR_MARK, EDGE_MARK = "><", "··"


def _contrast(rgb: tuple[int, int, int]) -> str:
    return "#000000" if sum(rgb) > 384 else "#ffffff"


def loupe_text(view: LoupeView, edge_colour: str = "#ffff00") -> Text:
    text = Text(no_wrap=True)
    n = 2 * view.radius + 1
    for j in range(n):
        for i in range(n):
            if not view.inside[j, i]:
                text.append("  ")
                continue
            rgb = tuple(int(v) for v in view.rgb[j, i])
            bg = "#%02x%02x%02x" % rgb
            if i == j == view.radius:
                text.append(CURSOR_MARK, Style(color=_contrast(rgb), bgcolor=bg, bold=True))
            elif view.edges[j, i]:
                text.append(EDGE_MARK, Style(color=edge_colour, bgcolor=bg, bold=True))
            else:
                text.append("  ", Style(bgcolor=bg))
        if j < n - 1:
            text.append("\n")
    return text


class Loupe(Widget):
    DEFAULT_CSS = "Loupe { width: 26; height: 13; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: LoupeView | None = None

    def show(self, view: LoupeView | None) -> None:
        self.view = view
        self.refresh()

    def render(self) -> Text:
        if self.view is None:
            return Text("")
        return loupe_text(self.view)
