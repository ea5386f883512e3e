"""qclabel.api: a read-only project in a notebook, versions as pandas frames and as a
PyTorch-style dataset of (pixels, labels)."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageOps

from qclabel import api
from qclabel.core.model import Annotation
from qclabel.errors import FormatError, NotAProjectError, PermissionDenied, QclabelError
from qclabel.formats import export_project
from qclabel.formats.tabular import IMAGE_COLUMNS, OBJECT_COLUMNS
from qclabel.versions import create_version
from mask_projects import make_mask_project
from test_formats_common import by_name, label, make_box_project, make_keypoint_project

SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.fixture
def project(tmp_path):
    p = make_box_project(tmp_path)
    create_version(p, "v1", "admin", ratios=(0.5, 0.5), seed=3)
    return p


def test_versions_are_listed_and_counts_hidden_from_annotators(project, as_user):
    as_user("admin")
    view = api.open_project(project.root)
    [info] = view.versions()
    assert (info.name, info.created_by, info.images) == ("v1", "admin", 3)
    assert len(info.hash) == 64 and view.classes == project.taxonomy.class_names()
    as_user("bob")
    assert api.open_project(project.root).versions()[0].images is None
    with pytest.raises(PermissionDenied, match="adjudicator"):
        api.open_project(project.root).version("v1")
    with pytest.raises(NotAProjectError):
        api.open_project(project.root / "labels")


def test_dataframes_hold_the_same_rows_as_the_csv_export(project, as_user, tmp_path):
    as_user("admin")
    v = api.open_project(project.root).version("v1")
    out = export_project(project, "csv", tmp_path / "csv", version="v1").out
    images = v.to_dataframe()
    csv_images = pd.read_csv(out / "images.csv", keep_default_na=False, dtype=str)
    assert list(images.columns) == list(IMAGE_COLUMNS) == list(csv_images.columns)
    assert len(images) == 3 and set(images["split"]) <= {"train", "val"}
    for col in ("image_id", "sha256", "verdict", "defect_class", "severity", "status"):
        assert images[col].fillna("").astype(str).tolist() == csv_images[col].tolist(), col
    for path in images["path"]:
        assert Path(path).is_absolute() and Path(path).is_file()
    objects = v.to_dataframe("objects")
    csv_objects = pd.read_csv(out / "objects.csv")
    assert list(objects.columns) == list(OBJECT_COLUMNS)
    assert sorted(objects["class"]) == sorted(csv_objects["class"]) == ["crack", "dent", "scratch"]
    dent = objects[objects["class"] == "dent"].iloc[0]
    assert (dent.x, dent.y, dent.w, dent.h) == (60, 50, 40, 30)  # clipped to 100x80
    train = v.to_dataframe(split="train")
    assert set(train["split"]) == {"train"} and 0 < len(train) < 3
    with pytest.raises(QclabelError, match="table 'boxes'"):
        v.to_dataframe("boxes")
    with pytest.raises(QclabelError, match="split 'holdout'"):
        v.to_dataframe(split="holdout")


def test_dataset_items_are_the_canonical_pixels_and_their_labels(project, as_user, tmp_path):
    as_user("admin")
    ds = api.open_project(project.root).version("v1").dataset()
    assert len(ds) == 3
    by_file = {Path(lab["path"]).name: (px, lab) for px, lab in ds}
    px, lab = by_file["a.png"]
    src = np.asarray(Image.open(tmp_path / "src" / "a.png"))
    assert px.dtype == np.uint8 and np.array_equal(px, src)
    assert lab["boxes"].dtype == np.float32 and lab["labels"].dtype == np.int64
    classes = project.taxonomy.class_names()
    got = sorted(zip((classes[i] for i in lab["labels"]), lab["boxes"].tolist()))
    assert got == [("dent", [60, 50, 100, 80]), ("scratch", [10, 20, 40, 35])]
    px, lab = by_file["b.jpg"]  # EXIF orientation 6: the upright pixels, 48 wide
    upright = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "src" / "b.jpg")))
    assert px.shape == upright.shape == (64, 48, 3)
    assert np.abs(px.astype(int) - upright.astype(int)).mean() < 2
    assert lab["defect_class"] == "crack" and lab["class_index"] == classes.index("crack")
    px, lab = by_file["c.png"]  # 16-bit stays 16-bit
    assert px.dtype == np.uint16
    assert np.array_equal(px, np.asarray(Image.open(tmp_path / "src" / "c.png")))
    assert lab["boxes"].shape == (0, 4) and lab["verdict"] == "pass"
    assert lab["masks"].shape == (0, 30, 40)
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(TypeError):
        ds["a.png"]


def test_dataset_works_where_a_dataloader_needs_it(project, as_user):
    """Worker processes get the dataset pickled; `transform` shapes each sample."""
    as_user("admin")
    v = api.open_project(project.root).version("v1")
    ds = v.dataset("val", transform=_shape_and_count)
    assert len(ds) == len(v.to_dataframe(split="val"))
    copy = pickle.loads(pickle.dumps(ds))
    assert [copy[i] for i in range(len(copy))] == [ds[i] for i in range(len(ds))]
    assert ds[-1] == ds[len(ds) - 1]


def _shape_and_count(pixels, labels):
    return pixels.shape, len(labels["boxes"])


def test_drop_incomplete_leaves_out_fail_images_without_objects(project, as_user):
    as_user("admin")
    ids = by_name(project)
    label(project, "alice", ids["d.png"], Annotation(verdict="fail"))
    view = api.open_project(project.root)
    assert len(view.current().dataset()) == 4
    kept = view.current().dataset(drop_incomplete=True)
    assert len(kept) == 3 and ids["d.png"] not in kept.image_ids
    assert view.current().name is None and len(view.version("v1")) == 3


def test_a_changed_image_file_is_refused(project, as_user, tmp_path):
    as_user("admin")
    ds = api.open_project(project.root).version("v1").dataset()
    src = tmp_path / "src" / "a.png"
    arr = np.asarray(Image.open(src)).copy()
    arr[0, 0] ^= 1
    Image.fromarray(arr).save(src)
    n = ds.image_ids.index(by_name(project)["a.png"])
    with pytest.raises(FormatError, match="sha256 differs"):
        ds[n]
    ds[(n + 1) % 3]  # the others still load
    unchecked = api.open_project(project.root).version("v1").dataset(verify=False)
    assert unchecked[n][0][0, 0].tolist() == arr[0, 0].tolist()


def test_keypoints_and_masks_reach_the_labels(tmp_path, as_user):
    as_user("admin")
    kproj = make_keypoint_project(tmp_path)
    [(_, lab)] = [s for s in api.open_project(kproj.root).current().dataset() if s[1]["keypoints"]]
    [kps] = lab["keypoints"]
    assert kps["template"] == "bracket" and kps["points"].shape == (4, 3)
    assert kps["points"].tolist()[0] == [20, 30, 2] and kps["points"].tolist()[3] == [0, 0, 0]
    mproj = make_mask_project(tmp_path)
    v = api.open_project(mproj.root).current()
    with_masks = [lab for _, lab in v.dataset() if len(lab["masks"])]
    lab = with_masks[0]
    assert lab["masks"].dtype == bool and lab["masks"].shape[1:] == (lab["height"], lab["width"])
    assert len(lab["mask_labels"]) == len(lab["masks"])
    objects = v.to_dataframe("objects")
    masks = objects[objects["kind"] == "mask"]
    assert len(masks) == sum(len(lab["masks"]) for lab in with_masks)
    assert sorted(masks["area_px"].astype(int)) == sorted(
        int(m.sum()) for lab in with_masks for m in lab["masks"]
    )


def _tree_state(root: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), root)] = (
                st.st_size,
                st.st_mtime_ns,
                st.st_mode,
            )
    return out


def test_nothing_is_written_to_the_project(project, as_user):
    as_user("admin")
    before = _tree_state(project.root)
    view = api.open_project(project.root)
    view.versions()
    for v in (view.version("v1"), view.current()):
        v.to_dataframe()
        v.to_dataframe("objects")
        list(v.dataset())
    assert _tree_state(project.root) == before


_AS_READER = """
import os, pwd, sys
# The interpreter lives under /root (mode 0700): load every module as root, then become
# the reader for everything that touches the project.
import pandas, PIL.Image, cv2, pycocotools.mask
PIL.Image.init()
from qclabel import api
import qclabel.versions, qclabel.qa.final, qclabel.qa.blind, qclabel.qa.report
import qclabel.qa.plan, qclabel.qa.gates, qclabel.ingest, qclabel.core.consistency
import qclabel._api_rows, qclabel.store.replay
pw = pwd.getpwnam(sys.argv[2])
os.setgid(pw.pw_gid); os.setuid(pw.pw_uid)
v = api.open_project(sys.argv[1]).version("v1")
print(len(v.to_dataframe()), sum(len(l["boxes"]) for _, l in v.dataset()))
try:
    open(os.path.join(sys.argv[1], "probe"), "w")
