"""Profile steps on real files: window/level, normalization, colour, ROI, resize,
calibration, line-scan stitching, focus stacking, and reproducibility."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from qclabel.ingest import ingest_paths, load_canonical_array
from qclabel.ingest.profiles import resolve_profile

from test_ingest_helpers import exif_bytes, make_project, save, texture


def ingest(project, paths, profile=None):
    report = ingest_paths(project, paths, profile=profile, workers=1)
    assert report.failed == [], report.failed
    return report.added


def test_fixed_window_is_recorded_and_pixels_keep_full_depth(tmp_path):
    project = make_project(tmp_path / "p", {"xray": {"window": {"centre": 1200, "width": 800}}})
    arr = np.linspace(0, 4095, 40 * 30).reshape(30, 40).astype(np.uint16)
    (rec,) = ingest(project, [save(tmp_path / "x.tif", arr)], "xray")
    assert rec.window == (1200.0, 800.0)
    assert rec.file == str(tmp_path / "x.tif")  # a window is a display default, not a change
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), arr)


def test_auto_window_ignores_hot_and_dead_pixels(tmp_path, project):
    arr = np.full((100, 100), 2000, np.uint16)
    arr[:50] = 3000
    arr[0, :5], arr[1, :5] = 65535, 0  # 0.1 % outliers at both ends
    (rec,) = ingest(project, [save(tmp_path / "x.png", arr)])
    centre, width = rec.window
    assert (centre - width / 2, centre + width / 2) == (2000, 3000)


def test_eight_bit_images_have_no_window(tmp_path, project):
    (rec,) = ingest(project, [save(tmp_path / "a.png", texture(8, 8))])
    assert rec.window is None


def test_percentile_stretch_8_and_16_bit(tmp_path):
    project = make_project(
        tmp_path / "p", {"dim": {"normalize": {"method": "stretch", "low_pct": 0, "high_pct": 100}}}
    )
    low8 = (100 + texture(30, 40, channels=1) // 8).astype(np.uint8)  # 100..131
    low16 = low8.astype(np.uint16) * 10  # 1000..1310
    r8, r16 = ingest(
        project, [save(tmp_path / "a.png", low8), save(tmp_path / "b.tif", low16)], "dim"
    )
    out8, out16 = (load_canonical_array(r, project.root) for r in (r8, r16))
    assert (out8.min(), out8.max()) == (0, 255) and out8.dtype == np.uint8
    assert (out16.min(), out16.max()) == (0, 65535) and out16.dtype == np.uint16
    assert r8.file.endswith(".png") and r16.file.endswith(".tif")
    # a monotonic mapping: the order of the pixel values is kept
    assert np.array_equal(
        np.argsort(out8.ravel(), kind="stable"), np.argsort(low8.ravel(), kind="stable")
    )


def test_clahe_raises_local_contrast(tmp_path):
    project = make_project(
        tmp_path / "p", {"c": {"normalize": {"method": "clahe", "clip_limit": 3.0, "tile": 4}}}
    )
    flat = (120 + texture(64, 64, seed=5, channels=1) // 16).astype(np.uint8)
    colour = np.dstack([flat, flat, flat // 2 + 40])
    g, c = ingest(project, [save(tmp_path / "a.png", flat), save(tmp_path / "b.png", colour)], "c")
    out = load_canonical_array(g, project.root)
    assert out.std() > 2 * flat.std()
    expected = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4)).apply(flat)
    np.testing.assert_array_equal(out, expected)
    out_c = load_canonical_array(c, project.root)
    assert out_c.shape == colour.shape and out_c.std() > 1.5 * colour.std()


def test_grey_world_removes_a_colour_cast(tmp_path):
    project = make_project(tmp_path / "p", {"phone": {"colour": "grey-world"}})
    base = texture(40, 40, seed=6).astype(np.float32)
    cast = np.clip(base * np.array([1.0, 0.8, 0.5]), 0, 255).astype(np.uint8)
    (rec,) = ingest(project, [save(tmp_path / "cast.png", cast)], "phone")
    means = load_canonical_array(rec, project.root).reshape(-1, 3).mean(axis=0)
    assert means.max() - means.min() < 1.0
    assert np.ptp(cast.reshape(-1, 3).mean(axis=0)) > 30


def test_roi_after_orientation_and_per_station(tmp_path):
    project = make_project(
        tmp_path / "p",
        {
            "st": {
                "roi": [5, 10, 20, 15],
                "roi_by_station": {"S2": [0, 0, 8, 6]},
                "fields": {"pattern": r"_(?P<station>S\d)$"},
            }
        },
    )
    arr = texture(40, 60, seed=7)
    rotated = tmp_path / "part_S1.png"
    Image.fromarray(arr).save(rotated, exif=exif_bytes(6))
    s2 = save(tmp_path / "part_S2.png", texture(40, 60, seed=8))
    r1, r2 = ingest(project, [rotated, s2], "st")
    oriented = np.rot90(arr, -1)
    np.testing.assert_array_equal(load_canonical_array(r1, project.root), oriented[10:25, 5:25])
    assert (r1.width, r1.height, r1.orientation) == (20, 15, 1)
    np.testing.assert_array_equal(
        load_canonical_array(r2, project.root), texture(40, 60, seed=8)[0:6, 0:8]
    )


def test_roi_outside_the_image_fails_that_file(tmp_path):
    project = make_project(tmp_path / "p", {"default": {"roi": [50, 0, 20, 10]}})
    small = save(tmp_path / "small.png", texture(20, 30))
    big = save(tmp_path / "big.png", texture(20, 80, seed=1))
    report = ingest_paths(project, [small, big], workers=1)
    assert [r.width for r in report.added] == [20]
    assert report.failed == [(str(small), "roi [50, 0, 20, 10] lies outside the 30x20 image")]
    assert list((project.root / "canonical").iterdir()) == [project.root / report.added[0].file]


def test_max_size_resizes_and_rescales_calibration(tmp_path):
    project = make_project(tmp_path / "p", {"phone": {"max_size": 100, "mm_per_px": 0.05}})
    big, small = (
        save(tmp_path / "big.jpg", texture(300, 400)),
        save(tmp_path / "small.jpg", texture(60, 80, seed=2)),
    )
    rb, rs = ingest(project, [big, small], "phone")
    assert (rb.width, rb.height, rb.mm_per_px) == (100, 75, pytest.approx(0.2))
    assert (rs.width, rs.height, rs.mm_per_px) == (80, 60, pytest.approx(0.05))
    assert load_canonical_array(rb, project.root).shape == (75, 100, 3)


def test_same_profile_same_pixels_and_recorded_hash(tmp_path):
    profiles = {"n": {"normalize": {"method": "clahe"}, "colour": "grey-world", "mm_per_px": 0.1}}
    src = save(tmp_path / "a.png", texture(50, 50, seed=3))
    a = make_project(tmp_path / "a", profiles)
    b = make_project(tmp_path / "b", profiles)
    (ra,), (rb,) = ingest(a, [src], "n"), ingest(b, [src], "n")
    assert (ra.profile, ra.profile_hash) == ("n", rb.profile_hash) and len(ra.profile_hash) == 12
    assert (a.root / ra.file).read_bytes() == (b.root / rb.file).read_bytes()
    changed = resolve_profile({"n": {**profiles["n"], "mm_per_px": 0.2}}, "n", "cfg")
    assert changed.hash != ra.profile_hash
    assert resolve_profile(profiles, "n", "cfg").hash == ra.profile_hash


# -- line-scan stitching ---------------------------------------------------------------
STITCH = r"^(?P<part>.+)_seg(?P<seq>\d+)$"


def split_part(folder, name, part, overlaps, axis=0):
    """Write `part` as segments along `axis` whose starts repeat `overlaps[i]` rows
    (columns) of the previous segment."""
    n = len(overlaps) + 1
    cuts = np.linspace(0, part.shape[axis], n + 1).astype(int)
    for i in range(n):
        start = cuts[i] - (overlaps[i - 1] if i else 0)
        seg = part[start : cuts[i + 1]] if axis == 0 else part[:, start : cuts[i + 1]]
        save(folder / f"{name}_seg{i + 1:02d}.png", np.ascontiguousarray(seg))


@pytest.mark.parametrize("overlap", [0, 12])
def test_stitch_fixed_overlap(tmp_path, overlap):
    project = make_project(
        tmp_path / "p", {"ls": {"stitch": {"group": STITCH, "overlap_px": overlap}}}
    )
    part = texture(400, 64, seed=11, channels=1)
    split_part(tmp_path / "scan", "partA", part, [overlap] * 3)
    (rec,) = ingest(project, [tmp_path / "scan"], "ls")
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), part)
    assert rec.fields == {"part": "partA"} and len(rec.sources) == 4
    assert rec.sources == sorted(rec.sources) and rec.file.startswith("canonical/")
    again = ingest_paths(project, [tmp_path / "scan"], profile="ls", workers=1)
    assert again.added == [] and again.duplicates == [str(tmp_path / "scan" / "partA")]


def test_stitch_auto_overlap_and_horizontal(tmp_path):
    project = make_project(
        tmp_path / "p",
        {
            "v": {"stitch": {"group": STITCH, "overlap_px": "auto", "max_overlap_px": 40}},
            "h": {"stitch": {"group": STITCH, "overlap_px": "auto", "direction": "horizontal"}},
        },
    )
    part = texture(300, 48, seed=12)
    split_part(tmp_path / "v", "p1", part, [10, 27, 0])
    split_part(tmp_path / "h", "p2", np.ascontiguousarray(part.swapaxes(0, 1)), [5, 19], axis=1)
    (rv,) = ingest(project, [tmp_path / "v"], "v")
    (rh,) = ingest(project, [tmp_path / "h"], "h")
    np.testing.assert_array_equal(load_canonical_array(rv, project.root), part)
    np.testing.assert_array_equal(load_canonical_array(rh, project.root), part.swapaxes(0, 1))


def test_stitch_with_a_missing_segment_enters_nothing(tmp_path):
    project = make_project(tmp_path / "p", {"ls": {"stitch": {"group": STITCH}}})
    split_part(tmp_path / "s", "partB", texture(200, 32, channels=1), [0, 0, 0])
    (tmp_path / "s" / "partB_seg03.png").unlink()
    save(tmp_path / "s" / "single.png", texture(10, 10))
    report = ingest_paths(project, [tmp_path / "s"], profile="ls", workers=1)
    assert [r.source for r in report.added] == [str(tmp_path / "s" / "single.png")]
    assert report.failed == [
        (
            str(tmp_path / "s" / "partB"),
            "stitch group 'partB': sequence numbers [1, 2, 4] have a gap or a repeat",
        )
    ]


def test_stitch_width_mismatch_fails_the_part(tmp_path):
    project = make_project(tmp_path / "p", {"ls": {"stitch": {"group": STITCH}}})
    save(tmp_path / "s" / "q_seg1.png", texture(20, 32, channels=1))
    save(tmp_path / "s" / "q_seg2.png", texture(20, 30, channels=1))
    report = ingest_paths(project, [tmp_path / "s"], profile="ls", workers=1)
    assert report.added == [] and len(report.failed) == 1
    path, reason = report.failed[0]
    assert path == str(tmp_path / "s" / "q") and "q_seg2.png: shape (20, 30)" in reason
    assert not (project.root / "canonical").exists() or not any(
        (project.root / "canonical").iterdir()
    )


# -- focus stacking --------------------------------------------------------------------
def test_focus_stack_is_sharper_than_every_slice(tmp_path):
    project = make_project(
        tmp_path / "p", {"mic": {"focus_stack": {"group": r"^(?P<stack>.+)_z(?P<seq>\d+)$"}}}
    )
    sharp = texture(90, 120, seed=13, channels=1)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3)
    slices = []
    for z in range(3):  # slice z is in focus in its own vertical band only
        s = blurred.copy()
        s[:, z * 40 : (z + 1) * 40] = sharp[:, z * 40 : (z + 1) * 40]
        slices.append(s)
        save(tmp_path / "stack" / f"stack01_z{z}.png", s)
    (rec,) = ingest(project, [tmp_path / "stack"], "mic")
    out = load_canonical_array(rec, project.root).astype(float)
    err = np.abs(out - sharp).mean()
    assert all(err < 0.3 * np.abs(s.astype(float) - sharp).mean() for s in slices)
    inner = np.abs(out - sharp)[:, 10:30].mean(), np.abs(out - sharp)[:, 90:110].mean()
    assert max(inner) < 1.0  # inside a band the sharp slice is picked exactly
    assert rec.fields == {"stack": "stack01"} and len(rec.sources) == 3


def test_window_of_a_large_image_is_estimated_from_a_sample(tmp_path, project):
    rng = np.random.default_rng(3)
    arr = rng.normal(30000, 2000, (1500, 1500)).clip(0, 65535).astype(np.uint16)
    (rec,) = ingest(project, [save(tmp_path / "big.tif", arr)])
    lo, hi = np.percentile(arr, (0.5, 99.5))
    centre, width = rec.window
    assert abs((centre - width / 2) - lo) < 60 and abs((centre + width / 2) - hi) < 60
