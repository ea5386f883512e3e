"""samples/paint/: painted body panels under a striped light tunnel, with semantic masks.

Paint defects are graded by area, so their ground truth is a mask per class (one layer
per class, as in a semantic segmentation task): runs (sags: a tongue of thick paint
with a dark lip), orange peel (a patch where the reflected light stripes ripple) and
thin spots (the grey primer shows through the colour coat).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .common import mask_entry, pts, rng_for, smooth_noise, write_jpeg

W, H = 640, 480
MM_PER_PX = 0.1
COAT = np.array([38, 40, 150], np.float32)     # BGR: a red top coat
PRIMER = np.array([150, 152, 150], np.float32)  # grey primer
PLAN = [("panel_0001.jpg", ["run", "orange-peel"]),
        ("panel_0002.jpg", ["thin-spot", "run", "thin-spot"]),
        ("panel_0003.jpg", ["orange-peel", "thin-spot", "run"]),
        ("panel_0004.jpg", [])]


def blob(rng, shape, centre, radius: float, rough: float = 0.35) -> np.ndarray:
    """An irregular patch: a disc whose edge wanders with smooth noise."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot(xx - centre[0], (yy - centre[1]) * 1.3) / radius
    return (d + rough * smooth_noise(rng, shape, radius / 3)) < 1.0


def run(rng, shape, centre) -> tuple[np.ndarray, np.ndarray]:
    """A sag: a tongue of paint flowing down from a line, ending in a thick lip."""
    cx, cy = centre
    width, length = rng.uniform(30, 60), rng.uniform(50, 110)
    ts = np.linspace(0, np.pi, 30)
    bottom = [(cx - width / 2 * np.cos(t), cy + length * (0.75 + 0.25 * np.sin(t)))
              for t in ts]
    outline = [(cx + width / 2, cy)] + bottom[::-1] + [(cx - width / 2, cy)]
    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [pts(outline)], 255, cv2.LINE_AA, shift=4)
    cover = canvas.astype(np.float32) / 255
    lip = cv2.GaussianBlur(cover, (0, 0), 2.0) - cv2.GaussianBlur(cover, (0, 0), 0.8)
    shading = -60 * np.clip(np.roll(lip, -3, axis=0), 0, None) * 4 + 18 * cover
    return cover > 0.5, shading


def render(rng, classes) -> tuple[np.ndarray, list[dict]]:
    shape = (H, W)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    shift = np.zeros(shape, np.float32)
    bumps = np.zeros(shape, np.float32)
    primer = np.zeros(shape, np.float32)
    extra = np.zeros(shape, np.float32)
    layers: dict[str, np.ndarray] = {}
    for i, cls in enumerate(classes):
        centre = (W * (0.2 + 0.6 * (i + rng.uniform(0.2, 0.8)) / len(classes)),
                  rng.uniform(0.25, 0.65) * H)
        if cls == "orange-peel":
            m = blob(rng, shape, centre, rng.uniform(45, 80))
            soft = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 3)
            shift += 7 * smooth_noise(rng, shape, 2.5) * soft
            bumps += 10 * smooth_noise(rng, shape, 1.5) * soft
        elif cls == "thin-spot":
            m = blob(rng, shape, centre, rng.uniform(18, 40), 0.25)
            alpha = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 2) * rng.uniform(0.45, 0.6)
            primer = np.maximum(primer, alpha)
            m = alpha > 0.2
        else:
            m, shading = run(rng, shape, centre)
            extra += shading
        layers[cls] = layers.get(cls, np.zeros(shape, bool)) | m
    light = 0.75 + 0.25 * np.exp(-((yy - 0.35 * H) ** 2) / (2 * (0.4 * H) ** 2))
    stripes = 0.5 + 0.5 * np.cos(2 * np.pi * (xx + 0.15 * yy + shift) / 48.0)
    glare = np.clip((stripes - 0.82) / 0.18, 0, 1) ** 1.5
    colour = COAT * (1 - primer[..., None]) + PRIMER * primer[..., None]
    bgr = colour * light[..., None] + (150 * glare + bumps + extra)[..., None]
    bgr += rng.normal(0, 1.5, bgr.shape).astype(np.float32)
    masks = [mask_entry(cls, layer) for cls, layer in layers.items()]
    return bgr, masks


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    files = {}
    for name, classes in PLAN:
        rel = f"paint/{name}"
        bgr, masks = render(rng_for(rel, seed), classes)
        write_jpeg(out / rel, bgr, quality=90)
        files[rel] = {"width": W, "height": H, "verdict": "fail" if masks else "pass",
                      "taxonomy": "painted-panel", "source": "paint-booth",
                      "mm_per_px": MM_PER_PX, "boxes": [], "keypoints": [], "masks": masks}
    return files, {}
