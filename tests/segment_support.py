"""Shared fixtures of the segmentation-mode tests: real sample images ingested into a
real project on disk, and key drivers for the cursor."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from test_box_screen import goto, jump_keys  # noqa: F401  (re-exported drivers)
from test_tui_support import settle

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def sample_project(tmp: Path, which: str = "paint") -> Project:
    taxonomy = {"metal": "metal-stamping", "paint": "painted-panel"}[which]
    profile = {"metal": "area-scan", "paint": "paint-booth"}[which]
    src = tmp / f"src-{which}"
    shutil.copytree(SAMPLES / which, src / which)
    project = Project.init(tmp / f"proj-{which}", taxonomy, user="admin")
    with ThreadPoolExecutor(1) as pool:
        report = ingest_paths(project, [src], profile=profile, executor=pool)
    assert not report.failed, report.failed
    return Project.open(project.root)


def on_disk(project: Project, image: str):
    return Project.open(project.root).store.state("admin").annotation(image)


async def start(app, pilot):
    from qclabel.tui.screens.segment import SegmentScreen

    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, SegmentScreen), type(screen)
    screen.load_pixels_now()
    return screen
