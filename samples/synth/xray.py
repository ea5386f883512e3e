"""samples/xray/: 16-bit radiographs of a cast hub with porosity voids.

Detector counts follow Beer-Lambert attenuation through the casting and sit in a narrow
window (about 20000..36000 of 0..65535), so a naive 16->8-bit display shows a flat grey
or white frame: the viewer must window the values. Voids remove material, so they show
as brighter (higher-count) spots inside the casting.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .common import bbox, box_entry, rng_for, smooth_noise

W, H = 640, 480
MM_PER_PX = 0.1
AIR, MU = 35600.0, 0.0158  # counts through air; effective attenuation per px
WINDOW = (20000, 36000)


def thickness(rng, shape) -> tuple[np.ndarray, tuple[float, float]]:
    """Material thickness (px) of a hub: rim, web with lightening holes, thick boss."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w / 2 + rng.uniform(-20, 20), h / 2 + rng.uniform(-15, 15)
    r = np.hypot(xx - cx, yy - cy)
    t = np.where(r < 215, 10.0, 0.0)                       # web
    t += np.where((r > 185) & (r < 215), 8.0, 0.0)         # rim
    t += np.where(r < 70, 14.0, 0.0)                       # boss
    t = np.where(r < 28, 0.0, t)                           # bore
    phase = rng.uniform(0, 2 * np.pi)
    for k in range(5):                                     # lightening holes
        ang = phase + k * 2 * np.pi / 5
        hx, hy = cx + 128 * np.cos(ang), cy + 128 * np.sin(ang)
        t = np.where(np.hypot(xx - hx, yy - hy) < 34, 0.0, t)
    t = cv2.GaussianBlur(t.astype(np.float32), (0, 0), 2.0)  # cast draft and fillets
    return t + 0.4 * smooth_noise(rng, shape, 12) * (t > 1), (cx, cy)


def voids(rng, t, n_clusters) -> tuple[np.ndarray, list[list[int]]]:
    """Gas pores in clusters inside thick material; returns missing thickness and boxes."""
    lost = np.zeros_like(t)
    boxes = []
    candidates = np.argwhere(cv2.erode((t > 9).astype(np.uint8), np.ones((41, 41))) > 0)
    while len(boxes) < n_clusters:
        cy, cx = candidates[int(rng.integers(len(candidates)))]
        cluster = np.zeros_like(t)
        for _ in range(int(rng.integers(3, 9))):
            px, py = cx + rng.normal(0, 9), cy + rng.normal(0, 7)
            rx, ry = rng.uniform(1.8, 5.5), rng.uniform(1.8, 4.5)
            pore = np.zeros(t.shape, np.uint8)
            cv2.ellipse(pore, (int(px * 16), int(py * 16)), (int(rx * 16), int(ry * 16)),
                        rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA, 4)
            cluster = np.maximum(cluster, pore.astype(np.float32) / 255 * 1.7 * rx)
        box = bbox(cluster > 0.3, pad=2)
        if any(abs(box[0] - b[0]) < 60 and abs(box[1] - b[1]) < 60 for b in boxes):
            continue
        boxes.append(box)
        lost = np.maximum(lost, cluster)
    return lost, boxes


def radiograph(rng, n_clusters) -> tuple[np.ndarray, list[list[int]]]:
    t, _ = thickness(rng, (H, W))
    lost, boxes = voids(rng, t, n_clusters)
    counts = AIR * np.exp(-MU * np.clip(t - lost, 0, None))
    counts *= 1 - 0.04 * ((np.mgrid[0:H, 0:W][1] - W / 2) / W) ** 2  # heel effect
    counts = cv2.GaussianBlur(counts.astype(np.float32), (0, 0), 0.8)  # detector blur
    counts += rng.normal(0, 1, counts.shape) * np.sqrt(counts) * 0.45  # quantum noise
    # a 14-bit detector scaled to 16 bit: values come in steps of 4
    img = (np.clip(counts, *WINDOW) // 4 * 4).astype(np.uint16)
    return img, boxes


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    files = {}
    for n, clusters in ((1, 3), (2, 2)):
        name = f"xray/hub_{n:03d}.tif"
        img, boxes = radiograph(rng_for(name, seed), clusters)
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        ok, buf = cv2.imencode(".tiff", img, [cv2.IMWRITE_TIFF_COMPRESSION, 8])  # deflate
        if not ok:
            raise RuntimeError(f"cannot encode {name}")
        (out / name).write_bytes(buf.tobytes())
        files[name] = {
            "width": W, "height": H, "verdict": "fail", "taxonomy": "metal-stamping",
            "source": "xray", "mm_per_px": MM_PER_PX, "bit_depth": 16,
            "value_range": [int(img.min()), int(img.max())],
            "fields": {"part": f"hub{n:03d}"},
            "boxes": [box_entry("porosity", b, "major")  # clusters of 3+ pores
                      for b in boxes],
            "keypoints": [],
        }
    return files, {}
