"""samples/linescan/: one long rolled-steel part scanned by a line camera in four strips.

`partA_seg01.png` .. `partA_seg04.png` are consecutive 1024x256 strips with no overlap
(the metal-stamping line-scan profile stitches with overlap_px = 0); stacked top to bottom
they give the 1024x1024 part. A crack crosses the seg01/seg02 boundary and a scratch the
seg02/seg03 boundary, so a labeler working per segment sees only halves.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from . import metal
from .common import aa_polyline, bbox, box_entry, brushed, rng_for, smooth_noise, to_u8, \
    write_png

W, SEG_H, SEGMENTS, OVERLAP = 1024, 256, 4, 0
H = SEG_H * SEGMENTS
MM_PER_PX = 0.1


def part(rng) -> tuple[np.ndarray, list[tuple[str, str, np.ndarray]]]:
    shape = (H, W)
    xx = np.arange(W, dtype=np.float32)[None, :]
    strip = (xx > 70) & (xx < W - 70)
    # rolling marks run along the scan direction; each pixel column has its own gain
    grey = 150 + brushed(rng, shape, 90, length=121, amp=4)
    grey *= 1 + 0.03 * smooth_noise(rng, (1, W), 3)
    grey += 10 * np.cos(np.linspace(-1.3, 1.3, W))[None, :]  # line-light falloff
    grey = np.where(strip, grey, 30.0)
    found = []
    crack = metal._random_walk(rng, (420.0, 205.0), 14, 7.5, 0.35, np.pi / 2 - 0.2)
    cov = aa_polyline(shape, crack, 2)
    grey += -100 * cov - 20 * cv2.GaussianBlur(cov, (0, 0), 1.5)
    found.append(("crack", "critical", cov > 0.2))
    line = [(700 + 40 * t, 440 + 150 * t) for t in np.linspace(0, 1, 20)]
    cov = aa_polyline(shape, line, 1)
    grey += 75 * cov + 25 * cv2.GaussianBlur(cov, (0, 0), 1.2)
    found.append(("scratch", "major", cov > 0.2))
    d = metal.porosity(rng, shape, (300.0, 880.0))
    grey += d.add
    found.append(("porosity", d.severity, d.footprint))
    grey += rng.normal(0, 1.0, shape)
    return to_u8(grey), found


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    img, found = part(rng_for("linescan/partA", seed))
    files, segs = {}, []
    for i in range(SEGMENTS):
        name = f"linescan/partA_seg{i + 1:02d}.png"
        y0 = i * SEG_H
        write_png(out / name, img[y0:y0 + SEG_H])
        boxes = []
        for cls, sev, fp in found:  # each segment's share of the defects, in its own pixels
            piece = fp[y0:y0 + SEG_H]
            if piece.sum() >= 6:
                boxes.append(box_entry(cls, bbox(piece), sev))
        files[name] = {
            "width": W, "height": SEG_H, "verdict": "fail" if boxes else "pass",
            "taxonomy": "metal-stamping", "source": "line-scan", "mm_per_px": MM_PER_PX,
            "fields": {"part": "partA", "seq": f"{i + 1:02d}"}, "group": "linescan/partA",
            "offset": [0, y0], "boxes": boxes, "keypoints": [],
        }
        segs.append(name)
    group = {"linescan/partA": {
        "kind": "stitch", "segments": segs, "axis": "y", "overlap_px": OVERLAP,
        "width": W, "height": H, "verdict": "fail", "taxonomy": "metal-stamping",
        "source": "line-scan", "mm_per_px": MM_PER_PX,
        "boxes": [box_entry(cls, bbox(fp), sev) for cls, sev, fp in found], "keypoints": [],
    }}
    return files, group
