"""Image and project builders shared by the ingest tests (real files on disk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from qclabel.project import Project


def texture(h: int, w: int, seed: int = 0, channels: int = 3) -> np.ndarray:
    """A uint8 image with structure at several scales (so JPEG, blur, and matching
    behave as on real parts), deterministic per seed."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (max(2, h // 8), max(2, w // 8), channels), dtype=np.uint8)
    big = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = rng.integers(-40, 40, (h, w, channels))
    out = np.clip(big.reshape(h, w, channels).astype(int) + fine, 0, 255).astype(np.uint8)
    return out[:, :, 0] if channels == 1 else out


def exif_bytes(orientation: int | None = None, **tags: Any) -> bytes:
    """EXIF with orientation, make/model (IFD0) and exposure/ISO/timestamp (Exif IFD)."""
    ex = Image.Exif()
    if orientation:
        ex[0x0112] = orientation
    if "make" in tags:
        ex[0x010F] = tags["make"]
    if "model" in tags:
        ex[0x0110] = tags["model"]
    sub = ex.get_ifd(0x8769)
    if "exposure" in tags:
        sub[0x829A] = tags["exposure"]
    if "iso" in tags:
        sub[0x8827] = tags["iso"]
    if "taken" in tags:
        sub[0x9003] = tags["taken"]
    return ex.tobytes()


def save(path: Path, arr: np.ndarray, **kwargs: Any) -> Path:
    """Write with Pillow (8-bit) or OpenCV (16-bit); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if arr.dtype == np.uint16:
        bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR) if arr.ndim == 3 else arr
        assert cv2.imwrite(str(path), bgr)
    else:
        Image.fromarray(arr).save(path, **kwargs)
    return path


def make_project(
    root: Path, profiles: dict[str, Any] | None = None, limits: dict[str, Any] | None = None
) -> Project:
    """A real project whose config holds the given profiles and limits."""
    project = Project.init(root, "metal-stamping", user="admin")
    if profiles is not None:
        project.config["profiles"] = profiles
    if limits is not None:
        project.config["limits"] = {**project.config.get("limits", {}), **limits}
    project.save_config()
    return Project.open(root)
