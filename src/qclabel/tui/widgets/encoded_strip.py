"""A Strip whose terminal string is built ahead (half-cell rows from the prefetch
threads), so an image change costs the UI thread neither ~5000 styled segments nor
rendering them: Textual's compositor writes `Strip.render()`, which returns the cached
string. The segments are built only when something needs them: a splice of overlay
glyphs, a crop under a floating widget, a mouse hit test."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from textual.strip import Strip


class EncodedStrip(Strip):
    __slots__ = ("_build", "_built")

    def __init__(self, build: Callable[[], list[Segment]], cell_length: int, rendered: str) -> None:
        self._build: Callable[[], list[Segment]] | None = build
        self._built: list[Segment] | None = None
        super().__init__((), cell_length)
        self._render_cache = rendered

    @property  # type: ignore[override]
    def _segments(self) -> list[Segment]:
        if self._built is None:
            assert self._build is not None
            self._built, self._build = self._build(), None
        return self._built

    @_segments.setter
    def _segments(self, value: list[Segment]) -> None:
        if value:  # Strip.__init__ sets [] here: the real ones come from `build`
            self._built = value

    @property
    def built(self) -> bool:
        """Whether the segments were needed (tests: an image change builds none)."""
        return self._built is not None

    def __bool__(self) -> bool:
        return self.cell_length > 0
