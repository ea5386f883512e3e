"""The bundled samples through the bundled profiles, checked against
samples/ground_truth.json."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from qclabel.ingest import ingest_paths, load_canonical_array
from qclabel.project import Project

from conftest import SAMPLES

GT = (
    json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
    if (SAMPLES / "ground_truth.json").is_file()
    else {}
)
pytestmark = pytest.mark.skipif(not GT, reason="samples not generated")


@pytest.fixture
def metal(tmp_path):
    return Project.init(tmp_path / "metal", "metal-stamping", user="admin")


def ingest(project, folder, profile):
    report = ingest_paths(project, [SAMPLES / folder], profile=profile, workers=1)
    assert report.failed == [], report.failed
    return report.added


def test_area_scan_metal_fields_and_calibration(metal):
    recs = ingest(metal, "metal", "area-scan")
    assert len(recs) == 12
    for rec in recs:
        gt = GT[f"metal/{rec.source.rsplit('/', 1)[1]}"]
        assert (rec.width, rec.height, rec.mm_per_px) == (
            gt["width"],
            gt["height"],
            gt["mm_per_px"],
        )
        assert rec.fields == gt["fields"]
        assert rec.file == rec.source  # nothing derived: the JPEG is canonical


def test_phone_photos_are_upright_with_exif(metal):
    recs = ingest(metal, "phone", "phone")
    for rec in recs:
        gt = GT[f"phone/{rec.source.rsplit('/', 1)[1]}"]
        assert (rec.width, rec.height) == (gt["width"], gt["height"])
        assert rec.exif["orientation"] == gt["exif_orientation"]
        assert (rec.exif["make"], rec.exif["model"]) == (gt["exif"]["Make"], gt["exif"]["Model"])
        num, den = map(int, gt["exif"]["ExposureTime"].split("/"))
        assert rec.exif["exposure_time"] == pytest.approx(num / den)
        assert rec.exif["datetime_original"] == gt["exif"]["DateTimeOriginal"]
        arr = load_canonical_array(rec, metal.root)
        upright = np.asarray(ImageOps.exif_transpose(Image.open(rec.source)))
        assert arr.shape == upright.shape
        means = arr.reshape(-1, 3).mean(axis=0)
        assert np.ptp(means) < 1.0  # grey world applied


def test_xray_16_bit_keeps_depth_and_gets_a_window(metal):
    recs = ingest(metal, "xray", "xray")
    for rec in recs:
        gt = GT[f"xray/{rec.source.rsplit('/', 1)[1]}"]
        assert (rec.bit_depth, rec.channels, rec.mode) == (16, 1, "I;16")
        arr = load_canonical_array(rec, metal.root)
        np.testing.assert_array_equal(arr, cv2.imread(rec.source, cv2.IMREAD_UNCHANGED))
        lo, hi = gt.get("value_range") or gt["window"]
        centre, width = rec.window
        assert lo <= centre - width / 2 < centre + width / 2 <= hi
        assert width > 0.5 * (hi - lo)
        assert rec.fields["part"] == "hub"


def test_line_scan_part_is_stitched(metal):
    (rec,) = ingest(metal, "linescan", "line-scan")
    segments = [
        np.asarray(Image.open(SAMPLES / "linescan" / f"partA_seg{i:02d}.png")) for i in range(1, 5)
    ]
    arr = load_canonical_array(rec, metal.root)
    assert (rec.width, rec.height) == (1024, 1024) and rec.mm_per_px == 0.1
    np.testing.assert_array_equal(arr, np.concatenate(segments, axis=0))
    assert rec.fields == {"part": "partA"}


def test_microscope_stack_is_in_focus_everywhere(tmp_path):
    project = Project.init(tmp_path / "pcb", "pcb-solder", user="admin")
    (rec,) = ingest(project, "microscope", "microscope")
    out = load_canonical_array(rec, project.root).astype(np.float32)
    band = 80
    for z in range(5):
        name = f"microscope/stack01_z{z}.png"
        sl = np.asarray(Image.open(SAMPLES / name)).astype(np.float32)
        x0, _, w, _ = GT[name]["focus"]["sharp_region"]
        inner = slice(x0 + 10, x0 + w - 10)
        sharpness = lambda a, inner=inner: cv2.Laplacian(a[:, inner], cv2.CV_32F).var()  # noqa: E731
        assert sharpness(out) > 0.8 * sharpness(sl)  # as sharp as the best slice there
        assert w == band
    slices = [
        np.asarray(Image.open(SAMPLES / f"microscope/stack01_z{z}.png")).astype(np.float32)
        for z in range(5)
    ]
    total = lambda a: cv2.Laplacian(a, cv2.CV_32F).var()  # noqa: E731
    assert total(out) > 1.3 * max(total(s) for s in slices)
    assert (rec.width, rec.height, rec.mm_per_px) == (400, 300, 0.002)


def test_bad_samples_are_reported_and_cmyk_converted(metal):
    report = ingest_paths(metal, [SAMPLES / "bad"], workers=1)
    failed = {p.rsplit("/", 1)[1] for p, _ in report.failed}
    expected_bad = {
        k.split("/")[1]
        for k, v in GT.items()
        if k.startswith("bad/") and v.get("expect") == "error"
    }
    assert failed == expected_bad
    ok = {r.source.rsplit("/", 1)[1]: r for r in report.added}
    assert ok["cmyk.jpg"].source_mode == "CMYK" and ok["cmyk.jpg"].mode == "RGB"
    assert ok["really_a_png.jpg"].format == "PNG"


def test_samples_ingest_idempotently_from_a_copy(metal, tmp_path):
    shutil.copytree(SAMPLES / "pcb", tmp_path / "pcb")
    first = ingest_paths(metal, [tmp_path / "pcb", SAMPLES / "pcb"], workers=1)
    assert len(first.added) == 3 and len(first.duplicates) == 3
