"""Line-scan stitching at speed: the matchTemplate overlap search against the exhaustive
per-overlap scan it replaced, flat (ambiguous) joints, 16-bit parts, and the canonical
PNG writer decoding back bit-exact in every reader the pipeline uses."""

from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from qclabel.ingest import combine, ingest_paths, load_canonical_array, pngwrite

from test_ingest_helpers import make_project, save, texture

STITCH = r"^(?P<part>.+)_seg(?P<seq>\d+)$"


def scan_overlap(prev: np.ndarray, nxt: np.ndarray, max_overlap: int) -> int:
    """Reference: every overlap k scored one by one, the lowest normalized error wins
    (ties to the longer overlap) if it is at most 0.05."""
    a = prev[-min(max_overlap, prev.shape[0], nxt.shape[0] - 1) :].astype(np.float64)
    b = nxt[: a.shape[0]].astype(np.float64)
    best, best_k = 0.05, 0
    for k in range(1, a.shape[0] + 1):
        x, y = a[-k:], b[:k]
        score = float(np.mean((x - y) ** 2)) / (float(x.var() + y.var()) + 1e-6)
        if score <= best:
            best, best_k = score, k
    return best_k


def cut(part: np.ndarray, overlaps: list[int]) -> list[np.ndarray]:
    """Segments of `part` whose starts repeat overlaps[i] rows of the one before."""
    bounds = np.linspace(0, part.shape[0], len(overlaps) + 2).astype(int)
    starts = [0] + [int(bounds[i + 1]) - k for i, k in enumerate(overlaps)]
    return [np.ascontiguousarray(part[s : bounds[i + 1]]) for i, s in enumerate(starts)]


def write_segments(folder, name, segments):
    return [save(folder / f"{name}_seg{i + 1:02d}.png", s) for i, s in enumerate(segments)]


def ingest_one(project, folder, profile):
    report = ingest_paths(project, [folder], profile=profile, workers=1)
    assert report.failed == [], report.failed
    (rec,) = report.added
    return rec


def test_match_template_finds_known_overlaps_in_textured_segments(tmp_path):
    project = make_project(
        tmp_path / "p",
        {"ls": {"stitch": {"group": STITCH, "overlap_px": "auto", "max_overlap_px": 48}}},
    )
    rng = np.random.default_rng(5)
    overlaps = [int(k) for k in rng.integers(1, 49, 5)] + [0]
    part = texture(900, 320, seed=21, channels=1)
    segments = cut(part, overlaps)
    write_segments(tmp_path / "scan", "partT", segments)
    found = [combine.find_overlap(a, b, 48) for a, b in zip(segments, segments[1:])]
    assert found == overlaps
    assert found == [scan_overlap(a, b, 48) for a, b in zip(segments, segments[1:])]
    rec = ingest_one(project, tmp_path / "scan", "ls")
    assert (rec.height, rec.width, rec.bit_depth) == (900, 320, 8)
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), part)


def test_noisy_colour_joints_choose_what_the_exhaustive_scan_chooses():
    """Sensor noise between the copies of the overlap: the choice is the exact score's."""
    rng = np.random.default_rng(8)
    part = texture(400, 256, seed=22)
    for k in (3, 17, 30):
        prev, nxt = part[:200], part[200 - k :].astype(int)
        nxt = np.clip(nxt + rng.integers(-6, 7, nxt.shape), 0, 255).astype(np.uint8)
        assert combine.find_overlap(prev, nxt, 32) == scan_overlap(prev, nxt, 32) == k


@pytest.mark.parametrize("case", ["flat-same", "flat-different", "flat-band", "near-flat"])
def test_flat_joints_are_handled_as_the_exhaustive_scan_handles_them(case):
    rng = np.random.default_rng(9)
    prev = texture(120, 200, seed=23, channels=1)
    nxt = texture(120, 200, seed=24, channels=1)
    if case == "flat-same":  # nothing to match on: every overlap fits, the longest wins
        prev[:], nxt[:] = 90, 90
    elif case == "flat-different":
        prev[:], nxt[:] = 90, 140
    elif case == "flat-band":  # a flat band across the joint, texture beyond it
        prev[-40:], nxt[:40] = 60, 60
    else:  # variance under one grey level: the FFT score alone cannot tell
        prev[-40:] = 100 + (rng.random((40, 200)) < 0.3)
        nxt[:40] = 100 + (rng.random((40, 200)) < 0.3)
    expected = scan_overlap(prev, nxt, 32)
    assert combine.find_overlap(prev, nxt, 32) == expected
    if case == "flat-same":
        assert expected == 32
    if case == "flat-different":
        assert expected == 0


