"""16-bit X-rays through a whole augmentation, keypoint templates in a version, and
the Dask path on a LocalCluster."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from qclabel.augment.run import augment_version, synthetic_ids
from qclabel.core.edits import Change
from qclabel.core.model import Annotation, Box, KeypointSet
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.versions import create_version, get_version

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]


def _label(project: Project, folder: str) -> None:
    with project.store.open_session("alice") as s:
        for rec in project.store.catalog.all():
            t = (
                TRUTH[f"{folder}/{Path(rec.source).name}"]
                if f"{folder}/{Path(rec.source).name}" in TRUTH
                else None
            )
            if t is None:
                continue
            boxes = tuple(
                Box(b["cls"], b["x"], b["y"], b["w"], b["h"], b.get("severity"))
                for b in t.get("boxes", [])
            )
            kps = tuple(KeypointSet.from_dict(k) for k in t.get("keypoints", []))
            s.commit(
                Change(
                    rec.id,
                    s.annotation(rec.id),
                    Annotation(verdict=t["verdict"], boxes=boxes, keypoints=kps),
                )
            )


@pytest.fixture(scope="module")
def xray(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xray")
    project = Project.init(tmp / "proj", "metal-stamping", user="admin")
    for folder, profile in (("xray", "xray"), ("metal", "area-scan")):
        shutil.copytree(SAMPLES / folder, tmp / "src" / folder)
        assert not ingest_paths(project, [tmp / "src" / folder], profile=profile, workers=1).failed
        _label(project, folder)
    create_version(project, "v1", "admin")
    return project


def test_sixteen_bit_images_stay_sixteen_bit_through_a_version(xray):
    augment_version(
        xray, "v1", "default", "v1-aug", "admin", to_ratio=0.1, seed=5, max_per_source=3
    )
    aug = get_version(xray, "v1-aug")
    by_id = {e["id"]: e for e in aug["images"]}
    from_xray = [
        e
        for e in aug["images"]
        if e.get("synthetic") and by_id[e["synthetic"]["sources"][-1]]["bit_depth"] == 16
    ]
    assert from_xray
    for e in from_xray:
        assert e["file"].endswith(".tif") and e["bit_depth"] == 16
        arr = cv2.imread(str(xray.root / e["file"]), cv2.IMREAD_UNCHANGED)
        assert arr.dtype == np.uint16 and arr.shape == (e["height"], e["width"])
        assert len(np.unique(arr)) > 1000
        ann = Annotation.from_dict(aug["labels"][e["id"]]["annotation"])
        assert ann.boxes and all(b.x >= 0 and b.x2 <= e["width"] + 1e-6 for b in ann.boxes)


def test_keypoint_templates_swap_in_an_augmented_version(tmp_path):
    project = Project.init(tmp_path / "proj", "assembly-keypoints", user="admin")
    shutil.copytree(SAMPLES / "assembly", tmp_path / "src" / "assembly")
    assert not ingest_paths(project, [tmp_path / "src" / "assembly"], workers=1).failed
    _label(project, "assembly")
    create_version(project, "v1", "admin")
    project.config["augment"] = {"recipes": {"mirror": {"hflip": {"p": 1.0}}}}
    project.save_config()
    augment_version(project, "v1", "mirror", "v1-m", "admin", to_ratio=0.2, seed=1)
    aug = get_version(project, "v1-m")
    assert synthetic_ids(aug)
    for i in synthetic_ids(aug):
        entry = next(e for e in aug["images"] if e["id"] == i)
        src = entry["synthetic"]["sources"][0]
        before = Annotation.from_dict(aug["labels"][src]["annotation"]).keypoints[0]
        after = Annotation.from_dict(aug["labels"][i]["annotation"]).keypoints[0]
        w = entry["width"]
        assert after.point("hole_left").x == pytest.approx(w - before.point("hole_right").x)
        assert after.point("hole_left").x < after.point("hole_right").x


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_dask_local_cluster_gives_the_same_version(xray, tmp_path):
    from qclabel.formats import export_project

    distributed = pytest.importorskip("distributed")
    local = augment_version(
        xray, "v1", "default", "v1-local", "admin", to_ratio=0.1, seed=9, max_per_source=2
    )
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        shutil.rmtree(xray.root / local["folder"])
        remote = augment_version(
            xray,
            "v1",
            "default",
            "v1-dask",
            "admin",
            to_ratio=0.1,
            seed=9,
            max_per_source=2,
            executor=client.get_executor(),
        )
        # Export takes the cluster's executor too (its workers copy the image files).
        export_project(
            xray, "coco", tmp_path / "dask", version="v1-dask", executor=client.get_executor()
        )
    export_project(xray, "coco", tmp_path / "local", version="v1-dask")
    assert _tree(tmp_path / "dask") == _tree(tmp_path / "local")
    assert remote["hash"] == local["hash"] and remote["synthetic"] == local["synthetic"] > 0
    for e in get_version(xray, "v1-dask")["images"]:
        if e.get("synthetic"):
            assert (xray.root / e["file"]).is_file()
