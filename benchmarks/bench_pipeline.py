"""Production QA at scale: a `pipeline run` with nothing new beside `status` on the same
project, and the acceptance-sampling plan beside the plain spot-check plan."""

from __future__ import annotations

import tempfile
from pathlib import Path

from qclabel.core.edits import Change
from qclabel.core.model import Annotation, ImageRecord
from qclabel.pipeline import run as pipeline_run
from qclabel.project import Project
from qclabel.qa.plan import build_plan
from qclabel.status import project_status

from .common import Figure, timed

LOTS = 20


def make_project(root: Path, n: int) -> Project:
    """n catalog images in LOTS lots, each labeled once by one annotator (no files:
    nothing here reads pixels)."""
    p = Project.init(root / "proj", "metal-stamping", user="admin")
    p.add_role("admin", "ann1", "annotator")
    p.add_role("admin", "rev", "reviewer")
    p.config["qa"].update(dual_first_n=0, spot_check_by="aql", aql=1.0)
    p.config["pipeline"] = {"version_prefix": "bench"}
    p.save_config()
    p.store.catalog.add(
        ImageRecord(
            f"{i:016x}",
            f"{i:064x}",
            f"/none/{i}.png",
            f"/none/{i}.png",
            800,
            600,
            fields={"lot": f"L{i % LOTS:02d}"},
        )
        for i in range(n)
    )
    with p.store.open_session("ann1") as s:
        s.commit_many(
            [Change(i, Annotation(), Annotation(verdict="pass")) for i in p.store.catalog.ids()]
        )
    return Project.open(p.root)


def run(quick: bool) -> list[Figure]:
    n = 500 if quick else 5_000
    with tempfile.TemporaryDirectory() as tmp:
        p = make_project(Path(tmp), n)
        pipeline_run(p, "admin")  # the first run publishes and creates bench-0001
        noop = min(timed(lambda: pipeline_run(Project.open(p.root), "admin"), 2))
        status = min(timed(lambda: project_status(Project.open(p.root)), 2))
        aql = min(timed(lambda: build_plan(Project.open(p.root)), 2))
        p.config["qa"]["spot_check_by"] = "lot"
        p.save_config()
        plain = min(timed(lambda: build_plan(Project.open(p.root)), 2))
    return [
        Figure(
            f"pipeline run, nothing new, {n} labeled images",
            noop,
            "ms",
            "qclabel status of the same project",
            status,
        ),
        Figure(
            f"acceptance-sampling plan, {n} images in {LOTS} lots",
            aql,
            "ms",
            "spot-check plan per lot (rate 0.12)",
            plain,
        ),
    ]
