"""samples/metal/: twelve area-scan JPEGs of stamped parts, three clean, nine defective.

Each defect has a box and a mask (its painted footprint: scratches, cracks, pore
clusters, dents, burrs, stains), in the same order."""

from __future__ import annotations

from pathlib import Path

from . import metal
from .common import rng_for, write_jpeg

# (part, lot, station, camera, defect classes); serial numbers run in this order.
PLAN = [
    ("P1001", "L07", "S2", "cam1", ["scratch", "dent"]),
    ("P1001", "L07", "S2", "cam1", []),
    ("P1001", "L07", "S2", "cam2", ["crack"]),
    ("P1001", "L07", "S2", "cam2", ["porosity", "scratch"]),
    ("P1001", "L08", "S2", "cam1", ["burr"]),
    ("P1001", "L08", "S2", "cam1", ["contamination", "contamination"]),
    ("P1002", "L08", "S3", "cam1", []),
    ("P1002", "L08", "S3", "cam1", ["dent", "porosity", "scratch"]),
    ("P1002", "L08", "S3", "cam2", ["crack", "burr"]),
    ("P1002", "L09", "S3", "cam2", ["scratch", "scratch", "contamination"]),
    ("P1002", "L09", "S1", "cam1", []),
    ("P1002", "L09", "S1", "cam1", ["dent", "burr", "porosity", "crack"]),
]


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    files = {}
    for serial, (part, lot, station, cam, classes) in enumerate(PLAN, start=1):
        name = f"metal/{part}_{lot}_{station}_{cam}_{serial:04d}.jpg"
        bgr, boxes, masks = metal.render_with_masks(rng_for(name, seed), classes)
        write_jpeg(out / name, bgr, quality=90)
        files[name] = {
            "width": metal.W, "height": metal.H, "verdict": "fail" if boxes else "pass",
            "taxonomy": "metal-stamping", "source": "area-scan", "mm_per_px": metal.MM_PER_PX,
            "fields": {"part": part, "lot": lot, "station": station, "camera": cam,
                       "serial": f"{serial:04d}"},
            "boxes": boxes, "keypoints": [], "masks": masks,
        }
    return files, {}