def test_sixteen_bit_segments_stay_sixteen_bit(tmp_path):
    project = make_project(
        tmp_path / "p",
        {"ls": {"stitch": {"group": STITCH, "overlap_px": "auto", "max_overlap_px": 32}}},
    )
    part = texture(500, 160, seed=25, channels=1).astype(np.uint16) * 250 + 3
    write_segments(tmp_path / "scan", "partX", cut(part, [9, 21, 14]))
    rec = ingest_one(project, tmp_path / "scan", "ls")
    assert (rec.bit_depth, rec.mode) == (16, "I;16") and rec.file.endswith(".tif")
    back = load_canonical_array(rec, project.root)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, part)


def test_stitched_colour_part_decodes_back_bit_exact(tmp_path):
    project = make_project(
        tmp_path / "p",
        {"ls": {"stitch": {"group": STITCH, "overlap_px": "auto", "max_overlap_px": 32}}},
    )
    part = texture(600, 210, seed=26)
    write_segments(tmp_path / "scan", "partC", cut(part, [12, 0, 25]))
    rec = ingest_one(project, tmp_path / "scan", "ls")
    path = project.root / rec.file
    assert rec.file.endswith(".png") and rec.channels == 3
    with Image.open(path) as im:
        im.verify()  # every chunk CRC and the zlib stream check out
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), part)
    bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), part)


@pytest.mark.parametrize("reproducible", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (257, 33), (300, 97, 3)])
def test_png_writer_round_trips_across_band_boundaries(monkeypatch, shape, reproducible):
    monkeypatch.setattr(pngwrite, "BAND_BYTES", 1000)  # many bands even for small images
    rng = np.random.default_rng(sum(shape))
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    arr[: shape[0] // 2] //= 16  # a smooth half and a noisy half
    data = pngwrite.encode_png(arr, reproducible)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG" and im.size == (shape[1], shape[0])
        np.testing.assert_array_equal(np.asarray(im), arr)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(decoded[..., ::-1] if arr.ndim == 3 else decoded, arr)


def test_png_encoder_joins_pieces_like_one_array():
    arr = texture(90, 40, seed=27)
    enc = pngwrite.PngEncoder()
    for piece in (arr[:1], arr[1:50], arr[50:50], arr[50:]):
        enc.add(piece)
    assert enc.finish() == pngwrite.encode_png(arr)
    with pytest.raises(ValueError, match="after rows of"):
        enc2 = pngwrite.PngEncoder()
        enc2.add(arr[:5])
        enc2.add(arr[5:, :30])


def test_a_reproducible_png_is_zlib_of_its_filtered_rows(monkeypatch):
    """`reproducible=True` (synthetic images) deflates with zlib level 1: the stream is
    what zlib makes of the up-filtered rows, however the rows arrived (pieces, bands)."""
    arr = texture(90, 40, seed=31)
    whole = pngwrite.encode_png(arr, reproducible=True)
    monkeypatch.setattr(pngwrite, "BAND_BYTES", 1000)
    enc = pngwrite.PngEncoder(reproducible=True)
    for piece in (arr[:1], arr[1:50], arr[50:]):
        enc.add(piece)
    assert enc.finish() == whole
    rows = arr.reshape(arr.shape[0], -1).astype(np.int16)
    up = np.diff(rows, axis=0, prepend=0).astype(np.uint8)  # the "up" filter, mod 256
    raw = np.hstack([np.full((arr.shape[0], 1), 2, np.uint8), up]).tobytes()
    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY)
    stream, at = b"", 8
    while at < len(whole):  # the IDAT chunks' data, joined
        length = int.from_bytes(whole[at : at + 4], "big")
        if whole[at + 4 : at + 8] == b"IDAT":
            stream += whole[at + 8 : at + 8 + length]
        at += 12 + length
    assert stream == packer.compress(raw) + packer.flush()


def test_a_damaged_segment_fails_its_part_and_leaves_no_file(tmp_path):
    project = make_project(
        tmp_path / "p", {"ls": {"stitch": {"group": STITCH, "overlap_px": "auto"}}}
    )
    paths = write_segments(tmp_path / "scan", "partD", cut(texture(400, 64, seed=28), [5, 7]))
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: len(data) // 2])
    report = ingest_paths(project, [tmp_path / "scan"], profile="ls", workers=1)
    assert report.added == []
    ((name, reason),) = report.failed
    assert name == str(tmp_path / "scan" / "partD") and "partD_seg02.png" in reason
    canonical = project.root / "canonical"
    assert not canonical.exists() or not any(canonical.iterdir())
