"""A fast lossless PNG writer for 8-bit canonical images (grey or RGB).

Canonical files are written once at ingest and decoded on every view, so the codec is
chosen for encode speed, decode speed and size together (figures in the README's Ingest
section). This writer applies the PNG "up" filter to every row (one numpy subtraction,
where libpng's adaptive filtering tries five filters per row) and deflates with ISA-L
(`isal`) at level 1, which on line-scan texture measured 3-10x faster than zlib level 1
and smaller than zlib's Huffman-only mode. Any PNG reader decodes the result; without
`isal` the standard zlib module is used (Huffman-only, the faster zlib mode on textured
images).

ISA-L's deflate stream is not a function of the input alone: in a long-running process
the same rows were seen to deflate, now and then, to a different (equally valid) stream.
Files whose bytes are promised (synthetic images: the same version, recipe and seed give
the same bytes) are written with `reproducible=True`: zlib level 1, whose output depends
on the input only.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, Iterator

import numpy as np


def _compressor(reproducible: bool = False) -> Any:
    """ISA-L level 1 when `isal` is installed, else zlib level 1 Huffman-only; zlib
    level 1 when the bytes must be the same every time (see the module's text)."""
    if reproducible:
        return zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY)
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - exercised only where isal is missing
        return zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_HUFFMAN_ONLY)
    return isal_zlib.compressobj(1, isal_zlib.DEFLATED, 15, 8, isal_zlib.Z_DEFAULT_STRATEGY)


BAND_BYTES = 4 << 20  # rows filtered and deflated at a time: bounded extra memory
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2


def _crc32() -> Any:
    """ISA-L's CRC-32 (measured 8x zlib's) when `isal` is installed."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - exercised only where isal is missing
        return zlib.crc32
    return isal_zlib.crc32


_CRC32 = _crc32()


def _chunk(kind: bytes, data: bytes) -> list[bytes]:
    """A chunk as pieces to write one after the other: the data is not copied."""
    crc = _CRC32(data, _CRC32(kind))
    return [struct.pack(">I", len(data)) + kind, data, struct.pack(">I", crc)]


def _filtered_bands(rows: np.ndarray, above: np.ndarray | None) -> Iterator[np.ndarray]:
    """Rows with the "up" filter applied (byte minus the byte above, modulo 256), each
    prefixed by its filter-type byte, a band at a time. `above` is the row before the
    first (None at the top of the image: PNG counts it as zeros)."""
    height, stride = rows.shape
    step = max(1, BAND_BYTES // (stride + 1))
    for start in range(0, height, step):
        band = rows[start : start + step]
        out = np.empty((band.shape[0], stride + 1), np.uint8)
        out[:, 0] = _FILTER_UP
        before = rows[start - 1] if start else above
        if before is None:
            out[0, 1:] = band[0]
        else:
            np.subtract(band[0], before, out=out[0, 1:])
        np.subtract(band[1:], band[:-1], out=out[1:, 1:])
        yield out


def _check(arr: np.ndarray) -> None:
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"PNG rows must be uint8 grey or RGB, not {arr.shape} {arr.dtype}")


class PngEncoder:
    """Builds one PNG from row bands added top to bottom (a stitched part arrives a
    segment at a time, so it is never joined into one array first). The height is
    known only at the end; the header is put in front then. `reproducible`: bytes that
    depend on the pixels only (zlib), for files whose bytes are promised."""

    def __init__(self, reproducible: bool = False) -> None:
        self._packer = _compressor(reproducible)
        self._idat: list[bytes] = []  # the pieces of the IDAT chunks
        self._above: np.ndarray | None = None
        self._layout: tuple[int, ...] = ()
        self.height = 0

    def add(self, arr: np.ndarray) -> None:
        _check(arr)
        if self._layout and arr.shape[1:] != self._layout:
            raise ValueError(f"rows of shape {arr.shape[1:]} after rows of {self._layout}")
        self._layout = arr.shape[1:]
        if not arr.shape[0]:
            return
        rows = np.ascontiguousarray(arr).reshape(arr.shape[0], -1)
        for band in _filtered_bands(rows, self._above):
            data = self._packer.compress(band)
            if data:
                self._idat += _chunk(b"IDAT", data)
        self._above = rows[-1]
        self.height += rows.shape[0]

    def finish_parts(self) -> list[bytes]:
        """The file as pieces in order (`pixels.write_file` writes them without joining
        them into one copy of the file first)."""
        if not self.height:
            raise ValueError("a PNG needs at least one row")
        width = self._layout[0]
        colour_type = 0 if len(self._layout) == 1 else 2
        ihdr = struct.pack(">IIBBBBB", width, self.height, 8, colour_type, 0, 0, 0)
        tail = _chunk(b"IDAT", self._packer.flush()) + _chunk(b"IEND", b"")
        return [_SIGNATURE, *_chunk(b"IHDR", ihdr), *self._idat, *tail]

    def finish(self) -> bytes:
        return b"".join(self.finish_parts())


def encode_png(arr: np.ndarray, reproducible: bool = False) -> bytes:
    """PNG bytes of a uint8 (H, W) grey or (H, W, 3) RGB array; decodes bit-exact."""
    encoder = PngEncoder(reproducible)
    encoder.add(arr)
    return encoder.finish()
