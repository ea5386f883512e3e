"""Shared pieces of the sample generator: seeded randomness, surfaces, drawing, writing.

Every image draws from its own generator seeded by (global seed, file name), so one
image can change without reshuffling all the others.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SEED = 20260314
SUB = 16  # OpenCV sub-pixel drawing: coordinates scaled by 2**4
LIGHT = np.array([-0.6, -0.8])  # light from the upper left (x, y), as on the inspection rigs


def rng_for(name: str, seed: int = SEED) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def pts(points) -> np.ndarray:
    """Float points -> OpenCV fixed-point int32 array (shift=4)."""
    return np.round(np.asarray(points, dtype=np.float64) * SUB).astype(np.int32)


def aa_polyline(shape, points, thickness: int = 1, closed: bool = False) -> np.ndarray:
    """Anti-aliased polyline coverage in 0..1 (OpenCV only anti-aliases 8-bit images)."""
    canvas = np.zeros(shape[:2], np.uint8)
    cv2.polylines(canvas, [pts(points)], closed, 255, thickness, cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255.0


def aa_disc(shape, centre, radius: float) -> np.ndarray:
    """Disc coverage in 0..1 with a one-pixel soft edge (round even at radius 1.5)."""
    out = np.zeros(shape[:2], np.float32)
    cx, cy = centre
    x0, x1 = max(0, int(cx - radius - 2)), min(shape[1], int(cx + radius + 3))
    y0, y1 = max(0, int(cy - radius - 2)), min(shape[0], int(cy + radius + 3))
    if x0 >= x1 or y0 >= y1:
        return out
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)
    out[y0:y1, x0:x1] = np.clip(radius + 0.5 - d, 0, 1)
    return out


def smooth_noise(rng, shape, sigma: float) -> np.ndarray:
    """Zero-mean, unit-std noise with features about `sigma` pixels across."""
    n = cv2.GaussianBlur(rng.standard_normal(shape[:2]).astype(np.float32), (0, 0), sigma)
    return (n - n.mean()) / (n.std() + 1e-6)


def brushed(rng, shape, angle_deg: float, length: int = 61, amp: float = 5.0) -> np.ndarray:
    """Directional grain: white noise smeared along the brushing direction."""
    h, w = shape[:2]
    k = np.zeros((length, length), np.float32)
    c = length // 2
    dx, dy = np.cos(np.radians(angle_deg)) * c, np.sin(np.radians(angle_deg)) * c
    cv2.line(k, (int(c - dx), int(c - dy)), (int(c + dx), int(c + dy)), 1.0, 1, cv2.LINE_AA)
    k /= k.sum()
    noise = rng.standard_normal((h, w)).astype(np.float32)
    grain = cv2.filter2D(noise, -1, k, borderType=cv2.BORDER_REFLECT)
    return grain / (grain.std() + 1e-6) * amp


def illumination(rng, shape, base: float, spread: float) -> np.ndarray:
    """Large-scale lighting: a tilt plus one broad hotspot from the ring light."""
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-1, 1, 2) * spread / max(h, w)
    hx, hy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    hot = np.exp(-(((xx - hx) ** 2 + (yy - hy) ** 2) / (2 * (0.45 * w) ** 2)))
    return base + gx * (xx - w / 2) + gy * (yy - h / 2) + 0.6 * spread * (hot - hot.mean())


def shade(height: np.ndarray, strength: float) -> np.ndarray:
    """Brightness change of a height field under the rig light (Lambert, small slopes)."""
    gy, gx = np.gradient(height.astype(np.float32))
    return -strength * (gx * LIGHT[0] + gy * LIGHT[1])


def bbox(mask: np.ndarray, pad: int = 1) -> list[int]:
    """[x, y, w, h] of a boolean footprint, padded, clipped to the image."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise ValueError("empty footprint")
    h, w = mask.shape[:2]
    x0, y0 = max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad)
    x1, y1 = min(w, int(xs.max()) + 1 + pad), min(h, int(ys.max()) + 1 + pad)
    return [x0, y0, x1 - x0, y1 - y0]


def overlaps(box, others, margin: int = 0) -> bool:
    x, y, w, h = box
    for ox, oy, ow, oh in others:
        if (x < ox + ow + margin and ox < x + w + margin
                and y < oy + oh + margin and oy < y + h + margin):
            return True
    return False


def to_u8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def steel(grey: np.ndarray) -> np.ndarray:
    """Grey level -> BGR with the cool cast of bare steel under LED light."""
    return np.stack([grey * 1.03, grey * 1.0, grey * 0.95], axis=-1)


def box_entry(cls: str, xywh, severity: str | None = None) -> dict:
    x, y, w, h = (int(v) for v in xywh)
    return {"cls": cls, "x": x, "y": y, "w": w, "h": h, "severity": severity}


def mask_entry(cls: str, footprint: np.ndarray, severity: str | None = None) -> dict:
    """A mask as qclabel stores one: COCO RLE (pycocotools, compressed counts) of the
    footprint's tight region and where that region sits."""
    from pycocotools import mask as cocomask
    ys, xs = np.nonzero(footprint)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    region = np.asfortranarray(footprint[y0:y1, x0:x1].astype(np.uint8))
    counts = cocomask.encode(region)["counts"].decode("ascii")
    return {"cls": cls, "rle": counts, "left": x0, "top": y0, "width": x1 - x0,
            "height": y1 - y0, "severity": severity}


def write_png(path: Path, arr: np.ndarray) -> None:
    """Lossless, byte-stable: fixed compression level, no timestamps (OpenCV writes none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError(f"cannot encode {path}")
    path.write_bytes(buf.tobytes())


def jpeg_bytes(bgr: np.ndarray, quality: int = 90, exif: bytes | None = None,
               mode: str = "RGB") -> bytes:
    im = Image.fromarray(np.ascontiguousarray(to_u8(bgr)[..., ::-1]))
    if mode != "RGB":
        im = im.convert(mode)
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    im.save(out, "JPEG", quality=quality, optimize=True, **kwargs)
    return out.getvalue()


def write_jpeg(path: Path, bgr: np.ndarray, quality: int = 90, exif: bytes | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg_bytes(bgr, quality, exif))
