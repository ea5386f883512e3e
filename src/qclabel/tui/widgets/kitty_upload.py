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

from PIL import Image
from textual_image.renderable.tgp import Image as TGPImage
from textual_image.renderable.tgp import _send_tgp_message

CHUNK = 4096  # the protocol's largest payload per escape sequence


class PreEncodedTGP(TGPImage):
    def __init__(self, picture: Image.Image, payload: str | None,
                 payload_size: tuple[int, int] | None, width: int, height: int):
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
            _send_tgp_message(i=self.terminal_image_id, m=1 if data else 0, f=100,
                              payload=chunk, q=2)
        self.used_payload = True
