"""Masks: the QA report on dual images with 3 instance masks each beside pycocotools'
COCOeval(iouType="segm") on the same pairs; COCO segmentation export of many masks
(region RLE -> whole-image RLE -> JSON) beside json.dumps of the same ready RLEs."""

from __future__ import annotations

import contextlib
import io
import json
import random

import cv2
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from qclabel.core.mask import Mask
from qclabel.core.model import Annotation
from qclabel.formats.masks_coco import segmentation
from qclabel.project import DEFAULT_QA
from qclabel.qa.report import DualPair, compute_report

from .common import Figure, timed

CLASSES = ["scratch", "crack", "porosity"]
W, H = 1000, 800


def blob(rng: random.Random, cls: str, jitter: float = 0.0) -> Mask:
    region = np.zeros((64, 64), np.uint8)
    cx, cy = 32 + rng.gauss(0, jitter), 32 + rng.gauss(0, jitter)
    axes = (int(rng.uniform(6, 28)), int(rng.uniform(3, 20)))
    cv2.ellipse(region, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 1, -1)
    return Mask.from_array(cls, region, int(rng.uniform(0, W - 64)), int(rng.uniform(0, H - 64)))


def synthetic_pairs(n: int, seed: int = 0) -> list[DualPair]:
    """A paints 3 masks; B paints the same defects slightly differently (its own jitter
    of the same shape), sometimes misses one or calls it another class."""
    out = []
    for i in range(n):
        a_masks, b_masks = [], []
        for k in range(3):
            cls = CLASSES[k]
            state = random.Random(seed * 1_000_003 + i * 7 + k)
            a = blob(random.Random(state.random()), cls)
            b = blob(random.Random(state.random()), cls, jitter=1.5)
            b = Mask(b.cls, b.rle, a.left, a.top, b.width, b.height, id=f"b{k}")
            a_masks.append(Mask(a.cls, a.rle, a.left, a.top, a.width, a.height, id=f"a{k}"))
            if state.random() > 0.03:
                b_masks.append(b)
        a_ann = Annotation(verdict="fail", masks=tuple(a_masks))
        b_ann = Annotation(verdict="fail", masks=tuple(b_masks))
        out.append(DualPair(f"img{i:06d}", "ann1", "ann2", a_ann, b_ann))
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
        gt["images"].append({"id": n, "width": W, "height": H})
        for m in p.a.masks:
            ann_id += 1
            gt["annotations"].append(
                {
                    "id": ann_id,
                    "image_id": n,
                    "category_id": cat[m.cls],
                    "segmentation": m.coco_rle(W, H),
                    "area": m.area,
                    "bbox": list(m.bbox),
                    "iscrowd": 0,
                }
            )
        dets += [
            {
                "image_id": n,
                "category_id": cat[m.cls],
                "segmentation": m.coco_rle(W, H),
                "score": 1.0,
            }
            for m in p.b.masks
        ]
    return gt, dets


def run_cocoeval(gt: dict, dets: list[dict]) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(dets), "segm")
        ev.evaluate()
        ev.accumulate()


def export_doc(masks: list[Mask]) -> str:
    anns = [
        {
            "id": n,
            "image_id": 1,
            "category_id": 1,
            "bbox": list(m.bbox),
            "area": m.area,
            "iscrowd": 0,
            "segmentation": segmentation(m, W, H),
        }
        for n, m in enumerate(masks, start=1)
    ]
    return json.dumps({"annotations": anns}, sort_keys=True, separators=(",", ":"))


def run(quick: bool) -> list[Figure]:
    n = 1_000 if quick else 10_000
    pairs = synthetic_pairs(n)
    gt, dets = coco_of(pairs)
    report_ms = min(timed(lambda: compute_report(pairs, CLASSES, DEFAULT_QA), 1))
    coco_ms = min(timed(lambda: run_cocoeval(gt, dets), 1))
    k = 5_000 if quick else 100_000
    rng = random.Random(1)
    masks = [blob(rng, "scratch") for _ in range(k)]
    ready = [
        {
            "id": n,
            "image_id": 1,
            "category_id": 1,
            "bbox": list(m.bbox),
            "area": m.area,
            "iscrowd": 0,
            "segmentation": m.coco_rle(W, H),
        }
        for n, m in enumerate(masks, start=1)
    ]
    export_ms = min(timed(lambda: export_doc(masks), 1))
    dumps_ms = min(
        timed(lambda: json.dumps({"annotations": ready}, sort_keys=True, separators=(",", ":")), 1)
    )
    return [
        Figure(
            f"qa report, {n} dual images x 3 masks",
            report_ms,
            "ms",
            "pycocotools COCOeval segm evaluate+accumulate",
            coco_ms,
            "target: ratio <= 1",
        ),
        Figure(
            f"coco segm export, {k} masks (region RLE -> JSON)",
            export_ms,
            "ms",
            "json.dumps of the same ready RLEs",
            dumps_ms,
            "target: ratio <= 30",
        ),
    ]
