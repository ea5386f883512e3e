"""Every source format and layout enters the catalog with the right canonical pixels
and metadata; canonical pixels are read back through load_canonical(_array)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from qclabel.ingest import ingest_paths, load_canonical, load_canonical_array
from qclabel.ingest.pixels import orient_array

from test_ingest_helpers import exif_bytes, make_project, save, texture


def ingest_one(project, path: Path, profile: str | None = None):
    report = ingest_paths(project, [path], profile=profile, workers=1)
    assert report.failed == [] and len(report.added) >= 1, report.failed
    return report.added


@pytest.mark.parametrize(
    "ext,kwargs",
    [
        (".png", {}),
        (".bmp", {}),
        (".webp", {"lossless": True}),
        (".tif", {}),
        (".tiff", {"compression": "tiff_lzw"}),
    ],
)
def test_lossless_8bit_colour_formats_keep_source_pixels(tmp_path, project, ext, kwargs):
    arr = texture(40, 60, seed=1)
    path = save(tmp_path / f"img{ext}", arr, **kwargs)
    (rec,) = ingest_one(project, path)
    assert (rec.width, rec.height, rec.bit_depth, rec.channels, rec.mode) == (60, 40, 8, 3, "RGB")
    assert rec.file == str(path)  # nothing to derive: the source is canonical
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), arr)


def test_jpeg_grey_and_colour(tmp_path, project):
    grey = save(tmp_path / "g.jpg", texture(32, 48, seed=2, channels=1), quality=95)
    colour = save(tmp_path / "c.jpeg", texture(32, 48, seed=3), quality=95)
    c, g = ingest_paths(project, [grey, colour], workers=1).added  # sorted by path
    assert (g.mode, g.channels, g.format) == ("L", 1, "JPEG")
    assert (c.mode, c.channels) == ("RGB", 3)
    decoded = np.asarray(Image.open(colour))
    np.testing.assert_array_equal(load_canonical_array(c, project.root), decoded)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_grey_full_depth_and_auto_window(tmp_path, project, ext):
    arr = np.linspace(1000, 5000, 64 * 50).reshape(50, 64).astype(np.uint16)
    (rec,) = ingest_one(project, save(tmp_path / f"x{ext}", arr))
    assert (rec.bit_depth, rec.channels, rec.mode) == (16, 1, "I;16")
    out = load_canonical_array(rec, project.root)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, arr)
    centre, width = rec.window  # auto window spans the 0.5..99.5 percentiles
    assert 2900 < centre < 3100 and 3800 < width < 4000


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_colour_is_not_truncated(tmp_path, project, ext):
    arr = np.dstack([np.full((20, 30), v, np.uint16) for v in (300, 40000, 65535)])
    arr[0, 0] = (1, 2, 3)
    (rec,) = ingest_one(project, save(tmp_path / f"c16{ext}", arr))
    assert (rec.bit_depth, rec.channels, rec.mode, rec.source_mode) == (16, 3, "RGB;16", "RGB;16")
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), arr)


def test_multipage_tiff_gives_one_image_per_page(tmp_path, project):
    pages = [Image.fromarray(texture(30, 40, seed=s, channels=1)) for s in range(3)]
    path = tmp_path / "stack.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    recs = ingest_one(project, path)
    assert [r.page for r in recs] == [0, 1, 2]
    assert len({r.id for r in recs}) == 3
    for rec, page in zip(recs, pages):
        assert rec.file.startswith("canonical/") and (project.root / rec.file).is_file()
        np.testing.assert_array_equal(load_canonical_array(rec, project.root), np.asarray(page))
    again = ingest_paths(project, [path], workers=1)
    assert again.added == [] and again.duplicates == [str(path)]


def test_multipage_first_page_only(tmp_path):
    project = make_project(tmp_path / "p", {"default": {"pages": "first"}})
    pages = [Image.fromarray(texture(30, 40, seed=s, channels=1)) for s in range(3)]
    path = tmp_path / "stack.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    (rec,) = ingest_one(project, path)
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), np.asarray(pages[0]))


def test_cmyk_palette_and_bilevel_are_converted(tmp_path, project):
    rgb = Image.fromarray(texture(24, 36, seed=4))
    cmyk = tmp_path / "cmyk.jpg"
    rgb.convert("CMYK").save(cmyk, quality=95)
    pal = tmp_path / "pal.png"
    rgb.convert("P").save(pal)
    bilevel = tmp_path / "bw.png"
    rgb.convert("1").save(bilevel)
    added = {r.source_mode: r for r in ingest_paths(project, [cmyk, pal, bilevel], workers=1).added}
    c, b, p = added["CMYK"], added["1"], added["P"]
    assert (c.source_mode, c.mode, c.channels) == ("CMYK", "RGB", 3)
    assert (p.source_mode, p.mode) == ("P", "RGB")
    assert (b.source_mode, b.mode, b.channels) == ("1", "L", 1)
    for rec, src in ((c, cmyk), (p, pal), (b, bilevel)):
        assert rec.file.startswith("canonical/") and rec.file.endswith(".png")
        expected = np.asarray(Image.open(src).convert("L" if rec.channels == 1 else "RGB"))
        np.testing.assert_array_equal(load_canonical_array(rec, project.root), expected)
        assert load_canonical(rec, project.root).mode == rec.mode


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, project, orientation):
    arr = texture(30, 50, seed=orientation)
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(arr).save(path, exif=exif_bytes(orientation))
    (rec,) = ingest_one(project, path)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    assert (rec.height, rec.width) == expected.shape[:2]
    assert rec.exif["orientation"] == orientation
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), expected)
    np.testing.assert_array_equal(np.asarray(load_canonical(rec, project.root)), expected)
    np.testing.assert_array_equal(orient_array(arr, orientation), expected)


def test_orientation_off_keeps_stored_layout(tmp_path):
    project = make_project(tmp_path / "p", {"raw": {"orient": False}})
    path = tmp_path / "o6.png"
    Image.fromarray(texture(30, 50)).save(path, exif=exif_bytes(6))
    (rec,) = ingest_one(project, path, profile="raw")
    assert (rec.width, rec.height, rec.orientation) == (50, 30, 1)


def test_exif_camera_exposure_timestamp_and_dpi(tmp_path, project):
    path = tmp_path / "phone.jpg"
    Image.fromarray(texture(40, 30)).save(
        path,
        dpi=(300, 300),
        quality=90,
        exif=exif_bytes(
            6, make="Acme", model="Phone 9", exposure=0.008, iso=200, taken="2026:03:04 05:06:07"
        ),
    )
    (rec,) = ingest_one(project, path)
    assert rec.exif == {
        "make": "Acme",
        "model": "Phone 9",
        "exposure_time": 0.008,
        "iso": 200,
        "datetime_original": "2026:03:04 05:06:07",
        "orientation": 6,
    }
    assert rec.dpi == (300.0, 300.0)
    assert (rec.width, rec.height, rec.orientation) == (40, 30, 6)
    assert load_canonical(rec, project.root).size == (40, 30)


def test_manufacturing_fields_from_names_and_sidecars(tmp_path):
    pattern = r"^(?P<part>P\d+)_(?P<lot>L\d+)_(?P<station>S\d)_(?P<camera>cam\d)_(?P<serial>\d+)$"
    project = make_project(
        tmp_path / "p", {"default": {"fields": {"pattern": pattern, "sidecar": True}}}
    )
    save(tmp_path / "src" / "P1001_L07_S2_cam1_0001.png", texture(10, 10))
    save(tmp_path / "src" / "P1001_L07_S2_cam1_0002.png", texture(10, 10, seed=9))
    (tmp_path / "src" / "P1001_L07_S2_cam1_0002.json").write_text(
        '{"shift": "night", "lot": "L99", "operator": 17}'
    )
    ra, rb = ingest_paths(project, [tmp_path / "src"], workers=1).added
    assert ra.fields == {
        "part": "P1001",
        "lot": "L07",
        "station": "S2",
        "camera": "cam1",
        "serial": "0001",
    }
    assert rb.fields == {
        "part": "P1001",
        "lot": "L99",
        "station": "S2",
        "camera": "cam1",
        "serial": "0002",
        "shift": "night",
        "operator": "17",
    }


def test_required_fields_fail_the_file_not_the_run(tmp_path):
    project = make_project(
        tmp_path / "p", {"default": {"fields": {"pattern": r"^(?P<part>P\d+)_", "required": True}}}
    )
    good = save(tmp_path / "P7_x.png", texture(8, 8))
    odd = save(tmp_path / "misc.png", texture(8, 8, seed=1))
    report = ingest_paths(project, [good, odd], workers=1)
    assert [r.fields for r in report.added] == [{"part": "P7"}]
    assert report.failed == [
        (str(odd), "file name does not match fields.pattern '^(?P<part>P\\\\d+)_'")
    ]


def test_source_inside_project_is_stored_relative(tmp_path, project):
    path = save(project.root / "incoming" / "a.png", texture(8, 8))
    (rec,) = ingest_one(project, path)
    assert rec.file == "incoming/a.png" and rec.source == str(path)
    assert load_canonical_array(rec, project.root).shape == (8, 8, 3)


def test_rgba_and_grey_alpha_drop_alpha(tmp_path, project):
    rgba = np.dstack([texture(10, 12), np.full((10, 12), 128, np.uint8)])
    (rec,) = ingest_one(project, save(tmp_path / "a.png", rgba))
    assert (rec.mode, rec.source_mode) == ("RGB", "RGBA")
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), rgba[:, :, :3])
    assert cv2.imread(str(project.root / rec.file)).shape == (10, 12, 3)


def test_mpo_phone_jpeg_is_one_image(tmp_path, project):
    """Phones store a preview as a second MPO frame: it is not a second image."""
    main_frame, preview = Image.fromarray(texture(40, 60)), Image.fromarray(texture(10, 15))
    path = tmp_path / "phone.jpg"
    main_frame.save(path, format="MPO", save_all=True, append_images=[preview])
    (rec,) = ingest_one(project, path)
    assert (rec.format, rec.width, rec.height, rec.file) == ("MPO", 60, 40, str(path))


def test_animated_webp_is_its_first_frame(tmp_path, project):
    frames = [Image.fromarray(texture(20, 20, seed=s)) for s in range(3)]
    path = tmp_path / "anim.webp"
    frames[0].save(path, save_all=True, append_images=frames[1:], lossless=True)
    (rec,) = ingest_one(project, path)
    np.testing.assert_array_equal(load_canonical_array(rec, project.root), np.asarray(frames[0]))


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"serial": ' + b"9" * 5000 + b"}", "sidecar is not readable JSON"),
        (b'{"serial": NaN}', "NaN is not a value"),
        (b'{"serial": 1e999}', "out of range"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"lot": "\xff\xfe"}', "sidecar is not readable JSON"),
        (b'["a"]', "sidecar must be a JSON object"),
        (b" " * ((1 << 20) + 1), "larger than 1 MB"),
    ],
)
def test_hostile_sidecar_fails_its_image_on_one_line(tmp_path, content, reason):
    project = make_project(tmp_path / "p", {"default": {"fields": {"sidecar": True}}})
    good = save(tmp_path / "src" / "good.png", texture(10, 10))
    bad = save(tmp_path / "src" / "bad.png", texture(10, 10, seed=3))
    (tmp_path / "src" / "bad.json").write_bytes(content)
    report = ingest_paths(project, [tmp_path / "src"], workers=1)
    assert [r.source for r in report.added] == [str(good)]
    [(path, why)] = report.failed
    assert path == str(bad) and reason in why and "\n" not in why and len(why) < 300, why
