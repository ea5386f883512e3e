"""Preprocessing steps on canonical-layout arrays (uint8/uint16, grey/RGB).

Each step is a pure function of the array and its settings, so a profile applied twice
gives identical pixels. Bit depth is kept: a 16-bit X-ray stays 16-bit after
normalization, so export and live window/level in the app see the full range.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ..errors import ImageError


def _max(arr: np.ndarray) -> int:
    return 65535 if arr.dtype == np.uint16 else 255


SAMPLE_PIXELS = 1_000_000


def percentiles(arr: np.ndarray, pcts: tuple[float, ...]) -> list[int]:
    """Percentiles from a histogram of a regular grid of about a megapixel (exact for
    smaller images): np.percentile sorts, and a full 16-bit histogram of a 5 MP
    image costs as much as decoding it."""
    step = max(1, int(np.sqrt(arr.shape[0] * arr.shape[1] / SAMPLE_PIXELS)))
    hist = np.bincount(arr[::step, ::step].ravel(), minlength=_max(arr) + 1)
    cdf = np.cumsum(hist)
    total = int(cdf[-1])
    return [int(np.searchsorted(cdf, max(p / 100.0 * total, 1), side="left")) for p in pcts]


def auto_window(arr: np.ndarray, low_pct: float, high_pct: float) -> tuple[float, float]:
    """(centre, width) spanning the given percentiles of the pixel values."""
    lo, hi = percentiles(arr, (low_pct, high_pct))
    hi = max(hi, lo + 1)
    return (lo + hi) / 2.0, float(hi - lo)


def display_window(arr: np.ndarray, setting: dict[str, float]) -> tuple[float, float] | None:
    """The default display window for >8-bit images; None for 8-bit."""
    if arr.dtype != np.uint16:
        return None
    if "centre" in setting:
        return setting["centre"], setting["width"]
    return auto_window(arr, setting["low_pct"], setting["high_pct"])


def stretch(arr: np.ndarray, low_pct: float, high_pct: float) -> np.ndarray:
    """Linear contrast stretch so the percentiles map to black and full scale."""
    lo, hi = percentiles(arr, (low_pct, high_pct))
    top = _max(arr)
    if hi <= lo:
        return arr
    values = np.arange(top + 1, dtype=np.float64)
    lut = np.clip(np.round((values - lo) * top / (hi - lo)), 0, top).astype(arr.dtype)
    result: np.ndarray = lut[arr]
    return result


def clahe(arr: np.ndarray, clip_limit: float, tile: int) -> np.ndarray:
    """OpenCV CLAHE on the grey image, or on the luma of a colour image."""
    op = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile, tile))
    if arr.ndim == 2:
        return op.apply(arr)
    ycc = cv2.cvtColor(arr, cv2.COLOR_RGB2YCrCb)
    ycc[:, :, 0] = op.apply(np.ascontiguousarray(ycc[:, :, 0]))
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def normalize(arr: np.ndarray, setting: dict[Any, Any]) -> np.ndarray:
    if setting["method"] == "stretch":
        return stretch(arr, setting["low_pct"], setting["high_pct"])
    return clahe(arr, setting["clip_limit"], setting["tile"])


def grey_world(arr: np.ndarray) -> np.ndarray:
    """Scale each colour channel so the channel means become equal (grey images pass)."""
    if arr.ndim == 2:
        return arr
    means = arr.reshape(-1, 3).mean(axis=0)
    gains = means.mean() / np.maximum(means, 1e-6)
    out = arr.astype(np.float32) * gains.astype(np.float32)
    return np.clip(np.round(out), 0, _max(arr)).astype(arr.dtype)


def crop(arr: np.ndarray, rect: list[int], source: str) -> np.ndarray:
    x, y, w, h = rect
    height, width = arr.shape[:2]
    if x + w > width or y + h > height:
        raise ImageError(f"{source}: roi {rect} lies outside the {width}x{height} image")
    return np.ascontiguousarray(arr[y : y + h, x : x + w])


def fit_max_size(arr: np.ndarray, max_size: int) -> tuple[np.ndarray, float]:
    """Shrink so the longest side is at most max_size; returns (array, scale)."""
    height, width = arr.shape[:2]
    longest = max(width, height)
    if longest <= max_size:
        return arr, 1.0
    scale = max_size / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA), scale
