"""The fast PNG source decode (ingest/pngread.py): the same pixels and metadata as
Pillow's decode of the file for every plain PNG writer and filter, the ordinary path
for everything it does not take (damage, 16-bit, palette, alpha, interlace, trailing
bytes, too many pixels), and a stitched part whose canonical file decodes to exactly
the stitched segments."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from qclabel.errors import ImageError
from qclabel.ingest import combine, ingest_paths, pngread, steps

from test_ingest_helpers import exif_bytes, make_project, texture

STITCH = r"^(?P<part>.+)_seg(?P<seq>\d+)$"
BIG = 1 << 30


def _pillow(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


def _slow_decode(monkeypatch, path: Path, **kw):
    """steps.decode with the fast path switched off: what ingest did before."""
    with monkeypatch.context() as m:
        m.setattr(pngread, "repacked", lambda *a: None)
        return steps.decode(str(path), BIG, True, True, **kw)


def _write_cv2(path: Path, arr: np.ndarray, level: int, strategy: int = 0) -> Path:
    bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR) if arr.ndim == 3 else arr
    params = [cv2.IMWRITE_PNG_COMPRESSION, level, cv2.IMWRITE_PNG_STRATEGY, strategy]
    assert cv2.imwrite(str(path), bgr, params)
    return path


def _rewrite_chunk(data: bytes, kind: bytes, body: bytes) -> bytes:
    """The PNG with the body of its first `kind` chunk replaced (CRC made right)."""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        if data[pos + 4 : pos + 8] == kind:
            crc = struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
            chunk = struct.pack(">I", len(body)) + kind + body + crc
            return data[:pos] + chunk + data[pos + 12 + length :]
        pos += 12 + length
    raise AssertionError(kind)


def _sources(tmp: Path) -> list[Path]:
    grey, rgb = texture(97, 131, seed=40, channels=1), texture(64, 75, seed=41)
    flat = np.full((40, 50), 7, np.uint8)
    out = [
        _write_cv2(tmp / "cv_l1.png", grey, 1),  # libpng's adaptive filters, many IDATs
        _write_cv2(tmp / "cv_l9.png", rgb, 9),
        _write_cv2(tmp / "cv_rle.png", grey, 3, cv2.IMWRITE_PNG_STRATEGY_RLE),
        _write_cv2(tmp / "flat.png", flat, 1),
        tmp / "pil_l.png",
        tmp / "pil_rgb.png",
        tmp / "one_pixel.png",
    ]
    Image.fromarray(grey).save(out[4], compress_level=1)
    Image.fromarray(rgb).save(out[5], optimize=True)
    Image.fromarray(np.array([[200]], np.uint8)).save(out[6])
    return out


def _with_chunks(path: Path, chunks: list[tuple[bytes, bytes]]) -> Path:
    """The PNG with chunks inserted after IHDR (CRCs right)."""
    data = path.read_bytes()
    extra = b"".join(
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
        for kind, body in chunks
    )
    out = path.with_name("colour_" + path.name)
    out.write_bytes(data[:33] + extra + data[33:])
    return out


def test_plain_pngs_decode_to_pillows_pixels_and_metadata(tmp_path, monkeypatch):
    sources = _sources(tmp_path)
    # colour-management and significant-bits chunks: neither decoder applies them
    gamma = (b"gAMA", struct.pack(">I", 45455))
    sources.append(
        _with_chunks(
            sources[0], [gamma, (b"sBIT", b"\x05"), (b"pHYs", struct.pack(">IIB", 3780, 3780, 1))]
        )
    )
    sources.append(
        _with_chunks(sources[1], [gamma, (b"sBIT", b"\x04\x05\x06"), (b"sRGB", b"\x00")])
    )
    for path in sources:
        packed = pngread.repacked(path, BIG)
        assert packed is not None and packed.pixels_only, path
        (page,), meta = steps.decode(str(path), BIG, True, True)
        np.testing.assert_array_equal(page, _pillow(path), err_msg=str(path))
        (slow_page,), slow_meta = _slow_decode(monkeypatch, path)
        assert meta == slow_meta
        with Image.open(packed.file()) as im:  # the repacked file itself, read by Pillow
            np.testing.assert_array_equal(np.asarray(im), page)
        _, lazy_meta = steps.decode(str(path), BIG, True, True, lazy=True)
        assert lazy_meta == {**slow_meta, "lazy": True}


def test_exif_text_and_transparency_chunks_keep_pillow_in_charge(tmp_path, monkeypatch):
    arr = texture(30, 40, seed=42)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "lot L07")
    cases = {
        "exif.png": {"exif": exif_bytes(orientation=6, make="Acme")},
        "text.png": {"pnginfo": info},
        "trns.png": {"transparency": (1, 2, 3)},
    }
    for name, kwargs in cases.items():
        path = tmp_path / name
        Image.fromarray(arr).save(path, **kwargs)
        packed = pngread.repacked(path, BIG)
        assert packed is not None and not packed.pixels_only
        (page,), meta = steps.decode(str(path), BIG, True, True)
        (slow,), slow_meta = _slow_decode(monkeypatch, path)
        assert meta == slow_meta
        np.testing.assert_array_equal(page, slow)
    assert meta["exif"]["orientation"] == 1 and page.shape == arr.shape  # trns.png
    # a chunk after the pixel data (EXIF may sit there): Pillow sees it only on decoding
    late = tmp_path / "late.png"
    data = (tmp_path / "text.png").read_bytes()
    body = b"Raw profile type exif\x00" + b"\nexif\n      8\n" + exif_bytes(8).hex().encode()
    text = struct.pack(">I", len(body)) + b"tEXt" + body
    text += struct.pack(">I", zlib.crc32(body, zlib.crc32(b"tEXt")))
    late.write_bytes(data[:-12] + text + data[-12:])
    packed = pngread.repacked(late, BIG)
    assert packed is not None and not packed.pixels_only
    (page,), meta = steps.decode(str(late), BIG, True, True)
    assert meta == _slow_decode(monkeypatch, late)[1] and meta["orientation"] == 8
    assert page.shape == (40, 30, 3)
    (page,), meta = steps.decode(str(tmp_path / "exif.png"), BIG, True, True)
    assert meta["exif"]["orientation"] == 6 and meta["exif"]["make"] == "Acme"
    assert page.shape == (40, 30, 3)  # turned upright as the slow path turns it


def test_files_outside_the_plain_case_take_the_ordinary_path(tmp_path, monkeypatch):
    grey = texture(50, 60, seed=43, channels=1)
    base = Image.fromarray(grey)
    plain = tmp_path / "plain.png"
    base.save(plain)
    data = plain.read_bytes()
    ihdr = data[16:29]
    others = {
        "sixteen.png": lambda p: cv2.imwrite(str(p), grey.astype(np.uint16) * 200),
        "palette.png": lambda p: base.convert("P").save(p),
        "alpha.png": lambda p: base.convert("RGBA").save(p),
        "interlace.png": lambda p: p.write_bytes(
            _rewrite_chunk(data, b"IHDR", ihdr[:12] + b"\x01")
        ),
        "bad_crc.png": lambda p: p.write_bytes(data[:29] + bytes([data[29] ^ 1]) + data[30:]),
        "trailing.png": lambda p: p.write_bytes(data + b"junk"),
        "truncated.png": lambda p: p.write_bytes(data[: len(data) // 2]),
        "not_png.png": lambda p: p.write_bytes(b"GIF89a" + data[6:]),
    }
    for name, write in others.items():
        write(tmp_path / name)
        assert pngread.repacked(tmp_path / name, BIG) is None, name
    with pytest.raises(ImageError, match="not a readable image"):  # IHDR's CRC, as before
        steps.decode(str(tmp_path / "bad_crc.png"), BIG, True, True)
    # a bad IDAT CRC: Pillow does not check it and decodes the file, so does the fast path
    idat_crc = tmp_path / "idat_crc.png"
    idat_crc.write_bytes(data[:-16] + bytes([data[-16] ^ 1]) + data[-15:])
    assert pngread.repacked(idat_crc, BIG) is not None
    (page,), _ = steps.decode(str(idat_crc), BIG, True, True)
    np.testing.assert_array_equal(page, _pillow(idat_crc))
    with pytest.raises(ImageError, match="truncated or corrupt"):
        steps.decode(str(tmp_path / "truncated.png"), BIG, True, True)
    # a file much larger than its pixels (a huge private chunk) is not read whole
    padded = _with_chunks(plain, [(b"prVt", bytes(1 << 21))])
    assert pngread.repacked(padded, BIG) is None
    (page,), _ = steps.decode(str(padded), BIG, True, True)
    np.testing.assert_array_equal(page, grey)
    # too many pixels: refused before anything is inflated
    monkeypatch.setattr(pngread, "_inflate", lambda *a: pytest.fail("inflated"))
    assert pngread.repacked(plain, 50 * 60 - 1) is None


def test_a_stream_that_inflates_to_the_wrong_size_is_not_taken(tmp_path):
    grey = texture(20, 30, seed=44, channels=1)
    path = tmp_path / "short.png"
    Image.fromarray(grey).save(path)
    data = path.read_bytes()
    height = struct.pack(">I", 21)  # one row more than the stream holds
    path.write_bytes(_rewrite_chunk(data, b"IHDR", data[16:20] + height + data[24:29]))
    assert pngread.repacked(path, BIG) is None
    rows = np.zeros((20, 31), np.uint8)
    rows[:, 0] = 7  # filter type 7 does not exist
    idat = zlib.compress(rows.tobytes())
    path.write_bytes(_rewrite_chunk(data, b"IDAT", idat))
    assert pngread.repacked(path, BIG) is None
    with pytest.raises(ImageError):
        steps.decode(str(path), BIG, True, True)


@pytest.mark.parametrize("overlap", ["auto", 0])
def test_stitched_canonical_decodes_to_the_stitched_segments(tmp_path, overlap):
    """Segments as a line-scan camera's libpng writes them (adaptive filters, level 1):
    the canonical file, read by Pillow and by OpenCV, holds exactly the array that
    stitching the segments' own pixels gives."""
    setting = {"group": STITCH, "overlap_px": overlap, "max_overlap_px": 32}
    project = make_project(tmp_path / "p", {"ls": {"stitch": setting}})
    part = texture(700, 256, seed=45, channels=1)
    starts, segments = [0, 170, 333, 515], []
    for i, s in enumerate(starts):
        end = starts[i + 1] + 12 if i + 1 < len(starts) else part.shape[0]
        segments.append(part[s:end])
    (tmp_path / "scan").mkdir()
    paths = [
        _write_cv2(tmp_path / "scan" / f"partS_seg{i:02d}.png", seg, 1)
        for i, seg in enumerate(segments, 1)
    ]
    expected, trims = combine.stitch(
        [_pillow(p) for p in paths], [str(p) for p in paths], overlap, 32, "vertical"
    )
    assert trims == ([12, 12, 12] if overlap == "auto" else [0, 0, 0])
    report = ingest_paths(project, [tmp_path / "scan"], profile="ls", workers=1)
    assert report.failed == []
    (rec,) = report.added
    canonical = project.root / rec.file
    assert rec.file.endswith(".png") and (rec.height, rec.width) == expected.shape
    with Image.open(canonical) as im:
        im.verify()
    np.testing.assert_array_equal(_pillow(canonical), expected)
    np.testing.assert_array_equal(cv2.imread(str(canonical), cv2.IMREAD_UNCHANGED), expected)
    if overlap == "auto":
        np.testing.assert_array_equal(expected, part)
