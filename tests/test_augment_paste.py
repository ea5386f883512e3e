"""Copy-paste on real sample images: where the defect lands, how it is blended, what
happens to objects it covers; and a cancelled augmentation stores nothing."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from mask_projects import make_mask_project
from qclabel.augment.copypaste import paste
from qclabel.augment.recipe import load_recipe
from qclabel.augment.run import AugmentCancelled, augment_version
from qclabel.cli import main
from qclabel.core.mask import Mask
from qclabel.core.model import Annotation, Box
from qclabel.core.taxonomy import load_taxonomy
from qclabel.project import resolve_taxonomy_file
from qclabel.versions import create_version, list_names

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
CRACKED = "metal/P1001_L07_S2_cam2_0003.jpg"
CLEAN = "metal/P1001_L07_S2_cam1_0002.jpg"
TAX = load_taxonomy(resolve_taxonomy_file("metal-stamping")[0]["taxonomy"])


def rgb(rel: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(SAMPLES / rel)), cv2.COLOR_BGR2RGB)


def crack() -> Mask:
    return Mask.from_dict({**TRUTH[CRACKED]["masks"][0], "id": "c"})


def params(**kw):
    return {
        "op": "copy_paste",
        "instance": "c",
        "scale": 1.0,
        "angle": 0.0,
        "dx": 0.0,
        "dy": 0.0,
        "blend": "mixed",
        "feather": 3,
        "id": "p1",
        **kw,
    }


@pytest.mark.parametrize("blend", ["mixed", "alpha"])
def test_pasted_crack_is_where_its_label_says(blend):
    src, dest = rgb(CRACKED), rgb(CLEAN)
    m = crack()
    box = Box("crack", m.left, m.top, m.width, m.height, "critical", id="b")
    out, ann, dropped = paste(
        dest,
        Annotation(verdict="pass"),
        src,
        Annotation(verdict="fail", masks=(m,), boxes=(box,)),
        m,
        params(blend=blend, dx=-40.0, dy=-60.0),
        TAX,
        0.05,
    )
    assert out.dtype == np.uint8 and out.shape == dest.shape and not dropped
    new = ann.masks[0]
    assert ann.verdict == "fail" and new.cls == "crack" and new.id == "p1-m"
    assert (new.left, new.top) == (m.left - 40, m.top - 60) and new.area == m.area
    assert ann.boxes[0].x == new.left and ann.boxes[0].w == new.width
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    region = new.full(dest.shape[1], dest.shape[0]).astype(bool)
    ring = cv2.dilate(region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~region
    assert grey[region].mean() < grey[ring].mean() - 10  # the dark crack is under it
    # Away from the defect (its box grown by the feather and the blur) nothing changed.
    far = np.ones(region.shape, bool)
    far[new.top - 12 : new.y2 + 12, new.left - 12 : new.x2 + 12] = False
    assert np.array_equal(out[far], dest[far])


def test_paste_keeps_sixteen_bit_and_blends_by_alpha():
    xray = cv2.imread(str(SAMPLES / "xray/hub_001.tif"), cv2.IMREAD_UNCHANGED)
    other = cv2.imread(str(SAMPLES / "xray/hub_002.tif"), cv2.IMREAD_UNCHANGED)
    blob = np.zeros(xray.shape, np.uint8)
    cv2.circle(blob, (200, 200), 12, 1, -1)
    m = Mask.from_array("porosity", blob, id="c")
    out, ann, _ = paste(
        other,
        Annotation(verdict="pass"),
        xray,
        Annotation(verdict="fail", masks=(m,)),
        m,
        params(),
        TAX,
        0.1,
    )
    assert out.dtype == np.uint16 and len(np.unique(out)) > 1000
    region = ann.masks[0].full(out.shape[1], out.shape[0]).astype(bool)
    assert np.array_equal(out[region], xray[region])  # opaque inside the defect


def test_covered_objects_lose_the_pixels_and_their_boxes_follow():
    src, dest = rgb(CRACKED), rgb(CLEAN)
    m = crack()
    under = np.zeros(dest.shape[:2], np.uint8)
    under[m.top - 5 : m.y2 + 5, m.left - 30 : m.left + m.width // 2] = 1  # half covered
    tiny = np.zeros(dest.shape[:2], np.uint8)
    tiny[m.top + 2 : m.top + 6, m.left + 2 : m.left + 6] = 1  # fully covered, if on the crack
    old = Mask.from_array("scratch", under, id="old")
    box = Box("scratch", old.left, old.top, old.width, old.height, id="oldbox")
    gone = Mask.from_array("dent", m.full(dest.shape[1], dest.shape[0]), id="gone")
    dest_ann = Annotation(verdict="fail", masks=(old, gone), boxes=(box,))
    _, ann, dropped = paste(
        dest, dest_ann, src, Annotation(verdict="fail", masks=(m,)), m, params(), TAX, 0.05
    )
    kept = next(x for x in ann.masks if x.id == "old")
    pasted = next(x for x in ann.masks if x.id == "p1-m")
    w, h = dest.shape[1], dest.shape[0]
    assert not (kept.full(w, h) & pasted.full(w, h)).any()
    assert kept.area == old.area - int((old.full(w, h) & pasted.full(w, h)).sum())
    kb = next(b for b in ann.boxes if b.id == "oldbox")
    assert (kb.x, kb.y, kb.w, kb.h) == kept.bbox
    assert all(x.id != "gone" for x in ann.masks) and dropped == {"dent": 1}


@pytest.fixture(scope="module")
def metal(tmp_path_factory):
    project = make_mask_project(tmp_path_factory.mktemp("cancel"))
    create_version(project, "v1", "admin")
    return project


def test_cancelled_augmentation_stores_no_version(metal):
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        cancel.set()  # cancel after the first image

    with pytest.raises(AugmentCancelled):
        augment_version(
            metal, "v1", "default", "v1-c", "admin", to_ratio=0.3, progress=progress, cancel=cancel
        )
    assert "v1-c" not in list_names(metal) and seen == [1]
    assert not (metal.root / "augmented").exists() or not any(
        (metal.root / "augmented").rglob("*.png")
    )  # its files went with it
    done = augment_version(metal, "v1", "default", "v1-ok", "admin", to_ratio=0.3)
    folder = metal.root / done["folder"]
    before = sorted(folder.iterdir())
    with pytest.raises(AugmentCancelled):  # same inputs, same folder: v1-ok keeps its files
        augment_version(
            metal, "v1", "default", "v1-c2", "admin", to_ratio=0.3, progress=progress, cancel=cancel
        )
    assert sorted(folder.iterdir()) == before


def test_balance_of_current_final_labels(metal, as_user):
    as_user("admin")
    r = CliRunner().invoke(main, ["balance", str(metal.root), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["version"] is None and report["images"] == 12 and report["good"] == 2
    crack_row = next(c for c in report["classes"] if c["class"] == "crack")
    assert crack_row["criticality"] == "safety-critical" and crack_row["target"] == 5
    assert crack_row["images"] == 3 and crack_row["too_few_to_augment"]
    metal.config["balance"] = {"min_real": "many"}
    metal.save_config()
    r = CliRunner().invoke(main, ["balance", str(metal.root)])
    assert r.exit_code != 0 and "balance.min_real" in r.output
    assert r.output.startswith("qclabel: error:")
    metal.config.pop("balance")
    metal.save_config()
    assert load_recipe(metal.config, "default").name == "default"


def test_a_changed_source_image_is_refused_naming_it(metal):
    rec = next(
        r for r in metal.store.catalog.all() if Path(r.source).name == "P1001_L07_S2_cam2_0003.jpg"
    )  # the cracked image: a source of every plan
    path = Path(rec.file) if Path(rec.file).is_absolute() else metal.root / rec.file
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"changed")
        from qclabel.augment.run import AugmentError

        with pytest.raises(AugmentError, match="sha256 differs") as err:
            augment_version(metal, "v1", "default", "v1-bad", "admin", to_ratio=0.3)
        assert "no version was stored" in str(err.value)
        assert "v1-bad" not in list_names(metal)
    finally:
        path.write_bytes(original)


def test_images_whose_defects_all_left_the_frame_are_not_made(metal):
    from qclabel.augment.run import synthetic_ids
    from qclabel.versions import get_version

    metal.config["augment"] = {"recipes": {"tight": {"crop": {"p": 1, "range": [0.15, 0.15]}}}}
    metal.save_config()
    r = augment_version(metal, "v1", "tight", "v1-tight", "admin", to_ratio=0.1)
    aug = get_version(metal, "v1-tight")
    assert r["discarded"] > 0 and r["dropped"]
    step = get_version(metal, "v1-tight")["settings"]["augment"][-1]
    assert step["discarded"] == r["discarded"] and step["dropped"] == r["dropped"]
    assert len(synthetic_ids(aug)) == r["synthetic"]
    for i in synthetic_ids(aug):
        ann = Annotation.from_dict(aug["labels"][i]["annotation"])
        assert ann.masks  # something of a defect is on every synthetic image
    files = {p.name for p in (metal.root / r["folder"]).iterdir()}
    assert files == {Path(e["file"]).name for e in aug["images"] if e.get("synthetic")}


def test_classes_that_cannot_reach_the_target_are_reported_short(metal, as_user):
    as_user("admin")
    r = CliRunner().invoke(
        main,
        [
            "augment",
            str(metal.root),
            "--version",
            "v1",
            "--out-version",
            "v1-short",
            "--to-ratio",
            "0.05",
            "--max-per-source",
            "1",
            "--workers",
            "1",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    # 2 good images at 0.05 want 40 images a class; each real image gives at most one.
    assert summary["short"] and all(n > 0 for n in summary["short"].values())
    assert not all(c["meets_target"] for c in summary["balance"]["classes"])
    r = CliRunner().invoke(
        main,
        [
            "augment",
            str(metal.root),
            "--version",
            "v1",
            "--out-version",
            "v1-short2",
            "--to-ratio",
            "0.05",
            "--max-per-source",
            "1",
            "--workers",
            "1",
        ],
    )
    assert "short" in r.output and "collect more real images" in r.output


@pytest.mark.parametrize("hole", [(106, 410), (340, 192)])
def test_a_shift_onto_a_hole_of_the_part_goes_back_to_the_defect_s_own_place(hole):
    """The clean plate has two fixture holes: a paste shifted onto one would put a crack
    on no metal at all. It goes back to where the crack sat on its own image."""
    src, dest = rgb(CRACKED), rgb(CLEAN)
    grey = cv2.cvtColor(dest, cv2.COLOR_RGB2GRAY)
    assert grey[hole[1], hole[0]] < 80  # there is a hole there
    m = crack()
    dx = hole[0] - (m.left + m.width / 2)
    dy = hole[1] - (m.top + m.height / 2)
    out, ann, _ = paste(
        dest,
        Annotation(verdict="pass"),
        src,
        Annotation(verdict="fail", masks=(m,)),
        m,
        params(dx=float(dx), dy=float(dy)),
        TAX,
        0.05,
    )
    new = ann.masks[0]
    assert (new.left, new.top) == (m.left, m.top)
    region = new.full(dest.shape[1], dest.shape[0]).astype(bool)
    assert grey[region].min() > 80  # on metal, not in a hole
    # a shift that stays on plain metal is kept as sampled
    _, kept, _ = paste(
        dest,
        Annotation(verdict="pass"),
        src,
        Annotation(verdict="fail", masks=(m,)),
        m,
        params(dx=60.0, dy=20.0),
        TAX,
        0.05,
    )
    assert (kept.masks[0].left, kept.masks[0].top) == (m.left + 60, m.top + 20)
