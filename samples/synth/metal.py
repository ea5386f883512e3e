"""Brushed, stamped sheet-metal parts with the metal-stamping defect classes at known boxes.

Each defect painter returns a footprint (where the defect visibly is, for its box), a
grey-level change and an optional colour multiplier; placement retries until the
footprint stays clear of the other defects and of the stamped features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .common import (aa_disc, aa_polyline, bbox, box_entry, brushed, illumination,
                     mask_entry, overlaps, pts, shade, smooth_noise, steel)

W, H = 800, 600
MM_PER_PX = 0.05  # area-scan profile of the metal-stamping taxonomy
BACKGROUND = 38.0  # dark conveyor seen through holes and beyond the part edge


@dataclass
class Defect:
    cls: str
    severity: str
    footprint: np.ndarray
    add: np.ndarray
    mul: np.ndarray | None = None


@dataclass
class Part:
    """The stamped blank: plate coverage (0..1), its edge and holes (burrs live on them)."""

    plate: np.ndarray
    holes: list[tuple[float, float, float]] = field(default_factory=list)
    edge: tuple[tuple[float, float], tuple[float, float]] | None = None
    keepout: np.ndarray | None = None


def _random_walk(rng, start, steps, step_len, turn, heading):
    points, (x, y) = [start], start
    for _ in range(steps):
        heading += rng.normal(0, turn)
        x, y = x + np.cos(heading) * step_len, y + np.sin(heading) * step_len
        points.append((x, y))
    return points


def scratch(rng, shape, c) -> Defect:
    length = rng.uniform(50, 220)
    ang = rng.uniform(0, np.pi)
    bend = rng.normal(0, 0.08)
    ts = np.linspace(-0.5, 0.5, 24)
    p = [(c[0] + t * length * np.cos(ang + bend * t), c[1] + t * length * np.sin(ang + bend * t))
         for t in ts]
    core = aa_polyline(shape, p, 1)
    halo = cv2.GaussianBlur(core, (0, 0), 1.2)
    sign = 1.0 if rng.random() < 0.6 else -1.0  # bright (burnished) or dark (gouged)
    add = sign * (70 * core + 25 * halo)
    sev = "major" if length * 0.05 >= 5 else "minor"
    return Defect("scratch", sev, core > 0.2, add)


def dent(rng, shape, c) -> Defect:
    h, w = shape[:2]
    rx, ry = rng.uniform(14, 36), rng.uniform(10, 28)
    ang = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx - c[0]) * np.cos(ang) + (yy - c[1]) * np.sin(ang)
    v = -(xx - c[0]) * np.sin(ang) + (yy - c[1]) * np.cos(ang)
    r2 = (u / rx) ** 2 + (v / ry) ** 2
    depth = rng.uniform(6, 12)
    height = -depth * np.exp(-2.5 * r2)
    add = shade(height, 85.0) - 10 * np.exp(-2.5 * r2)
    sev = "major" if depth > 9 else "minor"
    return Defect("dent", sev, r2 <= 1.0, add)


def crack(rng, shape, c) -> Defect:
    heading = rng.uniform(0, 2 * np.pi)
    main = _random_walk(rng, c, int(rng.integers(10, 18)), rng.uniform(5, 9), 0.45, heading)
    cov = aa_polyline(shape, main, 2)
    for _ in range(int(rng.integers(1, 3))):  # short branches off the main crack
        start = main[int(rng.integers(2, len(main) - 2))]
        branch = _random_walk(rng, start, int(rng.integers(3, 6)), 4, 0.5,
                              heading + rng.choice([-1, 1]) * 0.9)
        cov = np.maximum(cov, aa_polyline(shape, branch, 1))
    add = -95 * cov - 20 * cv2.GaussianBlur(cov, (0, 0), 1.5)
    return Defect("crack", "critical", cov > 0.2, add)


def porosity(rng, shape, c) -> Defect:
    n = int(rng.integers(4, 12))
    spread = rng.uniform(8, 22)
    pits = np.zeros(shape[:2], np.float32)
    rims = np.zeros(shape[:2], np.float32)
    for _ in range(n):
        px, py = c[0] + rng.normal(0, spread), c[1] + rng.normal(0, spread * 0.7)
        r = rng.uniform(1.6, 4.0)
        pits = np.maximum(pits, aa_disc(shape, (px, py), r))
        # the far (lower-right) wall of a pit faces the light: a thin bright crescent
        rims = np.maximum(rims, aa_disc(shape, (px + 0.35 * r, py + 0.45 * r), r * 1.05))
    rims = cv2.GaussianBlur(rims * (1 - pits), (0, 0), 0.6)
    pits = cv2.GaussianBlur(pits, (0, 0), 0.5)
    add = -105 * pits + 55 * rims
    sev = "major" if n >= 3 else "minor"
    return Defect("porosity", sev, (pits > 0.3) | (rims > 0.3), add)


def burr(rng, shape, part: Part) -> Defect | None:
    """Ragged bright lip along a punched hole rim or the sheared part edge."""
    if part.holes and (part.edge is None or rng.random() < 0.5):
        hx, hy, hr = part.holes[int(rng.integers(len(part.holes)))]
        a0 = rng.uniform(0, 2 * np.pi)
        angles = a0 + np.linspace(0, rng.uniform(0.8, 1.6), 40)
        base = [(hx + hr * np.cos(a), hy + hr * np.sin(a)) for a in angles]
        normals = [(-np.cos(a), -np.sin(a)) for a in angles]  # into the hole
    elif part.edge is not None:
        (x0, y0), (x1, y1) = part.edge
        t0 = rng.uniform(0.15, 0.7)
        ts = np.linspace(t0, t0 + rng.uniform(0.08, 0.2), 40)
        base = [(x0 + t * (x1 - x0), y0 + t * (y1 - y0)) for t in ts]
        n = np.array([y1 - y0, -(x1 - x0)], float)
        n /= np.linalg.norm(n)
        normals = [tuple(n)] * len(ts)
    else:
        return None
    # the lip sticks out by an irregular amount: smoothed noise plus a few torn spikes
    n = len(base)
    reach = np.convolve(rng.uniform(0, 1, n + 4), np.ones(5) / 5, "valid")[:n] * 5 + 1.5
    spikes = rng.random(n) < 0.12
    reach[spikes] += rng.uniform(2, 6, spikes.sum())
    reach *= np.sin(np.linspace(0, np.pi, n)) ** 0.3  # tapers off at both ends
    outer = [(bx + nx * r, by + ny * r) for (bx, by), (nx, ny), r in zip(base, normals, reach)]
    canvas = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(canvas, [pts(list(base) + outer[::-1])], 255, cv2.LINE_AA, shift=4)
    lip = np.maximum(canvas.astype(np.float32) / 255, aa_polyline(shape, base, 1))
    glare = 125 + 45 * smooth_noise(rng, shape, 2.0).clip(-1, 1)  # torn metal glints unevenly
    return Defect("burr", "major" if reach.max() > 6 else "minor", lip > 0.25, glare * lip)


def contamination(rng, shape, c) -> Defect:
    h, w = shape[:2]
    if rng.random() < 0.6:  # oil / residue stain: blotchy, brownish, soft edged
        r = rng.uniform(18, 40)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = np.sqrt(((xx - c[0]) / r) ** 2 + ((yy - c[1]) / (0.7 * r)) ** 2)
        blot = (1.0 - d) + 0.35 * smooth_noise(rng, shape, 5)
        alpha = np.clip(blot * 3, 0, 1) * (d < 1.3)
        alpha = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), 1.5)
        alpha *= 0.75 + 0.25 * smooth_noise(rng, shape, 3).clip(-1, 1)  # uneven film
        tint = np.array([0.45, 0.62, 0.78], np.float32)  # BGR: brown
        mul = 1 - alpha[..., None] * (1 - tint)
        sev = "cleanable"
    else:  # fibres: a few thin dark curls
        alpha = np.zeros(shape[:2], np.float32)
        for _ in range(int(rng.integers(2, 5))):
            start = (c[0] + rng.normal(0, 10), c[1] + rng.normal(0, 10))
            curl = _random_walk(rng, start, 14, 3.0, 0.35, rng.uniform(0, 2 * np.pi))
            alpha = np.maximum(alpha, aa_polyline(shape, curl, 1))
        mul = np.repeat((1 - 0.75 * alpha)[..., None], 3, axis=-1)
        sev = "embedded"
    return Defect("contamination", sev, alpha > 0.25, np.zeros(shape[:2], np.float32), mul)


PAINTERS = {"scratch": scratch, "dent": dent, "crack": crack, "porosity": porosity,
            "contamination": contamination}


def stamped_part(rng, shape) -> tuple[Part, np.ndarray]:
    """Plate coverage plus height field: sheared edge, punched holes, an embossed rib."""
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cover = np.ones((h, w), np.float32)  # anti-aliased plate coverage
    height = np.zeros((h, w), np.float32)
    part = Part(cover)
    if rng.random() < 0.6:  # the blank's sheared edge crosses the right side of the view
        x_top, x_bot = rng.uniform(0.78, 0.9) * w, rng.uniform(0.78, 0.9) * w
        edge_x = x_top + (x_bot - x_top) * yy / h
        cover *= np.clip(edge_x - xx + 0.5, 0, 1)
        part.edge = ((x_top, 0.0), (x_bot, float(h)))
    for _ in range(int(rng.integers(1, 3))):  # punched holes
        r = rng.uniform(22, 42)
        hx, hy = rng.uniform(0.12, 0.65) * w, rng.uniform(0.2, 0.8) * h
        if any(np.hypot(hx - ox, hy - oy) < r + orr + 40 for ox, oy, orr in part.holes):
            continue
        cover *= 1 - aa_disc(shape, (hx, hy), r)
        part.holes.append((hx, hy, r))
    if rng.random() < 0.5:  # embossed stiffening rib
        ry = rng.uniform(0.15, 0.85) * h
        height += 8 * np.exp(-((yy - ry) ** 2) / (2 * 9.0 ** 2))
    keep = cv2.erode((cover > 0.5).astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    part.keepout = ~keep
    return part, height


def place(rng, cls, part, shape, taken, tries=60) -> Defect | None:
    for _ in range(tries):
        if cls == "burr":
            d = burr(rng, shape, part)
        else:
            c = (rng.uniform(60, shape[1] - 60), rng.uniform(60, shape[0] - 60))
            if part.keepout[int(c[1]), int(c[0])]:
                continue
            d = PAINTERS[cls](rng, shape, c)
        if d is None or not d.footprint.any():
            continue
        b = bbox(d.footprint)
        if cls != "burr" and part.keepout[d.footprint].any():
            continue
        if not overlaps(b, taken, margin=14):
            return d
    return None


def render(rng, defect_classes, shape=(H, W)) -> tuple[np.ndarray, list[dict]]:
    """A BGR float image of a stamped part and the boxes of the defects painted on it."""
    bgr, boxes, _ = render_with_masks(rng, defect_classes, shape)
    return bgr, boxes


def render_with_masks(rng, defect_classes, shape=(H, W)
                      ) -> tuple[np.ndarray, list[dict], list[dict]]:
    """`render` plus each defect's mask (its footprint), in the same order as the boxes.
    The random draws are exactly those of `render`, so the image bytes do not change."""
    part, height = stamped_part(rng, shape)
    grey = illumination(rng, shape, rng.uniform(135, 165), rng.uniform(25, 45))
    grey += brushed(rng, shape, rng.uniform(-8, 8) + rng.choice([0, 90]), amp=5.0)
    grey += 3.0 * smooth_noise(rng, shape, 30)
    grey += shade(height, 14.0)
    boxes, taken, defects, masks = [], [], [], []
    for cls in defect_classes:
        d = place(rng, cls, part, shape, taken)
        if d is None:
            raise RuntimeError(f"could not place a {cls} clear of the other defects")
        taken.append(bbox(d.footprint))
        defects.append(d)
        boxes.append(box_entry(cls, bbox(d.footprint), d.severity))
        masks.append(mask_entry(cls, d.footprint, d.severity))
    bgr = steel(grey)
    # sheared edges and hole walls: dark background, a bright cut face on the plate side
    cover = part.plate[..., None]
    cut_face = cv2.GaussianBlur(1 - part.plate, (0, 0), 1.0)[..., None] * cover
    bgr = (bgr * (1 + 0.35 * cut_face)) * cover + BACKGROUND * (1 - cover)
    for d in defects:  # after the background so burrs can stand proud of an edge
        bgr += d.add[..., None]
        if d.mul is not None:
            bgr *= d.mul
    bgr += rng.normal(0, 1.2, bgr.shape).astype(np.float32)  # sensor noise
    return bgr, boxes, masks
