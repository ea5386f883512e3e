"""Augmentation throughput: synthetic images per second made from the metal samples
(800x600, instance masks) by `augment_version`, on 2 local worker processes and on a
Dask LocalCluster of 2 workers, beside the floor: `cv2.warpAffine` + `cv2.imwrite` of
the same number of images alone (no labels, no photometric ops, no planning).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from qclabel.augment.run import augment_version
from qclabel.core.edits import Change
from qclabel.core.mask import Mask
from qclabel.core.model import Annotation
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.versions import create_version

from .common import Figure

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _project(root: Path) -> Project:
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
    shutil.copytree(SAMPLES / "metal", root / "src" / "metal")
    project = Project.init(root / "proj", "metal-stamping", user="bench")
    ingest_paths(project, [root / "src"], profile="area-scan", workers=1)
    with project.store.open_session("bench") as s:
        for rec in project.store.catalog.all():
            t = truth[f"metal/{Path(rec.source).name}"]
            masks = tuple(
                Mask.from_dict({**m, "id": f"m{n}"}) for n, m in enumerate(t.get("masks", []))
            )
            s.commit(
                Change(rec.id, s.annotation(rec.id), Annotation(verdict=t["verdict"], masks=masks))
            )
    create_version(project, "v1", "bench")
    return project


def _floor(project: Project, n: int, out: Path) -> float:
    files = sorted((project.root.parent / "src" / "metal").glob("*.jpg"))
    out.mkdir()
    m = cv2.getRotationMatrix2D((400, 300), 7.0, 1.05)
    t0 = time.perf_counter()
    for k in range(n):
        img = cv2.imread(str(files[k % len(files)]))
        cv2.imwrite(str(out / f"{k}.png"), cv2.warpAffine(img, m, (800, 600)))
    return n / (time.perf_counter() - t0)


def _augment(project: Project, name: str, seed: int, ratio: float, **kw) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = augment_version(
        project,
        "v1",
        "default",
        name,
        "bench",
        to_ratio=ratio,
        seed=seed,
        max_per_source=1000,
        **kw,
    )
    return r["synthetic"] / (time.perf_counter() - t0), r["synthetic"]


def run(quick: bool) -> list[Figure]:
    ratio = 0.1 if quick else 0.02  # 3 good train images: 30 or 150 defect images a class
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp))
        pool_rate, n = _augment(project, "pool", 1, ratio, workers=2)
        floor = _floor(project, n, Path(tmp) / "floor")
        figs = [
            Figure(
                f"augment {n} images, 2 worker processes",
                round(pool_rate, 2),
                "images/s",
                "cv2.warpAffine + cv2.imwrite alone",
                round(floor, 2),
            )
        ]
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            return figs
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.submit(np.zeros, 1).result()  # workers up before the clock starts
            dask_rate, _ = _augment(project, "dask", 2, ratio, executor=client.get_executor())
        figs.append(
            Figure(
                f"augment {n} images, Dask LocalCluster (2 workers)",
                round(dask_rate, 2),
                "images/s",
                "cv2.warpAffine + cv2.imwrite alone",
                round(floor, 2),
            )
        )
        return figs
