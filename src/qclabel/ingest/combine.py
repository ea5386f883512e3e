"""Several source files -> one canonical image: line-scan stitching, focus stacking."""

from __future__ import annotations

from typing import Iterable, Iterator

import cv2
import numpy as np

from ..errors import ImageError


def _check_same_layout(parts: list[np.ndarray], names: list[str], axis_size: int) -> None:
    ref = parts[0]
    for arr, name in zip(parts[1:], names[1:]):
        if (
            arr.dtype != ref.dtype
            or arr.ndim != ref.ndim
            or arr.shape[axis_size] != ref.shape[axis_size]
        ):
            raise ImageError(
                f"{name}: shape {arr.shape} {arr.dtype} does not match "
                f"{names[0]} ({ref.shape} {ref.dtype})"
            )


MATCH_MAX_ERROR = 0.05  # above this normalized error the rows do not repeat
_CANDIDATE_SLACK = 0.01  # rounding of the fast scores, in the same normalized units
_FLAT = 1.0  # variance below one grey level: the fast score's rounding can decide there


def _rows(arr: np.ndarray) -> np.ndarray:
    """Rows as one float32 plane (colour channels side by side)."""
    return np.ascontiguousarray(arr.reshape(arr.shape[0], -1), dtype=np.float32)


def exact_score(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Squared difference of the last k rows of `a` and the first k of `b`, normalized
    by their variance (0 = the rows repeat exactly)."""
    x, y = a[-k:], b[:k]
    spread = float(x.var() + y.var()) + 1e-6
    return float(np.mean((x - y) ** 2)) / spread


def overlap_scores(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score, spread) for every overlap k = 1..n of a's last rows with b's first rows.
    One matrix product gives every row of `a` against every row of `b`; the k-row
    cross-correlation is a diagonal of it (a's rows n-k.. against b's rows 0..), and
    with the energies of those k rows of each it gives the k-row squared difference.
    In float64 the sums of products of integer pixel values are exact (below 2**53
    even for 16-bit colour rows 10,000 pixels wide), so the scores are rounded only in
    the final divisions. This measured
    a third of the CPU of the FFT cross-correlation (cv2.matchTemplate) it replaced."""
    n, cols = a.shape
    a, b = a.astype(np.float64), b.astype(np.float64)
    # einsum's own loop, not BLAS: numpy's matmul and cv2.gemm wake OpenBLAS threads,
    # which then spin for ~0.1 s of CPU after each call (measured), on shared cores
    rows = np.einsum("ik,jk->ij", a, b)  # rows[i, j] = a[i] . b[j]
    k = np.arange(1, n + 1)
    cross = np.array([np.trace(rows, offset=int(kk) - n) for kk in k])
    a_s = np.cumsum(a.sum(1)[::-1])  # last k rows of a
    a_s2 = np.cumsum((a * a).sum(1)[::-1])
    b_s = np.cumsum(b.sum(1))  # first k rows of b
    b_s2 = np.cumsum((b * b).sum(1))
    ssd = np.maximum(a_s2 + b_s2 - 2.0 * cross, 0.0)
    count = k * cols
    spread = (a_s2 / count - (a_s / count) ** 2) + (b_s2 / count - (b_s / count) ** 2)
    spread = np.maximum(spread, 0.0)
    return ssd / count / (spread + 1e-6), spread


def find_overlap(prev: np.ndarray, nxt: np.ndarray, max_overlap: int) -> int:
    """Rows the start of `nxt` repeats from the end of `prev` (0 if nothing repeats).

    Every candidate overlap k is scored by the squared difference of the k shared rows,
    normalized by their variance; the best score wins if it is a real match (ties go to
    the longer overlap). All k are scored at once by one matrix product; the few
    candidates near the best, and any flat ones whose fast score may be mere rounding,
    are then scored exactly, so the choice is the one the exact score makes."""
    n = min(max_overlap, prev.shape[0], nxt.shape[0] - 1)
    if n < 1:
        return 0
    a, b = _rows(prev[-n:]), _rows(nxt[:n])
    scores, spread = overlap_scores(a, b)
    near = scores <= min(float(scores.min()), MATCH_MAX_ERROR) + _CANDIDATE_SLACK
    candidates = np.flatnonzero(near | (spread < _FLAT)) + 1
    best, best_k = MATCH_MAX_ERROR, 0
    for k in candidates.tolist():  # ascending: with <= a tie goes to the longer overlap
        score = exact_score(a, b, k)
        if score <= best:
            best, best_k = score, k
    return best_k


def stitch_rows(
    parts: Iterable[np.ndarray],
    names: list[str],
    overlap_px: int | str,
    max_overlap_px: int,
    trims: list[int] | None = None,
) -> Iterator[np.ndarray]:
    """The rows of a vertical stitch, a segment at a time: the first segment whole, then
    each next one less the rows it repeats. Segments may arrive as they are decoded;
    the overlap trimmed at each joint is appended to `trims`."""
    prev: np.ndarray | None = None
    for i, nxt in enumerate(parts):
        if prev is None:
            first = nxt
            yield nxt
        else:
            _check_same_layout([first, nxt], [names[0], names[i]], 1)
            trim = find_overlap(prev, nxt, max_overlap_px) if overlap_px == "auto" else overlap_px
            if trim >= nxt.shape[0]:
                raise ImageError(
                    f"{names[i]}: overlap {trim} px is not less than the segment "
                    f"length {nxt.shape[0]} px"
                )
            if trims is not None:
                trims.append(int(trim))
            yield nxt[trim:]
        prev = nxt


def stitch(
    parts: list[np.ndarray],
    names: list[str],
    overlap_px: int | str,
    max_overlap_px: int,
    direction: str,
) -> tuple[np.ndarray, list[int]]:
    """Join line-scan segments in order; returns (image, overlap trimmed per joint)."""
    if direction == "horizontal":
        turned = [np.ascontiguousarray(p.swapaxes(0, 1)) for p in parts]
        out, turned_trims = stitch(turned, names, overlap_px, max_overlap_px, "vertical")
        return np.ascontiguousarray(out.swapaxes(0, 1)), turned_trims
    trims: list[int] = []
    pieces = list(stitch_rows(parts, names, overlap_px, max_overlap_px, trims))
    return np.concatenate(pieces, axis=0), trims


def _grey_f32(arr: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY) if arr.ndim == 3 else arr
    return g.astype(np.float32)


def focus_stack(slices: list[np.ndarray], names: list[str], kernel: int, smooth: int) -> np.ndarray:
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
