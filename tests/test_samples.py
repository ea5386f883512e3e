"""The bundled samples: reproducible from their generator, decodable, and their ground
truth really describes what is in the pixels."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from qclabel.core.taxonomy import load_taxonomy
from qclabel.project import resolve_taxonomy_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
GT = json.loads((SAMPLES / "ground_truth.json").read_text())
FILES, GROUPS = GT["files"], GT["groups"]
GOOD = {k: v for k, v in FILES.items() if not k.startswith("bad/")}
LOSSLESS = (".png", ".tif", ".tiff")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """Run the generator script as a user would, into a fresh folder."""
    out = tmp_path_factory.mktemp("samples")
    done = subprocess.run(
        [sys.executable, str(SAMPLES / "generate.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "ground_truth.json" in done.stdout
    return out


def canonical_grey(rel: str) -> np.ndarray:
    """The canonical (EXIF-oriented) image as float grey, 16-bit kept at full range."""
    with Image.open(SAMPLES / rel) as im:
        im = ImageOps.exif_transpose(im)
        arr = np.asarray(
            im.convert("L") if im.mode not in ("I;16", "I;16L", "I;16B", "L") else im
        ).astype(np.float64)
    return arr


def stitched(group: dict) -> np.ndarray:
    return np.vstack([canonical_grey(s) for s in group["segments"]])


def stands_out(img: np.ndarray, box: dict, margin: int = 10) -> float:
    """How much a box differs from a ring around it: the strongest of mean shift (in ring
    std units), std ratio and gradient-energy ratio."""
    h, w = img.shape
    x, y, bw, bh = box["x"], box["y"], box["w"], box["h"]
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(w, x + bw + margin), min(h, y + bh + margin)
    gy, gx = np.gradient(img)
    energy = gx**2 + gy**2
    inside = np.zeros(img.shape, bool)
    inside[y : y + bh, x : x + bw] = True
    ring = np.zeros(img.shape, bool)
    ring[y0:y1, x0:x1] = True
    ring &= ~inside
    a, r = img[inside], img[ring]
    return max(
        abs(a.mean() - r.mean()) / (r.std() + 1.0),
        a.std() / (r.std() + 1.0),
        energy[inside].mean() / (energy[ring].mean() + 1.0),
    )


# --- reproducibility -------------------------------------------------------------------


def test_regenerating_gives_identical_ground_truth(regenerated: Path):
    assert json.loads((regenerated / "ground_truth.json").read_text()) == GT


def test_regenerating_gives_identical_files(regenerated: Path):
    committed = sorted(
        p.relative_to(SAMPLES).as_posix() for p in SAMPLES.glob("*/*") if p.parent.name != "synth"
    )
    fresh = sorted(p.relative_to(regenerated).as_posix() for p in regenerated.glob("*/*"))
    assert committed == fresh == sorted(FILES)
    for rel in fresh:
        new, old = regenerated / rel, SAMPLES / rel
        if rel.endswith(LOSSLESS) and not rel.startswith("bad/"):
            a = cv2.imread(str(new), cv2.IMREAD_UNCHANGED)
            b = cv2.imread(str(old), cv2.IMREAD_UNCHANGED)
            assert a.dtype == b.dtype and np.array_equal(a, b), rel
        elif rel.endswith((".jpg", ".jpeg")) and not rel.startswith("bad/"):
            # libjpeg builds differ between Pillow releases, so bytes may not match: the
            # EXIF (orientation, camera) must, and the pixels within JPEG quantisation.
            with Image.open(new) as im_new, Image.open(old) as im_old:
                assert im_new.getexif() == im_old.getexif(), rel
                a = np.asarray(im_new).astype(np.int16)
                b = np.asarray(im_old).astype(np.int16)
            assert a.shape == b.shape, rel
            assert np.abs(a - b).mean() < 1.0 and np.abs(a - b).max() <= 24, rel
        else:  # the bad inputs are crafted bytes: same bytes
            assert new.read_bytes() == old.read_bytes(), rel


def test_committed_samples_stay_small():
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 4.5 * 1024 * 1024


# --- decoding and geometry -------------------------------------------------------------


@pytest.mark.parametrize("rel", sorted(GOOD))
def test_sample_decodes_at_its_canonical_size(rel: str):
    entry = GOOD[rel]
    with Image.open(SAMPLES / rel) as im:
        im.load()
        upright = ImageOps.exif_transpose(im)
        assert upright.size == (entry["width"], entry["height"])
    arr = cv2.imread(str(SAMPLES / rel), cv2.IMREAD_UNCHANGED)
    assert arr is not None and arr.size > 0


@pytest.mark.parametrize("rel", ["bad/empty.jpg", "bad/truncated.jpg", "bad/notes.png"])
def test_unreadable_bad_inputs_fail_to_decode(rel: str):
    assert FILES[rel]["expect"] == "error"
    with pytest.raises(OSError):
        with Image.open(SAMPLES / rel) as im:
            im.load()


def test_decodable_bad_inputs_are_what_they_claim():
    with Image.open(SAMPLES / "bad/cmyk.jpg") as im:
        assert (im.format, im.mode) == ("JPEG", "CMYK")
    with Image.open(SAMPLES / "bad/really_a_png.jpg") as im:
        assert im.format == "PNG" and im.size == (320, 240)
    assert (SAMPLES / "bad/empty.jpg").stat().st_size == 0


def _all_entries():
    yield from GOOD.items()
    yield from GROUPS.items()


@pytest.mark.parametrize("rel,entry", list(_all_entries()), ids=lambda v: str(v)[:40])
def test_boxes_and_keypoints_lie_inside_the_canonical_image(rel, entry):
    for b in entry.get("boxes", []):
        assert b["w"] > 0 and b["h"] > 0, (rel, b)
        assert 0 <= b["x"] and b["x"] + b["w"] <= entry["width"], (rel, b)
        assert 0 <= b["y"] and b["y"] + b["h"] <= entry["height"], (rel, b)
    for kset in entry.get("keypoints", []):
        for name, x, y, v in kset["points"]:
            if v:
                assert 0 <= x < entry["width"] and 0 <= y < entry["height"], (rel, name)


def test_box_classes_and_severities_come_from_the_taxonomy():
    for rel, entry in _all_entries():
        if not entry.get("taxonomy"):
            continue
        data, src = resolve_taxonomy_file(entry["taxonomy"])
        tax = load_taxonomy(data["taxonomy"], src)
        for b in entry["boxes"]:
            cls = tax.get(b["cls"])
            if b["severity"] is not None:
                assert b["severity"] in cls.severity_names(), (rel, b)


def _boxed_images():
    for rel, entry in GOOD.items():
        if entry["boxes"] and not rel.startswith("pcb/"):
            yield rel
    yield from (g for g, e in GROUPS.items() if e.get("kind") == "stitch")


@pytest.mark.parametrize("rel", sorted(_boxed_images()))
def test_every_defect_box_differs_from_its_surroundings(rel: str):
    if rel in GROUPS:
        img, boxes = stitched(GROUPS[rel]), GROUPS[rel]["boxes"]
    else:
        img, boxes = canonical_grey(rel), FILES[rel]["boxes"]
    for b in boxes:
        assert stands_out(img, b) > 2.0, (rel, b)


def test_metal_set_has_clean_parts_and_every_defect_class():
    metal = {k: v for k, v in FILES.items() if k.startswith("metal/")}
    assert len(metal) >= 10
    name = re.compile(r"^P\d{4}_L\d{2}_S\d_cam\d_\d{4}\.jpg$")
    assert all(name.match(Path(k).name) for k in metal)
    passes = [v for v in metal.values() if v["verdict"] == "pass"]
    assert passes and all(not v["boxes"] for v in passes)
    assert all(v["boxes"] for v in metal.values() if v["verdict"] == "fail")
    classes = {b["cls"] for v in metal.values() for b in v["boxes"]}
    assert classes == {"scratch", "dent", "crack", "porosity", "burr", "contamination"}


def _not_solder_mask(bgr: np.ndarray) -> np.ndarray:
    """Pixels that are not green solder mask (copper, solder, bodies)."""
    b, g, r = (bgr[..., i].astype(int) for i in range(3))
    return ~((g > r + 30) & (g > b + 30))


def test_each_pcb_board_boxes_every_joint_grade_on_solder():
    boards = {k: v for k, v in FILES.items() if k.startswith("pcb/")}
    assert 3 <= len(boards) <= 4
    for rel, v in boards.items():
        assert {b["cls"] for b in v["boxes"]} == {"good", "cold", "bridged", "insufficient"}
        bgr = cv2.imread(str(SAMPLES / rel))
        metal = _not_solder_mask(bgr)
        assert metal.mean() < 0.5  # most of the board is mask: the check below can fail
        for b in v["boxes"]:  # a joint box sits on pads and solder, not on bare mask
            inside = metal[b["y"] : b["y"] + b["h"], b["x"] : b["x"] + b["w"]]
            assert inside.mean() > 0.8, (rel, b)


# --- source-specific properties --------------------------------------------------------


def test_xray_tiffs_are_16_bit_in_a_narrow_window():
    rels = [k for k in FILES if k.startswith("xray/")]
    assert len(rels) == 2
    for rel in rels:
        arr = cv2.imread(str(SAMPLES / rel), cv2.IMREAD_UNCHANGED)
        assert arr.dtype == np.uint16 and arr.ndim == 2
        with Image.open(SAMPLES / rel) as im:
            assert im.mode.startswith("I;16")
        assert 15000 <= arr.min() and arr.max() <= 40000
        assert FILES[rel]["value_range"] == [int(arr.min()), int(arr.max())]
        # naive 16->8 bit display (>> 8) squeezes the whole part into a few grey levels
        assert len(np.unique(arr >> 8)) < 80


def test_phone_photos_need_their_exif_orientation():
    rels = sorted(k for k in FILES if k.startswith("phone/"))
    seen = set()
    for rel in rels:
        entry = FILES[rel]
        with Image.open(SAMPLES / rel) as im:
            exif = im.getexif()
            orientation = exif.get(0x0112)
            sub = exif.get_ifd(0x8769)
            assert exif.get(0x010F) and exif.get(0x0110)  # Make, Model
            assert sub.get(0x829A) and sub.get(0x9003)  # ExposureTime, DateTimeOriginal
            stored = im.size
            upright = np.asarray(ImageOps.exif_transpose(im).convert("L"))
        seen.add(orientation)
        assert orientation == entry["exif_orientation"]
        if orientation in (5, 6, 7, 8):
            assert (entry["width"], entry["height"]) == (stored[1], stored[0])
        else:
            assert (entry["width"], entry["height"]) == stored
        # the white job label sits above the part only once the orientation is applied
        rows = np.nonzero((upright > 215).sum(axis=1) > 20)[0]
        assert rows.size and rows.mean() < 0.3 * upright.shape[0], rel
    assert seen == {6, 3}


def test_linescan_segments_stitch_to_the_part():
    group = GROUPS["linescan/partA"]
    rx = re.compile(r"^(?P<part>.+)_seg(?P<seq>\d+)$")
    seqs = [int(rx.match(Path(s).stem)["seq"]) for s in group["segments"]]
    assert seqs == [1, 2, 3, 4] and group["overlap_px"] == 0
    part = stitched(group)
    assert part.shape == (group["height"], group["width"])
    bounds = np.cumsum([FILES[s]["height"] for s in group["segments"]])[:-1]
    crossing = [b for b in group["boxes"] if any(b["y"] < y < b["y"] + b["h"] for y in bounds)]
    assert crossing, "a defect must cross a segment boundary"


def test_focus_stack_slices_are_sharp_where_the_truth_says():
    slices = GROUPS["microscope/stack01"]["slices"]
    sharpness = []
    for rel in slices:
        lap = cv2.Laplacian(canonical_grey(rel), cv2.CV_64F)
        sharpness.append(lap)
    for z, rel in enumerate(slices):
        x, y, w, h = FILES[rel]["focus"]["sharp_region"]
        scores = [float(lap[y : y + h, x : x + w].var()) for lap in sharpness]
        assert int(np.argmax(scores)) == z, (rel, scores)


def test_assembly_keypoints_match_the_part_and_the_tolerances():
    data, src = resolve_taxonomy_file("assembly-keypoints")
    template = load_taxonomy(data["taxonomy"], src).template("bracket")
    hole_tol = next(t for t in template.tolerances if {t.a, t.b} == {"hole_left", "hole_right"})
    verdicts = {}
    for rel in sorted(k for k in FILES if k.startswith("assembly/")):
        entry, img = FILES[rel], canonical_grey(rel)
        pts = {n: (x, y, v) for n, x, y, v in entry["keypoints"][0]["points"]}
        assert list(pts) == list(template.points)
        for hole in ("hole_left", "hole_right"):  # through holes show the dark fixture
            x, y, _ = pts[hole]
            assert img[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3].mean() < 60, rel
        (lx, ly, _), (rx, ry, _) = pts["hole_left"][:3], pts["hole_right"][:3]
        dist_mm = math.hypot(rx - lx, ry - ly) * entry["mm_per_px"]
        in_tol = abs(dist_mm - hole_tol.nominal_mm) <= hole_tol.tol_mm
        screw = pts["screw"][2] == 2
        assert entry["verdict"] == ("pass" if in_tol and screw else "fail"), rel
        verdicts[rel] = (in_tol, screw)
        if not screw:
            assert any(b["cls"] == "missing-component" for b in entry["boxes"])
    assert sorted(verdicts.values()) == [(False, True), (True, False), (True, True)]
