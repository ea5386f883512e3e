"""Label Studio's brush RLE: the `rle` list of a `brushlabels` result.

It is not COCO RLE. Label Studio flattens the image's RGBA raster row by row (4 values
per pixel) and packs it with thi.ng's rle-pack bit stream, which
`label_studio_converter.brush` reads and writes in Python:

    32 bits  number of values (width * height * 4)
     5 bits  word size - 1            4 x 4 bits  the four run-length sizes - 1
    then blocks: 1 bit repeat?, 2 bits size index, `size` bits length - 1, and either
    one word repeated (length + 1) times, or (length + 1) literal words;
    the bit string is padded with zeros to whole bytes.

The mask is the alpha channel (every fourth value) > 0, as the converter reads it.
`encode` writes what `label_studio_converter.brush.mask2rle` writes for a 0/255 mask,
byte for byte (word size 8, run sizes 3, 4, 8, 16, runs over 65536 split, and its
padding, which adds a zero byte when the bits already fill whole bytes).
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError
from .safe_read import shown

_SIZES = (3, 4, 8, 16)


def _runs(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lengths, values) of the runs of equal values in a 1-d array."""
    if not len(flat):
        return np.zeros(0, np.int64), np.zeros(0, flat.dtype)
    ends = np.append(np.flatnonzero(flat[1:] != flat[:-1]), len(flat) - 1)
    return np.diff(np.append(-1, ends)), flat[ends]


def _run_bits(length: int, value: str) -> str:
    if length == 1:
        return "0" + "00" + "000" + value  # a literal block of one word
    if length <= 8:
        return f"100{length - 1:03b}{value}"
    if length <= 16:
        return f"101{length - 1:04b}{value}"
    if length <= 256:
        return f"110{length - 1:08b}{value}"
    parts = []
    while length > 1 << 16:
        parts.append(f"111{(1 << 16) - 1:016b}{value}")
        length -= 1 << 16
    parts.append(f"111{length - 1:016b}{value}")
    return "".join(parts)


def _pack(total: int, lengths: np.ndarray, values: np.ndarray) -> list[int]:
    head = f"{total:032b}{8 - 1:05b}" + "".join(f"{s - 1:04b}" for s in _SIZES)
    body = "".join(_run_bits(int(n), f"{int(v):08b}") for n, v in zip(lengths, values))
    bits = head + body
    bits += "0" * (8 - len(bits) % 8)
    return [int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)]


def encode_values(flat: np.ndarray) -> list[int]:
    """The RLE byte list of 8-bit values (the converter's `encode_rle`)."""
    flat = np.asarray(flat).ravel()
    return _pack(len(flat), *_runs(flat))


def encode(mask: np.ndarray) -> list[int]:
    """Brush RLE of a binary mask (height x width): RGBA all 255 where set. The runs
    of the 4-values-per-pixel stream are the mask's runs times 4, so the RGBA array
    (4 bytes per image pixel) is never built."""
    flat = np.asarray(mask, bool).ravel()
    lengths, values = _runs(flat)
    return _pack(4 * len(flat), lengths * 4, np.where(values, 255, 0))


class _Bits:
    def __init__(self, data: list[int], where: str):
        self.bits = "".join(f"{b:08b}" for b in data)
        self.i = 0
        self.where = where

    def read(self, n: int) -> int:
        if self.i + n > len(self.bits):
            raise FormatError(f"{self.where}: brush rle ends in the middle of a value")
        out = int(self.bits[self.i : self.i + n], 2) if n else 0
        self.i += n
        return out


def decode_values(rle: object, where: str, expect: int | None = None) -> np.ndarray:
    """The flat values of a brush RLE (any word and run sizes, as rle-pack allows);
    `expect` is the number of values the image needs (refused when it differs)."""
    if not isinstance(rle, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in rle
    ):
        raise FormatError(f"{where}: rle = {shown(rle)}: expected a list of bytes")
    bits = _Bits(rle, where)
    num = bits.read(32)
    if expect is not None and num != expect:
        raise FormatError(
            f"{where}: brush rle holds {num} values, but the image needs "
            f"{expect} (width x height x 4 RGBA)"
        )
    word = bits.read(5) + 1
    sizes = [bits.read(4) + 1 for _ in range(4)]
    out = np.zeros(num, np.uint32 if word > 16 else np.uint16 if word > 8 else np.uint8)
    i = 0
    while i < num:
        repeat = bits.read(1)
        j = i + 1 + bits.read(sizes[bits.read(2)])
        if j > num:
            raise FormatError(f"{where}: brush rle run goes past its {num} values")
        if repeat:
            out[i:j] = bits.read(word)
        else:
            out[i:j] = [bits.read(word) for _ in range(j - i)]
        i = j
    return out


def decode(rle: object, width: int, height: int, where: str) -> np.ndarray:
    """The binary mask (height x width, bool) of a brush RLE: alpha > 0."""
    values = decode_values(rle, where, width * height * 4)
    return values.reshape(height, width, 4)[:, :, 3] > 0
