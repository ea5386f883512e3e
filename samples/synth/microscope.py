"""samples/microscope/: a five-slice focus stack of a tilted, grainy metal surface.

The surface height rises from left to right, so slice z_k is sharp in the k-th vertical
band and increasingly blurred away from it; focus stacking must pick each band from its
own slice. Each slice's ground truth names its sharp band.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .common import rng_for, smooth_noise, to_u8, write_png

W, H, SLICES = 400, 300, 5
MM_PER_PX = 0.002
SIGMAS = (0.0, 0.7, 1.4, 2.4, 3.6, 5.0, 7.0)
BLUR_PER_SLICE = 2.4  # px of blur sigma per slice of defocus


def scene(rng) -> np.ndarray:
    """All-in-focus surface: grain boundaries, polishing lines and inclusions."""
    shape = (H, W)
    # etched grains: flat patches with crisp dark boundaries, as under a metallograph
    levels = np.digitize(smooth_noise(rng, shape, 7), [-1.0, -0.4, 0.0, 0.4, 1.0])
    img = (95 + 22 * levels).astype(np.float32)
    edge = cv2.morphologyEx(levels.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((2, 2)))
    img[edge > 0] = 55
    img += 10 * cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 0.7)
    for _ in range(40):  # polishing lines
        x0, y0 = rng.uniform(0, W), rng.uniform(0, H)
        a = rng.uniform(-0.3, 0.3)
        p1 = (int(x0 - 60 * np.cos(a)), int(y0 - 60 * np.sin(a)))
        p2 = (int(x0 + 60 * np.cos(a)), int(y0 + 60 * np.sin(a)))
        cv2.line(img, p1, p2, float(rng.choice([90, 200])), 1)
    for _ in range(60):  # dark inclusions
        cv2.circle(img, (int(rng.uniform(0, W)), int(rng.uniform(0, H))),
                   int(rng.integers(1, 4)), 40.0, -1)
    return img.astype(np.float32)


def slice_at(sharp: np.ndarray, depth: np.ndarray, z: int) -> np.ndarray:
    """Defocus blur growing with |depth - z|, blended between precomputed blur levels."""
    want = np.abs(depth - z) * BLUR_PER_SLICE
    levels = [sharp if s == 0 else cv2.GaussianBlur(sharp, (0, 0), s) for s in SIGMAS]
    out = np.zeros_like(sharp)
    for i in range(len(SIGMAS) - 1):
        lo, hi = SIGMAS[i], SIGMAS[i + 1]
        sel = (want >= lo) & (want < hi)
        f = ((want - lo) / (hi - lo))[sel]
        out[sel] = levels[i][sel] * (1 - f) + levels[i + 1][sel] * f
    out[want >= SIGMAS[-1]] = levels[-1][want >= SIGMAS[-1]]
    return out


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    rng = rng_for("microscope/stack01", seed)
    sharp = scene(rng)
    xx = np.arange(W, dtype=np.float32)[None, :].repeat(H, 0)
    depth = (xx + 0.5) / W * SLICES - 0.5  # z = 0 at the left edge band, 4 at the right
    files, names = {}, []
    band = W // SLICES
    for z in range(SLICES):
        name = f"microscope/stack01_z{z}.png"
        img = slice_at(sharp, depth, z) + rng.normal(0, 0.8, (H, W))
        write_png(out / name, to_u8(img))
        files[name] = {
            "width": W, "height": H, "verdict": None, "taxonomy": None,
            "source": "microscope", "mm_per_px": MM_PER_PX, "group": "microscope/stack01",
            "focus": {"z": z, "sharp_region": [z * band, 0, band, H]},
            "fields": {"stack": "stack01", "z": str(z)}, "boxes": [], "keypoints": [],
        }
        names.append(name)
    groups = {"microscope/stack01": {"kind": "focus-stack", "slices": names,
                                     "width": W, "height": H, "z_step_um": 20}}
    return files, groups
