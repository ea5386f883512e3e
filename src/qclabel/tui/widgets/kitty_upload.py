"""The kitty (terminal graphics protocol) renderable with its upload built ahead.

textual-image's TGP renderable scales the picture and encodes it as base64 PNG when
it is first rendered, which is on the UI thread at the keypress (46-68 ms against a
30-36 ms decode floor). The prefetch threads already encode the frame's picture
(`Frame.kitty`); this subclass sends that payload when the terminal wants the picture
at the size it was built for, and falls back to textual-image's own path otherwise
(a cell size that changed since the frame was made). Importing this module imports
`textual_image.renderable`, which probes the terminal: only kitty mode does.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image
from rich.style import Style
from textual_image.renderable.tgp import _NUMBER_TO_DIACRITIC, _PLACEHOLDER
from textual_image.renderable.tgp import Image as TGPImage
from textual_image.renderable.tgp import _send_tgp_message

CHUNK = 4096  # the protocol's largest payload per escape sequence


class PreEncodedTGP(TGPImage):
    def __init__(
        self,
        picture: Image.Image,
        payload: str | None,
        payload_size: tuple[int, int] | None,
        width: int,
        height: int,
    ):
        super().__init__(picture, width=width, height=height)
        self._payload, self._payload_size = payload, payload_size
        self.used_payload = False  # for tests: the ready upload was the one sent

    def _send_image_to_terminal(self, width: int, height: int) -> None:
        if self._payload is None or (width, height) != self._payload_size:
            super()._send_image_to_terminal(width, height)
            return
        self.terminal_image_id = next(TGPImage._image_id_counter)
        data = self._payload
        while data:
            chunk, data = data[:CHUNK], data[CHUNK:]
            _send_tgp_message(
                i=self.terminal_image_id, m=1 if data else 0, f=100, payload=chunk, q=2
            )
        self.used_payload = True


def send_upload(payload: str, cols: int, rows: int) -> int:
    """Upload a pre-encoded frame and its virtual placement (the messages textual-image
    sends); returns the terminal image id."""
    image_id = next(TGPImage._image_id_counter)
    last = len(payload) - 1
    for at in range(0, len(payload), CHUNK):  # slices from the start: no O(n^2) copying
        _send_tgp_message(
            i=image_id,
            m=1 if at + CHUNK <= last else 0,
            f=100,
            payload=payload[at : at + CHUNK],
            q=2,
        )
    _send_tgp_message(a="p", i=image_id, c=cols, r=rows, U=1, q=2)
    return image_id


def delete_upload(image_id: int) -> None:
    _send_tgp_message(a="d", I=image_id)


def id_style(image_id: int) -> Style:
    """The foreground colour that tells the terminal which image a placeholder shows."""
    return Style(color=f"rgb({(image_id >> 16) & 255}, {(image_id >> 8) & 255}, {image_id & 255})")


@lru_cache(maxsize=8)
def placeholder_rows(cols: int, rows: int, high_byte: int) -> tuple[str, ...]:
    """The placeholder text of every row, as textual-image renders it (placeholder,
    row and column diacritics, the id's high byte); the same for every frame of one
    size, so built once, not at each key."""
    id_char = chr(_NUMBER_TO_DIACRITIC[high_byte & 255])
    ph = chr(_PLACEHOLDER)
    col_marks = [chr(_NUMBER_TO_DIACRITIC[c]) for c in range(cols)]
    return tuple(
        "".join(f"{ph}{chr(_NUMBER_TO_DIACRITIC[r])}{m}{id_char}" for m in col_marks)
        for r in range(rows)
    )
