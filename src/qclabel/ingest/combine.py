"""Several source files -> one canonical image: line-scan stitching, focus stacking."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ImageError


def _check_same_layout(parts: list[np.ndarray], names: list[str], axis_size: int) -> None:
    ref = parts[0]
    for arr, name in zip(parts[1:], names[1:]):
        if arr.dtype != ref.dtype or arr.ndim != ref.ndim or arr.shape[axis_size] != \
                ref.shape[axis_size]:
            raise ImageError(f"{name}: shape {arr.shape} {arr.dtype} does not match "
                             f"{names[0]} ({ref.shape} {ref.dtype})")


def find_overlap(prev: np.ndarray, nxt: np.ndarray, max_overlap: int) -> int:
    """Rows the start of `nxt` repeats from the end of `prev` (0 if nothing repeats).

    Every candidate overlap k is scored by the squared difference of the k shared rows,
    normalized by their variance; the best score wins if it is a real match."""
    a = prev[-min(max_overlap, prev.shape[0], nxt.shape[0] - 1):].astype(np.float32)
    b = nxt[:a.shape[0]].astype(np.float32)
    best, best_k = 0.05, 0  # above this normalized error the rows do not repeat
    for k in range(1, a.shape[0] + 1):
        x, y = a[-k:], b[:k]
        spread = float(x.var() + y.var()) + 1e-6
        score = float(np.mean((x - y) ** 2)) / spread
        if score <= best:
            best, best_k = score, k
    return best_k


def stitch(parts: list[np.ndarray], names: list[str], overlap_px: int | str,
           max_overlap_px: int, direction: str) -> tuple[np.ndarray, list[int]]:
    """Join line-scan segments in order; returns (image, overlap trimmed per joint)."""
    if direction == "horizontal":
        turned = [np.ascontiguousarray(p.swapaxes(0, 1)) for p in parts]
        out, trims = stitch(turned, names, overlap_px, max_overlap_px, "vertical")
        return np.ascontiguousarray(out.swapaxes(0, 1)), trims
    _check_same_layout(parts, names, 1)
    pieces, trims = [parts[0]], []
    for prev, nxt, name in zip(parts, parts[1:], names[1:]):
        trim = find_overlap(prev, nxt, max_overlap_px) if overlap_px == "auto" else overlap_px
        if trim >= nxt.shape[0]:
            raise ImageError(f"{name}: overlap {trim} px is not less than the segment "
                             f"length {nxt.shape[0]} px")
        trims.append(int(trim))
        pieces.append(nxt[trim:])
    return np.concatenate(pieces, axis=0), trims


def _grey_f32(arr: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY) if arr.ndim == 3 else arr
    return g.astype(np.float32)


def focus_stack(slices: list[np.ndarray], names: list[str], kernel: int,
                smooth: int) -> np.ndarray:
    """All-in-focus image: per pixel, the slice with the most local Laplacian energy.

    The energy is Gaussian-smoothed and the chosen-slice map median-filtered, so the
    choice follows regions rather than flipping on noise from pixel to pixel."""
    _check_same_layout(slices, names, 0)
    _check_same_layout(slices, names, 1)
    energy = []
    for s in slices:
        lap = cv2.Laplacian(_grey_f32(s), cv2.CV_32F, ksize=kernel)
        energy.append(cv2.GaussianBlur(lap * lap, (smooth, smooth), 0))
    choice: np.ndarray = np.argmax(np.stack(energy), axis=0).astype(np.uint8)
    if smooth > 1:
        choice = cv2.medianBlur(choice, smooth)
    stack = np.stack(slices)
    idx = choice[None, ...]
    if stack.ndim == 4:
        idx = idx[..., None]
    result: np.ndarray = np.take_along_axis(stack, idx, axis=0)[0]
    return result
