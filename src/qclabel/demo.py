"""A throwaway copy of the bundled sample project, for `qclabel demo`."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .ingest import ingest_paths
from .paths import samples_dir
from .project import Project

# Sample folder -> bundled taxonomy: the demo project labels the metal parts.
DEMO_FOLDERS = ("metal",)


def make_demo_project(dest: Path | None = None) -> Project:
    """Copy the sample images into a fresh folder and ingest them."""
    root = Path(dest) if dest else Path(tempfile.mkdtemp(prefix="qclabel-demo-"))
    src = samples_dir()
    images = root / "images"
    for folder in DEMO_FOLDERS:
        shutil.copytree(src / folder, images / folder, dirs_exist_ok=True)
    project = Project.init(root / "project", "metal-stamping", name="demo")
    # The metal samples come from an area-scan station: its profile reads part, lot,
    # station and camera from the file names (queue filters such as lot=L07 use them)
    # and gives the mm/px calibration masks and minimum sizes are measured in.
    ingest_paths(project, [images], profile="area-scan")
    return project
