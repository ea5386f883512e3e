"""samples/bad/: inputs that ingest must reject or repair, never silently mislabel.

- empty.jpg          zero bytes
- truncated.jpg      a JPEG cut off in the middle of its scan data
- notes.png          a text file with an image extension
- cmyk.jpg           a valid JPEG in CMYK (print workflow export): convert before display
- really_a_png.jpg   a PNG saved under a .jpg name: trust the content, not the extension
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from . import metal
from .common import jpeg_bytes, rng_for, to_u8

W, H = 320, 240


def _small_part(seed: int, name: str) -> np.ndarray:
    img, _ = metal.render(rng_for(name, seed), [], shape=(H, W))
    return to_u8(img)


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    folder = out / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}

    def entry(problem, expect, width=None, height=None, **extra):
        return {"width": width, "height": height, "verdict": None, "source": "bad-input",
                "problem": problem, "expect": expect, "boxes": [], "keypoints": [], **extra}

    (folder / "empty.jpg").write_bytes(b"")
    files["bad/empty.jpg"] = entry("zero-byte file", "error")
    whole = jpeg_bytes(_small_part(seed, "bad/truncated.jpg"), 90)
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    files["bad/truncated.jpg"] = entry("JPEG cut off after half its bytes", "error")
    (folder / "notes.png").write_text("shift notes: camera 2 lens cleaned at 06:10\n")
    files["bad/notes.png"] = entry("text file with a .png extension", "error")
    (folder / "cmyk.jpg").write_bytes(
        jpeg_bytes(_small_part(seed, "bad/cmyk.jpg"), 90, mode="CMYK"))
    files["bad/cmyk.jpg"] = entry("CMYK JPEG", "convert", W, H, mode="CMYK")
    ok, buf = cv2.imencode(".png", _small_part(seed, "bad/really_a_png.jpg"),
                           [cv2.IMWRITE_PNG_COMPRESSION, 9])
    (folder / "really_a_png.jpg").write_bytes(buf.tobytes())
    files["bad/really_a_png.jpg"] = entry("PNG data under a .jpg name", "convert", W, H,
                                          format="PNG")
    return files, {}
