"""QA report on dual-annotated images with 5 boxes each, beside pycocotools' COCOeval
over the same pairs (A as ground truth, B as detections) in the same run."""

from __future__ import annotations

import contextlib
import io
import random

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from qclabel.core.model import Annotation, Box
from qclabel.project import DEFAULT_QA
from qclabel.qa.report import DualPair, compute_report

from .common import Figure, timed

CLASSES = ["scratch", "dent", "crack", "porosity", "burr", "contamination"]


def _jitter(rng: random.Random) -> float:
    """B's box edges off A's by a couple of pixels, as two careful annotators are."""
    return rng.gauss(0, 2.0)


def synthetic_pairs(n: int, seed: int = 0) -> list[DualPair]:
    """A draws 5 boxes; B jitters them, sometimes swaps a class, drops or adds one."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a_boxes, b_boxes = [], []
        for k in range(5):
            cls = rng.choice(CLASSES)
            x, y, w, h = (
                rng.uniform(0, 900),
                rng.uniform(0, 700),
                rng.uniform(8, 80),
                rng.uniform(8, 80),
            )
            a_boxes.append(Box(cls, x, y, w, h, id=f"a{k}"))
            r = rng.random()
            if r < 0.03:
                continue  # B missed it
            b_cls = rng.choice(CLASSES) if r < 0.06 else cls
            b_boxes.append(
                Box(
                    b_cls,
                    x + _jitter(rng),
                    y + _jitter(rng),
                    max(1, w + _jitter(rng)),
                    max(1, h + _jitter(rng)),
                    id=f"b{k}",
                )
            )
        if rng.random() < 0.03:
            b_boxes.append(Box(rng.choice(CLASSES), 10, 10, 20, 20, id="extra"))
        a = Annotation(verdict="fail", defect_class=a_boxes[0].cls, boxes=tuple(a_boxes))
        b = Annotation(verdict="fail", defect_class=a_boxes[0].cls, boxes=tuple(b_boxes))
        out.append(DualPair(f"img{i:06d}", "ann1", "ann2", a, b))
    return out


def coco_of(pairs: list[DualPair]) -> tuple[dict, list[dict]]:
    cat = {c: i + 1 for i, c in enumerate(CLASSES)}
    gt = {
        "images": [],
        "annotations": [],
        "categories": [{"id": i, "name": c} for c, i in cat.items()],
    }
    dets, ann_id = [], 0
    for n, p in enumerate(pairs, start=1):
        gt["images"].append({"id": n, "width": 1000, "height": 800})
        for b in p.a.boxes:
            ann_id += 1
            gt["annotations"].append(
                {
                    "id": ann_id,
                    "image_id": n,
                    "category_id": cat[b.cls],
                    "bbox": [b.x, b.y, b.w, b.h],
                    "area": b.w * b.h,
                    "iscrowd": 0,
                }
            )
        dets += [
            {"image_id": n, "category_id": cat[b.cls], "bbox": [b.x, b.y, b.w, b.h], "score": 1.0}
            for b in p.b.boxes
        ]
    return gt, dets


def run_cocoeval(gt: dict, dets: list[dict]) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()


def run(quick: bool) -> list[Figure]:
    n = 1_000 if quick else 10_000
    pairs = synthetic_pairs(n)
    gt, dets = coco_of(pairs)
    report_ms = min(
        timed(lambda: compute_report(pairs, CLASSES, DEFAULT_QA), 1 if not quick else 2)
    )
    coco_ms = min(timed(lambda: run_cocoeval(gt, dets), 1 if not quick else 2))
    return [
        Figure(
            f"qa report, {n} dual images x 5 boxes",
            report_ms,
            "ms",
            "pycocotools COCOeval evaluate+accumulate",
            coco_ms,
            "target: ratio <= 0.5",
        )
    ]