except PermissionError:
    print("read-only")
"""


def test_a_user_without_write_access_reads_everything(tmp_path):
    """A real OS user who can write nowhere in the project folder."""
    user = "apinb_reader"
    base = Path(tempfile.mkdtemp(prefix="qclabel-api-"))  # outside root's 0700 pytest dir
    subprocess.run(["useradd", "--no-create-home", user], check=True, capture_output=True)
    try:
        project = make_box_project(base)
        create_version(project, "v1", "admin")
        cfg = project.config_path
        cfg.write_text(cfg.read_text().replace("adjudicator = []", f'adjudicator = ["{user}"]'))
        assert user in cfg.read_text()
        for dirpath, _dirs, files in os.walk(base):
            os.chmod(dirpath, 0o755)
            for name in files:
                os.chmod(os.path.join(dirpath, name), 0o644)
        res = subprocess.run(
            [sys.executable, "-c", _AS_READER, str(project.root), user],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        assert res.stdout.split() == ["3", "3", "read-only"]
    finally:
        subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_pandas_is_imported_only_for_a_frame_and_its_absence_is_explained(project):
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from qclabel import api, identity\n"
        "identity.current_user = lambda: 'admin'\n"
        "v = api.open_project(sys.argv[1]).version('v1')\n"
        "assert len(v.dataset()) == 3 and v.dataset()[0][0].size\n"
        "print(sorted(m for m in ('textual', 'torch') if m in sys.modules))\n"
        "try:\n    v.to_dataframe()\nexcept Exception as e:\n    print(e)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(project.root)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "[]",
        "to_dataframe needs pandas: pip install 'qclabel[pandas]'",
    ]


def test_the_package_ships_its_type_marker():
    assert (SRC / "qclabel" / "py.typed").is_file()
    import tomllib

    cfg = tomllib.loads((SRC.parent / "pyproject.toml").read_text())
    assert "pandas" in cfg["project"]["optional-dependencies"]["pandas"][0]
