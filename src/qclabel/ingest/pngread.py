"""A faster decode of plain 8-bit PNG sources, bit-identical to Pillow's.

Decoding a PNG is two steps: inflating the zlib stream of its IDAT chunks, then undoing
the per-row filters. Pillow inflates with zlib, which on line-scan PNGs measured about
half of its decode time. Here the stream is inflated by ISA-L (`isal`, about twice as
fast) and stored back uncompressed (deflate's "stored" blocks: a memory copy), every
other chunk kept byte for byte. That in-memory PNG is the same file in every respect but
its compression, so its pixels are the source's by the format's definition: Pillow
opens it for the header and metadata, and OpenCV (or Pillow, when a chunk needs it)
undoes the filters. Together about 0.8x of Pillow's decode of the file (figures in the
README's Ingest section).

Only the plain case takes this path: 8-bit grey or RGB, not interlaced, not animated,
the CRC of every chunk Pillow checks correct, one zlib stream that inflates to exactly
the size the header gives, valid filter types, nothing after IEND, and no more pixels
than the caller allows (checked before anything is inflated). Anything else returns
None and the caller opens the file as before, so a damaged or unusual file is refused
or read exactly as it was.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_RAW_BYTES = 256 << 20  # larger images are read as before: this path holds ~3 copies
_CHANNELS = {0: 1, 2: 3}  # colour type -> samples per pixel (grey, RGB)
_ANIMATED = {b"acTL", b"fcTL", b"fdAT"}
_NEED_PILLOW = {b"tRNS", b"eXIf", b"tEXt", b"zTXt", b"iTXt"}
_BLOCK = 65535  # the largest stored deflate block


def _isal() -> Any:
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - without isal this path would be slower
        return None
    return isal_zlib


_ISAL = _isal()
_CRC32 = zlib.crc32 if _ISAL is None else _ISAL.crc32  # ISA-L's measured 8x zlib's


def _crc(data: bytes | memoryview, kind: bytes) -> int:
    return int(_CRC32(data, _CRC32(kind)))


def _chunks(data: bytes) -> list[tuple[bytes, int, int]] | None:
    """(kind, start of the chunk, start of its body) per chunk, or None when a length
    or a CRC is wrong, IEND is missing or anything follows it. IDAT CRCs are not
    checked, as Pillow does not check them (zlib's own checksum covers the data)."""
    out = []
    view = memoryview(data)
    pos, end = len(SIGNATURE), len(data)
    while pos + 12 <= end:
        (length,) = struct.unpack_from(">I", data, pos)
        body = pos + 8
        if length > end - body - 4:
            return None
        kind = data[pos + 4 : body]
        if kind != b"IDAT":
            (stored,) = struct.unpack_from(">I", data, body + length)
            if _crc(view[body : body + length], kind) != stored:
                return None
        out.append((kind, pos, body))
        pos = body + length + 4
        if kind == b"IEND":
            return out if pos == end else None
    return None


def _plain_layout(data: bytes, chunks: list[tuple[bytes, int, int]]) -> tuple[int, int] | None:
    """(raw size, row stride) of a plain 8-bit grey/RGB PNG, else None."""
    if not chunks or chunks[0][0] != b"IHDR":
        return None
    width, height, depth, colour, method, filtering, interlace = struct.unpack_from(
        ">IIBBBBB", data, chunks[0][2]
    )
    if depth != 8 or colour not in _CHANNELS or (method, filtering, interlace) != (0, 0, 0):
        return None
    if not width or not height or any(kind in _ANIMATED for kind, _, _ in chunks):
        return None
    stride = width * _CHANNELS[colour] + 1
    return height * stride, stride


def _inflate(stream: bytes, size: int) -> bytes | None:
    """The stream inflated, only if it is one whole zlib stream of exactly `size` bytes
    (at most size + 1 bytes are ever produced)."""
    if _ISAL is None:
        return None
    inflater = _ISAL.decompressobj()
    try:
        raw: bytes = inflater.decompress(stream, size + 1)
    except _ISAL.error:
        return None
    if len(raw) != size or not inflater.eof or inflater.unused_data:
        return None
    return raw


class _Reader(io.RawIOBase):
    """A read-only file over a numpy buffer (io.BytesIO would copy it first)."""

    def __init__(self, buf: np.ndarray) -> None:
        self._buf = memoryview(buf).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = max(0, min(len(b), len(self._buf) - self._pos))
        b[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._buf)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _with_stored_idat(head: memoryview, raw: bytes, tail: memoryview) -> np.ndarray:
    """The PNG bytes: `head`, one IDAT chunk holding `raw` as a zlib stream of stored
    blocks (written with numpy: zlib's level 0 measured six times slower), `tail`."""
    nfull, rest = divmod(len(raw), _BLOCK)
    nblocks = nfull + (1 if rest else 0)
    stream_size = 2 + 5 * nblocks + len(raw) + 4
    out = np.empty(len(head) + 8 + stream_size + 4 + len(tail), np.uint8)
    out[: len(head)] = head
    pos = len(head)
    out[pos : pos + 8] = np.frombuffer(struct.pack(">I", stream_size) + b"IDAT", np.uint8)
    stream = out[pos + 8 : pos + 8 + stream_size]
    stream[:2] = (0x78, 0x01)  # deflate, 32 KB window, no preset dictionary
    src = np.frombuffer(raw, np.uint8)
    if nfull:
        blocks = stream[2 : 2 + nfull * (_BLOCK + 5)].reshape(nfull, _BLOCK + 5)
        blocks[:, :5] = _block_header(_BLOCK, last=False)
        blocks[:, 5:] = src[: nfull * _BLOCK].reshape(nfull, _BLOCK)
        if not rest:
            blocks[-1, 0] = 1  # BFINAL
    if rest:
        at = 2 + nfull * (_BLOCK + 5)
        stream[at : at + 5] = _block_header(rest, last=True)
        stream[at + 5 : at + 5 + rest] = src[nfull * _BLOCK :]
    stream[-4:] = np.frombuffer(struct.pack(">I", _adler32(raw)), np.uint8)
    crc_at = pos + 8 + stream_size
    out[crc_at : crc_at + 4] = np.frombuffer(
        struct.pack(">I", _crc(stream.data, b"IDAT")), np.uint8
    )
    out[crc_at + 4 :] = tail
    return out


def _block_header(length: int, last: bool) -> np.ndarray:
    """A stored block's header: BFINAL and type 00 in one byte, LEN, NLEN."""
    return np.frombuffer(struct.pack("<BHH", int(last), length, length ^ 0xFFFF), np.uint8)


def _adler32(data: bytes) -> int:
    return int((zlib if _ISAL is None else _ISAL).adler32(data))


class Repacked:
    """A plain PNG source with its pixel data stored uncompressed (see the module
    docstring). `file()` is that PNG for Pillow to open. `pixels_only` is True when
    nothing in it but the pixels needs Pillow: no transparency key, no EXIF, text or
    XMP chunk, and nothing between the pixel data and IEND, so Pillow's metadata after
    opening is all it would have after decoding, and its EXIF is empty; `decode()` then
    gives the pixels from OpenCV, straight into one array with no lock held."""

    def __init__(self, data: np.ndarray, kinds: set[bytes], after_pixels: bool) -> None:
        self.data = data
        self.pixels_only = not after_pixels and not kinds & _NEED_PILLOW

    def file(self) -> io.BufferedReader:
        return io.BufferedReader(_Reader(self.data))

    def decode(self, shape: tuple[int, ...]) -> np.ndarray | None:
        """The pixels, RGB order, if OpenCV gives exactly the expected `shape`."""
        arr = cv2.imdecode(self.data, cv2.IMREAD_UNCHANGED)
        if arr is None or arr.dtype != np.uint8 or arr.shape != shape:
            return None
        return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB) if arr.ndim == 3 else arr


