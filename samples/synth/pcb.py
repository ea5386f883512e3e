"""samples/pcb/: AOI views of a board: green solder mask, copper pads, chip parts and an
SOIC, with every solder joint boxed and graded good / cold / bridged / insufficient."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .common import box_entry, rng_for, smooth_noise, to_u8, write_png

W, H = 640, 480
MM_PER_PX = 0.02
MASK = np.array([58, 118, 36], np.float32)    # BGR solder-mask green
TRACE = np.array([70, 140, 52], np.float32)   # copper under the mask shows lighter
COPPER = np.array([70, 140, 205], np.float32)
SILVER = np.array([1.0, 1.0, 0.97], np.float32)


def silk_mark(img: np.ndarray, x: int, y: int, w: int = 26, h: int = 11) -> None:
    """A component outline in silkscreen white, one pixel wide."""
    white = (235, 235, 235)
    img[y, x:x + w] = img[y + h - 1, x:x + w] = white
    img[y:y + h, x] = img[y:y + h, x + w - 1] = white


def rect_alpha(shape, x, y, w, h, soft=0.8) -> np.ndarray:
    a = np.zeros(shape[:2], np.float32)
    a[int(y):int(y + h), int(x):int(x + w)] = 1.0
    return cv2.GaussianBlur(a, (0, 0), soft) if soft else a


def paint(img, alpha, colour) -> None:
    a = alpha[..., None]
    img *= 1 - a
    img += a * colour


def ramp(shape, rect, toward: str) -> np.ndarray:
    """0 at the component terminal, 1 at the far edge of the pad."""
    x, y, w, h = rect
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    t = {"left": (xx - x) / w, "right": (x + w - xx) / w,
         "up": (yy - y) / h, "down": (y + h - yy) / h}[toward]
    return np.clip(t, 0, 1)


def joint(img, rng, rect, toward, grade) -> None:
    """One solder joint on its pad; `toward` is the side where the terminal sits."""
    shape = img.shape
    x, y, w, h = rect
    pad = rect_alpha(shape, x, y, w, h)
    paint(img, pad, COPPER)
    t = ramp(shape, rect, toward)
    if grade in ("good", "bridged"):  # concave wetted fillet with a specular band
        g = 110 + 110 * (1 - t) ** 3 + 90 * np.exp(-((t - 0.3) / 0.06) ** 2)
        g += 3 * smooth_noise(rng, shape, 2)
        paint(img, pad * 0.97, 0)
        img += (pad * 0.97)[..., None] * g[..., None] * SILVER
    elif grade == "cold":  # dull, grainy, lumpy blob that did not wet the whole pad
        cx, cy = x + w / 2, y + h / 2
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
        d = np.hypot((xx - cx) / (0.42 * w), (yy - cy) / (0.42 * h))
        blob = np.clip((1 - d + 0.25 * smooth_noise(rng, shape, 2.5)) * 4, 0, 1) * pad
        grain = 22 * cv2.GaussianBlur(rng.standard_normal(shape[:2]).astype(np.float32),
                                      (0, 0), 0.8)
        g = 118 + 25 * (1 - d).clip(0, 1) + grain
        paint(img, blob, 0)
        img += blob[..., None] * g[..., None]  # grey: no shine, no tint
    elif grade == "insufficient":  # copper left bare; a thin fillet at the terminal only
        fil = pad * (t < 0.22)
        fil = cv2.GaussianBlur(fil.astype(np.float32), (0, 0), 1.0)
        g = 160 + 60 * (1 - t / 0.22).clip(0, 1)
        paint(img, fil, 0)
        img += fil[..., None] * g[..., None] * SILVER


def bridge(img, rng, r1, r2) -> list[int]:
    """A solder bridge spanning two neighbouring pads; returns its box."""
    x0, y0 = min(r1[0], r2[0]), min(r1[1], r2[1])
    x1 = max(r1[0] + r1[2], r2[0] + r2[2])
    y1 = max(r1[1] + r1[3], r2[1] + r2[3])
    shape = img.shape
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    d = np.hypot((xx - cx) / ((x1 - x0) * 0.5), (yy - cy) / ((y1 - y0) * 0.32))
    blob = np.clip((1 - d + 0.1 * smooth_noise(rng, shape, 3)) * 5, 0, 1)
    g = 150 + 70 * (1 - d).clip(0, 1) ** 0.5 + 60 * np.exp(-(((xx - cx + 6) ** 2
                                                             + (yy - cy + 4) ** 2) / 30))
    paint(img, blob, 0)
    img += blob[..., None] * g[..., None] * SILVER
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def chip(img, rng, cx, cy, grades, body_colour, boxes) -> None:
    """A two-terminal chip part (resistor/capacitor), horizontal, with its two joints."""
    bw, bh, ph, out = 96, 48, 60, 26  # `out`: how far each pad reaches beyond the body
    left = (cx - bw / 2 - out, cy - ph / 2, out, ph)   # the visible part of each pad
    right = (cx + bw / 2, cy - ph / 2, out, ph)
    for px in (left[0], right[0] - 18):  # each pad runs 18 px under the body
        paint(img, rect_alpha(img.shape, px, cy - ph / 2, out + 18, ph), COPPER)
    for rect, toward, grade in ((left, "right", grades[0]), (right, "left", grades[1])):
        joint(img, rng, rect, toward, grade)
    paint(img, rect_alpha(img.shape, cx - bw / 2, cy - bh / 2, bw, bh, 1.0), body_colour)
    for ex in (cx - bw / 2, cx + bw / 2 - 14):  # tinned end caps
        paint(img, rect_alpha(img.shape, ex, cy - bh / 2, 14, bh, 0.8), np.float32(185))
    for rect, grade in ((left, grades[0]), (right, grades[1])):
        boxes.append(box_entry(grade, rect, None if grade == "good" else "defect"))


def soic(img, rng, cx, cy, grades, bridge_at, boxes) -> None:
    """SOIC-8: four gull-wing leads on each long side, pads under the lead feet."""
    bw, bh, pitch, pw, ph = 176, 104, 42, 24, 44
    pads = []
    for side, sy in (("top", cy - bh / 2 - 12 - ph), ("bottom", cy + bh / 2 + 12)):
        for i in range(4):
            px = cx + (i - 1.5) * pitch - pw / 2
            pads.append(((px, sy, pw, ph), "down" if side == "top" else "up"))
    for (rect, toward), grade in zip(pads, grades):
        joint(img, rng, rect, toward, "good" if grade == "bridged" else grade)
    bridged = bridge(img, rng, pads[bridge_at][0], pads[bridge_at + 1][0]) \
        if bridge_at is not None else None
    for (rect, toward) in pads:  # leads from the body onto the inner half of each pad
        lx = rect[0] + pw / 2 - 7
        ly0, ly1 = (rect[1] + ph * 0.45, cy - bh / 2) if toward == "down" else \
                   (cy + bh / 2, rect[1] + ph * 0.55)
        paint(img, rect_alpha(img.shape, lx, ly0, 14, ly1 - ly0, 0.7), np.float32(170))
    paint(img, rect_alpha(img.shape, cx - bw / 2, cy - bh / 2, bw, bh, 1.0),
          np.array([32, 30, 30], np.float32))
    cv2.circle(img, (int(cx - bw / 2 + 16), int(cy + bh / 2 - 16)), 6, (48, 46, 46), -1)
    for i, ((rect, _), grade) in enumerate(zip(pads, grades)):
        if bridge_at is not None and i in (bridge_at, bridge_at + 1):
            continue
        boxes.append(box_entry(grade, rect, None if grade == "good" else "defect"))
    if bridged:
        boxes.append(box_entry("bridged", bridged, "defect"))


def board(rng, chip_grades, ic_grades, bridge_at) -> tuple[np.ndarray, list[dict]]:
    shape = (H, W, 3)
    img = np.broadcast_to(MASK, shape).astype(np.float32).copy()
    img *= (1 + 0.04 * smooth_noise(rng, shape, 40))[..., None]
    for _ in range(7):  # copper traces under the mask
        y = rng.uniform(20, H - 20)
        x0, x1 = sorted(rng.uniform(0, W, 2))
        paint(img, rect_alpha(shape, x0, y, x1 - x0, 10, 1.5), TRACE)
    # no per-pixel noise: AOI frames are averaged, and it keeps the PNGs small
    boxes: list[dict] = []
    colours = [np.array([28, 28, 30], np.float32), np.array([120, 150, 170], np.float32)]
    for i, grades in enumerate(chip_grades):
        cx, cy = 130 + 190 * (i % 3), 70 + 340 * (i // 3)
        chip(img, rng, cx, cy, grades, colours[i % 2], boxes)
    soic(img, rng, 320, 240, ic_grades, bridge_at, boxes)
    img = to_u8(img)
    # Silkscreen reference marks as numpy outlines, not cv2.putText: OpenCV's font
    # rasterizer changed between releases, and the samples must regenerate bit-identically.
    for x, y in ((60, 120), (420, 170)):
        silk_mark(img, x, y)
    return img, boxes


G, C, I, B = "good", "cold", "insufficient", "bridged"
BOARDS = [  # (chip joint grades, SOIC joint grades, first bridged SOIC pad index)
    ([(G, G), (G, C), (I, G), (G, G)], [G, G, G, G, B, B, G, I], 4),
    ([(G, I), (G, G), (C, G), (G, C)], [G, B, B, G, G, G, G, G], 1),
    ([(G, G), (I, G), (G, G), (G, G)], [G, C, G, G, G, G, B, B], 6),
]


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    files = {}
    for n, (chips, ic, bridge_at) in enumerate(BOARDS, start=1):
        name = f"pcb/board{n:02d}_aoi.png"
        img, boxes = board(rng_for(name, seed), chips, ic, bridge_at)
        write_png(out / name, img)
        bad = any(b["cls"] != "good" for b in boxes)
        files[name] = {"width": W, "height": H, "verdict": "fail" if bad else "pass",
                       "taxonomy": "pcb-solder", "source": "aoi", "mm_per_px": MM_PER_PX,
                       "fields": {"board": f"board{n:02d}"}, "boxes": boxes, "keypoints": []}
    return files, {}
