"""Projects with real masks: the bundled sample images and their mask ground truth.

- metal: the 12 metal-stamping JPEGs (instance masks: scratches, cracks, pores ...),
  labeled by alice from the ground truth; one mask is re-drawn as a polygon, and one
  clean image gets a dent with a hole and a second part (for YOLO's bridging).
- paint: the 4 painted panels (semantic: one layer per class), labeled by alice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np

from qclabel.core.edits import Change
from qclabel.core.mask import Mask
from qclabel.core.model import Annotation
from qclabel.ingest import ingest_paths
from qclabel.project import Project

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]


def truth_masks(rel: str) -> tuple[Mask, ...]:
    return tuple(
        Mask.from_dict({**m, "id": f"gt{n}"}) for n, m in enumerate(TRUTH[rel].get("masks", []))
    )


def holey_dent() -> Mask:
    """A ring (with a hole) plus a separate blob: one instance, two parts."""
    a = np.zeros((600, 800), np.uint8)
    cv2.circle(a, (300, 300), 40, 1, -1)
    cv2.circle(a, (300, 300), 15, 0, -1)
    cv2.circle(a, (420, 310), 18, 1, -1)
    return Mask.from_array("dent", a, severity="major", id="holey")


def make_mask_project(
    tmp: Path, which: str = "metal", user: str = "alice", copy_to: str = "src"
) -> Project:
    taxonomy = {"metal": "metal-stamping", "paint": "painted-panel"}[which]
    profile = {"metal": "area-scan", "paint": "paint-booth"}[which]
    src = tmp / f"{copy_to}-{which}"
    shutil.copytree(SAMPLES / which, src / which)
    project = Project.init(tmp / f"proj-{which}", taxonomy, user="admin")
    report = ingest_paths(project, [src], profile=profile, workers=1)
    assert not report.failed, report.failed
    labels = {}
    for rec in project.store.catalog.all():
        rel = f"{which}/{Path(rec.source).name}"
        masks = truth_masks(rel)
        labels[rec.id] = Annotation(verdict="fail" if masks else "pass", masks=masks)
    if which == "metal":
        _add_drawn_shapes(project, labels)
    with project.store.open_session(user) as s:
        for image, ann in labels.items():
            s.commit(Change(image, s.annotation(image), ann))
    return project


def _add_drawn_shapes(project: Project, labels: dict[str, Annotation]) -> None:
    by_name = {Path(r.source).name: r.id for r in project.store.catalog.all()}
    clean = by_name["P1001_L07_S2_cam1_0002.jpg"]
    labels[clean] = Annotation(verdict="fail", masks=(holey_dent(),))
    drawn = by_name["P1001_L07_S2_cam1_0001.jpg"]
    poly = Mask.from_polygons(
        "dent",
        [(500.0, 400.0, 560.5, 405.0, 550.0, 452.0, 505.0, 440.0)],
        severity="minor",
        id="drawn",
    )
    ann = labels[drawn]
    labels[drawn] = Annotation(verdict="fail", masks=ann.masks + (poly,))


def all_masks(project: Project, user: str = "alice") -> dict[str, tuple[Mask, ...]]:
    """image file name -> masks of `user`."""
    state = project.store.state(user)
    return {
        Path(project.store.catalog.get(i).source).name: a.masks
        for i, a in state.annotations().items()
    }