def repacked(path: Path, max_pixels: int) -> Repacked | None:
    """The PNG at `path` with its pixel data stored uncompressed, or None when the file
    is not a plain PNG this path takes (see the module docstring)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SIGNATURE) + 8 + 13)
            if len(head) < 29 or head[:8] != SIGNATURE or head[12:16] != b"IHDR":
                return None
            width, height, _, colour = struct.unpack_from(">IIBB", head, 16)
            if width * height > max_pixels:
                return None  # refused with its reason by the ordinary open
            # the whole file is read at once: bounded before reading it (a huge chunk
            # of anything is left to Pillow, which skips what it does not need)
            limit = min(MAX_RAW_BYTES, width * height * _CHANNELS.get(colour, 4) * 2 + (1 << 20))
            if os.fstat(fh.fileno()).st_size > limit:
                return None
            fh.seek(0)
            data = fh.read(limit + 1)
    except OSError:
        return None  # the ordinary open reports it
    chunks = _chunks(data)
    layout = _plain_layout(data, chunks) if chunks else None
    if chunks is None or layout is None or layout[0] > MAX_RAW_BYTES:
        return None
    idat = [i for i, (kind, _, _) in enumerate(chunks) if kind == b"IDAT"]
    if not idat or idat != list(range(idat[0], idat[-1] + 1)):
        return None  # the format wants IDAT chunks consecutive
    ends = [start for _, start, _ in chunks[1:]] + [len(data)]
    view = memoryview(data)
    stream = b"".join([view[chunks[i][2] : ends[i] - 4] for i in idat])
    raw = _inflate(stream, layout[0])
    if raw is None or max(raw[:: layout[1]]) > 4:
        return None  # a filter type Pillow would refuse: let it say so
    kinds = {kind for kind, _, _ in chunks}
    packed = _with_stored_idat(view[: chunks[idat[0]][1]], raw, view[ends[idat[-1]] :])
    return Repacked(packed, kinds, after_pixels=idat[-1] != len(chunks) - 2)
