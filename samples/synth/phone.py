"""samples/phone/: handheld smartphone photos of a stamped part on a bench.

As phones do, the sensor's pixels are stored unrotated and EXIF Orientation says how to
turn them upright (6: rotate 90 degrees clockwise; 3: rotate 180). Only applying the
orientation gives the upright part; the ground truth is in those upright pixels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from . import metal
from .common import rng_for, smooth_noise, write_jpeg

EXIF_IFD, ORIENTATION, MAKE, MODEL = 0x8769, 0x0112, 0x010F, 0x0110
EXPOSURE_TIME, DATETIME_ORIGINAL = 0x829A, 0x9003
# Stored pixels = upright image turned back by the inverse of the EXIF rotation.
TO_STORED = {6: cv2.ROTATE_90_COUNTERCLOCKWISE, 3: cv2.ROTATE_180}
MM_PER_PX = 0.12  # approximate: a handheld photo has no calibrated scale

PLAN = [  # (file, orientation, upright w x h, make, model, exposure, taken)
    ("IMG_20260314_094127.jpg", 6, (720, 960), "Google", "Pixel 8", (1, 120),
     "2026:03:14 09:41:27"),
    ("IMG_20260314_101502.jpg", 3, (960, 720), "samsung", "SM-A546B", (1, 60),
     "2026:03:14 10:15:02"),
]


def exif_bytes(orientation, make, model, exposure, taken) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = make
    exif[MODEL] = model
    ifd = exif.get_ifd(EXIF_IFD)
    ifd[EXPOSURE_TIME] = exposure[0] / exposure[1]
    ifd[DATETIME_ORIGINAL] = taken
    return exif.tobytes()


def upright(rng, size) -> tuple[np.ndarray, list[dict]]:
    """The part photographed on a bench mat, slightly soft and vignetted."""
    w, h = size
    pw, ph = int(w * 0.62), int(h * 0.55)
    part, boxes = metal.render(rng, ["scratch", "dent"], shape=(ph, pw))
    bench = np.empty((h, w, 3), np.float32)
    bench[:] = np.array([52, 60, 66], np.float32)  # grey-brown bench top
    bench *= (1 + 0.06 * smooth_noise(rng, (h, w), 30))[..., None]
    ox, oy = (w - pw) // 2, int(h * 0.3)
    shadow = np.zeros((h, w), np.float32)
    shadow[oy + 8:oy + ph + 8, ox + 8:ox + pw + 8] = 1
    bench *= (1 - 0.5 * cv2.GaussianBlur(shadow, (0, 0), 8))[..., None]
    bench[oy:oy + ph, ox:ox + pw] = part
    # an upright cue: the part's job label above it, as the operator lays it out
    label = (ox, int(h * 0.12), int(pw * 0.8), int(h * 0.09))
    x, y, lw, lh = label
    bench[y:y + lh, x:x + lw] = 235
    img = np.clip(bench, 0, 255).astype(np.uint8)
    # the job label's barcode as numpy bars, not cv2.putText: OpenCV's font rasterizer
    # changed between releases, and the samples must regenerate identically
    bar_x, bar_top, bar_bottom = x + 12, y + lh // 5, y + lh - lh // 5
    for width in (2, 1, 3, 1, 1, 2, 3, 1, 2, 1, 1, 3, 2, 1, 2, 2, 1, 3, 1, 2):
        img[bar_top:bar_bottom, bar_x:bar_x + width] = 30
        bar_x += 2 * width + 1
    cv2.arrowedLine(img, (x + lw - 30, y + lh - 10), (x + lw - 30, y + 10), (30, 30, 200), 3,
                    cv2.LINE_AA, tipLength=0.35)
    img = cv2.GaussianBlur(img, (0, 0), 0.7).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1 - 0.35 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 2
    img = img * vignette[..., None] + rng.normal(0, 2.0, img.shape).astype(np.float32)
    for b in boxes:
        b["x"] += ox
        b["y"] += oy
    return img, boxes


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    files = {}
    for fname, orientation, size, make, model, exposure, taken in PLAN:
        name = f"phone/{fname}"
        img, boxes = upright(rng_for(name, seed), size)
        stored = cv2.rotate(np.clip(np.round(img), 0, 255).astype(np.uint8),
                            TO_STORED[orientation])
        write_jpeg(out / name, stored, quality=88,
                   exif=exif_bytes(orientation, make, model, exposure, taken))
        files[name] = {
            "width": size[0], "height": size[1], "verdict": "fail",
            "taxonomy": "metal-stamping", "source": "phone", "mm_per_px": MM_PER_PX,
            "exif_orientation": orientation,
            "stored_width": stored.shape[1], "stored_height": stored.shape[0],
            "exif": {"Make": make, "Model": model,
                     "ExposureTime": f"{exposure[0]}/{exposure[1]}",
                     "DateTimeOriginal": taken},
            "fields": {"part": "P1001"}, "boxes": boxes, "keypoints": [],
        }
    return files, {}
