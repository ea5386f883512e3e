"""The QA report's comparisons on an executor (local processes, a Dask LocalCluster)
give the same report as inline, disagreements in the same order."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from qclabel.core.mask import Mask
from qclabel.core.model import Annotation, Box
from qclabel.project import DEFAULT_QA
from qclabel.qa.report import DualPair, ReportCancelled, compute_report

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]
CLASSES = ["scratch", "dent", "crack", "porosity", "burr", "contamination"]


def _same(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k != "generated"} == {
        k: v for k, v in b.items() if k != "generated"
    }


def _duals() -> list[DualPair]:
    out = []
    for n, (rel, t) in enumerate(sorted(TRUTH.items())):
        if not rel.startswith("metal/"):
            continue
        masks = tuple(
            Mask.from_dict({**m, "id": f"m{k}"}) for k, m in enumerate(t.get("masks", []))
        )
        boxes = tuple(
            Box(b["cls"], b["x"], b["y"], b["w"], b["h"], id=f"b{k}")
            for k, b in enumerate(t.get("boxes", []))
        )
        a = Annotation(verdict=t["verdict"], masks=masks, boxes=boxes)
        # B shifts every second image's boxes and drops a mask on every third.
        b_boxes = tuple(bx.moved(6 if n % 2 else 0, 0) for bx in boxes)
        b = replace(a, boxes=b_boxes, masks=masks[1:] if n % 3 == 0 else masks)
        for copy in range(4):
            out.append(DualPair(f"{rel}#{copy}", "ann1", "ann2", a, b))
    return out


def test_process_pool_gives_the_same_report():
    duals = _duals()
    inline = compute_report(duals, CLASSES, DEFAULT_QA)
    assert inline["disagreements"]
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        assert _same(compute_report(duals, CLASSES, DEFAULT_QA, executor=pool), inline)
        with pytest.raises(ReportCancelled):
            compute_report(duals, CLASSES, DEFAULT_QA, executor=pool, cancel=lambda: True)


def test_dask_local_cluster_gives_the_same_report():
    distributed = pytest.importorskip("distributed")
    duals = _duals()
    inline = compute_report(duals, CLASSES, DEFAULT_QA)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = compute_report(duals, CLASSES, DEFAULT_QA, executor=client.get_executor())
    assert _same(remote, inline)
