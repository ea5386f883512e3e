"""Helpers for the QA tests: real projects with real image files, labeled through
annotator sessions (the journals on disk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from qclabel.core import edits
from qclabel.core.model import Annotation
from qclabel.ingest import ingest_paths
from qclabel.project import Project


def write_images(folder: Path, n: int, size: tuple[int, int] = (32, 24)) -> Path:
    """n small distinct PNG files (distinct pixels, so distinct ids)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        im = Image.new("L", size, 0)
        im.putpixel((i % 32, (i // 32) % 24), 255)
        im.putpixel((31 - i % 32, 23), (i * 7) % 256)
        im.save(folder / f"part_{i:04d}.png")
    return folder


def qa_project(
    root: Path,
    n: int = 10,
    annotators=("ann1", "ann2"),
    reviewers=("rev",),
    adjudicators=("adj",),
    size: tuple[int, int] = (32, 24),
    **qa: Any,
) -> Project:
    project = Project.init(root / "proj", "metal-stamping", user="admin")
    for role, users in (
        ("annotator", annotators),
        ("reviewer", reviewers),
        ("adjudicator", adjudicators),
    ):
        for u in users:
            project.add_role("admin", u, role)
    project.config["qa"].update(qa)
    project.save_config()
    ingest_paths(project, [write_images(root / "images", n, size)])
    return Project.open(project.root)


def set_fields(project: Project, values: dict[str, dict[str, str]]) -> Project:
    """Give catalog images ingest fields (lot, station, task, ...)."""
    cat = project.store.catalog
    recs = [r for r in cat.all() if r.id in values]
    from dataclasses import replace

    cat.update(replace(r, fields={**r.fields, **values[r.id]}) for r in recs)
    return Project.open(project.root)


def label(project: Project, user: str, image: str, *steps) -> Annotation:
    with project.store.open_session(user) as s:
        change = edits.apply(image, s.annotation(image), *steps)
        s.commit(change)
    return change.after


def aql_lots_project(tmp_path, per_lot: int) -> Project:
    """Two lots (L1, L2) of `per_lot` images each, labeled pass by ann1 alone, sampled
    by AQL 10."""
    n = 2 * per_lot
    p = qa_project(tmp_path, n, annotators=("ann1",), dual_first_n=0, spot_check_by="aql", aql=10)
    ids = p.store.catalog.ids()
    p = set_fields(p, {i: {"lot": "L1" if k < per_lot else "L2"} for k, i in enumerate(ids)})
    with p.store.open_session("ann1") as s:
        for i in ids:
            s.commit(edits.apply(i, s.annotation(i), edits.set_verdict("pass")))
    return p
