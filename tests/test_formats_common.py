"""A small hand-checked project shared by the format tests, and tests of the shared parts
(class registry, clipping, naming, atomic output)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qclabel.core.edits import Change
from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
from qclabel.errors import FormatError
from qclabel.formats import dataset_for, export_dataset
from qclabel.formats.outdir import atomic_output, partial_dir, remove_stale_partials
from qclabel.ingest import ingest_paths
from qclabel.project import Project

# The golden project: four images, labels by alice; d.png stays unlabeled.
#   a.png  100x80 RGB: scratch (10,20,30,15) minor; dent (60,50,50,40) clipped to 40x30
#   b.jpg  64x48 stored, EXIF orientation 6 -> canonical 48x64: crack (5,5,10,20)
#   c.png  40x30 16-bit grey, pass, no objects (a background image)
#   d.png  unlabeled: not exported
A_BOXES = (Box("scratch", 10, 20, 30, 15, "minor", id="a1"), Box("dent", 60, 50, 50, 40, id="a2"))


def write_images(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)).save(folder / "a.png")
    jpg = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    jpg.save(folder / "b.jpg", exif=exif, quality=90)
    grey = (rng.integers(0, 65535, (30, 40))).astype(np.uint16)
    Image.fromarray(grey).save(folder / "c.png")
    Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(folder / "d.png")


def by_name(project: Project) -> dict[str, str]:
    return {Path(r.source).name: r.id for r in project.store.catalog.all()}


def label(project: Project, user: str, image: str, ann: Annotation) -> None:
    with project.store.open_session(user) as s:
        s.commit(Change(image, s.annotation(image), ann))


def make_box_project(tmp: Path) -> Project:
    project = Project.init(tmp / "proj", "metal-stamping", user="admin")
    for user in ("alice", "bob", "carol"):  # import --as needs an annotator
        project.add_role("admin", user, "annotator")
    write_images(tmp / "src")
    report = ingest_paths(project, [tmp / "src"], workers=1)
    assert not report.failed, report.failed
    ids = by_name(project)
    label(project, "alice", ids["a.png"], Annotation(verdict="fail", boxes=A_BOXES))
    label(
        project,
        "alice",
        ids["b.jpg"],
        Annotation(
            verdict="fail",
            defect_class="crack",
            severity="critical",
            boxes=(Box("crack", 5, 5, 10, 20, "critical", id="b1"),),
        ),
    )
    label(project, "alice", ids["c.png"], Annotation(verdict="pass"))
    return project


def make_keypoint_project(tmp: Path) -> Project:
    project = Project.init(tmp / "kproj", "assembly-keypoints", user="admin")
    for user in ("alice", "bob", "carol"):
        project.add_role("admin", user, "annotator")
    write_images(tmp / "ksrc")
    ingest_paths(project, [tmp / "ksrc"], workers=1)
    ids = by_name(project)
    pts = (
        Keypoint("hole_left", 20, 30, 2),
        Keypoint("hole_right", 80, 30, 1),
        Keypoint("tab_tip", 50, 10, 2),
        Keypoint("screw"),
    )
    label(
        project,
        "alice",
        ids["a.png"],
        Annotation(
            verdict="fail",
            boxes=(Box("missing-component", 40, 40, 20, 20, id="k1"),),
            keypoints=(KeypointSet("bracket", pts, "bracket", id="s1"),),
        ),
    )
    label(project, "alice", ids["c.png"], Annotation(verdict="pass"))
    return project


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def box_project(tmp_path: Path) -> Project:
    return make_box_project(tmp_path)


# -- tests of the shared parts ---------------------------------------------------------------
def test_dataset_uses_canonical_sizes_names_and_skips_unlabeled(box_project):
    ds = dataset_for(box_project)
    names = {i.name: i for i in ds.images}
    assert sorted(names) == ["a.png", "b.png", "c.png"]  # b re-encoded, d unlabeled
    assert (names["b.png"].record.width, names["b.png"].record.height) == (48, 64)
    assert ds.classes[:3] == ["scratch", "dent", "crack"]
    clipped = ds.boxes(names["a.png"])
    assert [(b.x, b.y, b.w, b.h) for b in clipped] == [(10, 20, 30, 15), (60, 50, 40, 30)]


def test_rotated_source_exported_as_lossless_canonical_png(box_project, tmp_path):
    export_dataset(dataset_for(box_project), "coco", tmp_path / "out")
    out = tmp_path / "out" / "images" / "train"
    with Image.open(out / "b.png") as im:
        assert im.size == (48, 64)
        expected = np.asarray(
            Image.open(tmp_path / "src" / "b.jpg").transpose(Image.Transpose.ROTATE_270)
        )
        assert np.array_equal(np.asarray(im), expected)
    assert (out / "a.png").read_bytes() == (tmp_path / "src" / "a.png").read_bytes()
    with Image.open(out / "c.png") as im:
        assert im.mode.startswith("I;16") or im.mode == "I"
        assert np.array_equal(np.asarray(im), np.asarray(Image.open(tmp_path / "src/c.png")))


def test_unknown_class_in_labels_is_refused_not_appended(box_project, tmp_path):
    ids = by_name(box_project)
    label(box_project, "alice", ids["d.png"], Annotation(boxes=(Box("rust", 1, 1, 5, 5),)))
    with pytest.raises(FormatError, match="'rust' is not in the taxonomy"):
        export_dataset(dataset_for(box_project), "yolo", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_changed_image_bytes_are_detected(box_project, tmp_path):
    (tmp_path / "src" / "a.png").write_bytes(b"not the labeled image")
    with pytest.raises(FormatError, match="sha256 differs"):
        export_dataset(dataset_for(box_project), "voc", tmp_path / "out")


def test_atomic_output_keeps_previous_on_failure(tmp_path):
    out = tmp_path / "ds"
    with atomic_output(out) as tmp:
        (tmp / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(out) as tmp:
            (tmp / "new.txt").write_text("half")
            raise RuntimeError("disk full")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]
    with atomic_output(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_stale_partial_of_dead_process_is_removed(tmp_path):
    out = tmp_path / "ds"
    stale = partial_dir(out, pid=2**22 + 12345)  # above pid_max defaults: never alive
    stale.mkdir()
    (stale / "x").write_text("junk")
    mine = partial_dir(out)
    mine.mkdir()
    assert remove_stale_partials(out) == [stale]
    assert mine.exists() and not stale.exists()


def test_duplicate_stems_in_a_split_get_the_image_id(box_project, tmp_path):
    other = tmp_path / "src2"
    other.mkdir()
    Image.fromarray(np.full((10, 10, 3), 9, np.uint8)).save(other / "a.png")
    ingest_paths(box_project, [other], workers=1)
    new = next(
        r
        for r in box_project.store.catalog.all()
        if r.source.endswith("src2/a.png") or r.source.endswith("src2" + os.sep + "a.png")
    )
    label(box_project, "alice", new.id, Annotation(verdict="pass"))
    names = sorted(i.name for i in dataset_for(box_project).images)
    assert names == ["a.png", f"a_{new.id[:8]}.png", "b.png", "c.png"]


def test_a_folder_that_is_not_an_export_is_never_replaced(box_project, tmp_path):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.txt").write_text("precious")
    with pytest.raises(FormatError, match="is not an earlier export"):
        export_dataset(dataset_for(box_project), "yolo", mine)
    assert [p.name for p in mine.iterdir()] == ["chapter1.txt"]
    export_dataset(dataset_for(box_project), "yolo", tmp_path / "empty-ok")
    export_dataset(dataset_for(box_project), "coco", tmp_path / "empty-ok")  # replaces
    assert (tmp_path / "empty-ok" / "annotations").is_dir()


@pytest.mark.parametrize("pool", ["thread", "process"])
def test_images_copied_on_an_executor_give_the_same_export(box_project, tmp_path, pool):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    plain = export_dataset(dataset_for(box_project), "yolo", tmp_path / "plain").out
    make = (
        (lambda: ThreadPoolExecutor(2))
        if pool == "thread"
        else (lambda: ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")))
    )
    with make() as ex:
        par = export_dataset(dataset_for(box_project, executor=ex), "yolo", tmp_path / "par").out
        assert tree_digest(par) == tree_digest(plain)
        (tmp_path / "src" / "a.png").write_bytes(b"changed")
        with pytest.raises(FormatError, match="sha256 differs"):
            export_dataset(dataset_for(box_project, executor=ex), "yolo", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    assert not list(tmp_path.glob(".bad.partial-*"))
