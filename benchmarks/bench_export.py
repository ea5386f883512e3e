"""Export throughput: a synthetic 100k-image / 300k-box dataset version in every format,
beside plain `json.dumps` of the same labels written to one file (the floor: no
format can be cheaper than serializing its labels once).

The version manifest is built in memory (no ingest, no journals): what is measured is
the exporters. Label-only exports (`--images none`) isolate the label writing; TFRecord
embeds the images, and one YOLO run hard-links them, to show the cost of image files.
Everything runs in RAM (/dev/shm when present): the figures are the exporters' own
cost, not the speed of the disk the benchmark happens to run on.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from qclabel.formats import Dataset, export_dataset
from qclabel.project import Project

from .common import Figure

# A valid 1x1 grey PNG; bytes appended after IEND make every file (and hash) unique
# while every decoder still reads the image.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c63600000000200015df1d3e80000000049454e44ae426082")


def synthetic_manifest(root: Path, n_images: int, boxes_per_image: int = 3) -> dict:
    """A version manifest with images on disk and boxes spread over the taxonomy."""
    project = Project.init(root / "proj", "metal-stamping", user="bench")
    classes = project.taxonomy.class_names()
    rng = random.Random(0)
    img_dir = root / "images"
    img_dir.mkdir()
    images, labels, splits = [], {}, {}
    for n in range(n_images):
        data = TINY_PNG + n.to_bytes(4, "big")
        path = img_dir / f"part{n:06d}.png"
        path.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        iid = sha[:16]
        w, h = 2448, 2048
        images.append({"id": iid, "sha256": sha, "source": str(path), "file": str(path),
                       "width": w, "height": h, "channels": 1, "mode": "L",
                       "format": "PNG", "orientation": 1, "fields": {}})
        boxes = [{"cls": rng.choice(classes), "x": rng.uniform(0, w - 200),
                  "y": rng.uniform(0, h - 200), "w": rng.uniform(5, 200),
                  "h": rng.uniform(5, 200), "severity": None, "id": f"{n}-{k}"}
                 for k in range(boxes_per_image)]
        labels[iid] = {"annotation": {"verdict": "fail", "defect_class": None,
                                      "severity": None, "boxes": boxes, "keypoints": [],
                                      "checks": [], "flag": None, "skipped": False},
                       "status": "single", "annotators": ["bench"], "decided_by": None,
                       "labeled_at": "2026-01-01T00:00:00.000+00:00"}
        splits[iid] = "train" if n % 10 < 8 else ("val" if n % 10 == 8 else "test")
    return {"format": 1, "taxonomy": project.config["taxonomy"], "images": images,
            "labels": labels, "splits": splits, "hash": "0" * 64,
            "settings": {"min_status": "single", "split": [0.8, 0.1, 0.1],
                         "group_by": None, "seed": 0}, "qa": {}}


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def run(quick: bool) -> list[Figure]:
    n = 5_000 if quick else 100_000
    shm = Path("/dev/shm")
    root = Path(tempfile.mkdtemp(prefix="qclabel-bench-export-",
                                 dir=shm if shm.is_dir() else None))
    try:
        manifest = synthetic_manifest(root, n)
        n_boxes = sum(len(v["annotation"]["boxes"]) for v in manifest["labels"].values())
        floor_file = root / "floor.json"
        floor = _time(lambda: floor_file.write_text(json.dumps(manifest["labels"])))
        base = f"json.dumps of the labels ({n_boxes} boxes)"
        figures = []
        runs = [(f, "none", "detect") for f in ("yolo", "coco", "voc", "csv", "jsonl")]
        runs += [("tfrecord", "copy", "detect"), ("yolo", "hardlink", "detect")]
        for fmt, link, task in runs:
            out = root / f"out-{fmt}-{link}"
            ms = _time(lambda fmt=fmt, out=out, task=task, link=link: export_dataset(
                Dataset(manifest, root), fmt, out, task=task, link=link))
            what = "labels only" if link == "none" else f"labels + image files ({link})"
            figures.append(Figure(f"export {fmt} {n} images (images: {link})", ms, "ms",
                                  base, floor, f"{what}; includes loading the manifest"))
            shutil.rmtree(out, ignore_errors=True)
        return figures
    finally:
        shutil.rmtree(root, ignore_errors=True)
