"""The mask kind: validation, clipping, matching (mask IoU) and diff of `core.mask.Mask`.

Two annotators' instance masks pair one-to-one by mask IoU with the same optimal
assignment as boxes (core.assign). IoUs come from `pycocotools.mask.iou` on RLEs over a
canvas just big enough for both sets, which is what COCOeval(iouType="segm") computes.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from pycocotools import mask as cocomask

from ..errors import FormatError
from .assign import MIN_PAIR_IOU, BoxMatch, assign
from .kind_base import TOLERANCE_PX, ObjectKind
from .mask import Mask, MaskError, Polygon, whole_image_rle
from .model import ImageRecord


def rles(masks: Sequence[Mask], width: int, height: int) -> list[dict[str, Any]]:
    return [whole_image_rle(m.region(), m.left, m.top, width, height) for m in masks]


def mask_iou_matrix(a: Sequence[Mask], b: Sequence[Mask]) -> np.ndarray:
    """IoU of every mask in `a` with every mask in `b`."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    width = max(m.x2 for m in (*a, *b))
    height = max(m.y2 for m in (*a, *b))
    ious = cocomask.iou(rles(b, width, height), rles(a, width, height), [0] * len(a))
    return np.asarray(ious, dtype=float).reshape(len(b), len(a)).T


def mask_iou(a: Mask, b: Mask) -> float:
    return float(mask_iou_matrix([a], [b])[0, 0])


def pixel_agreement(a: Sequence[Mask], b: Sequence[Mask]) -> tuple[int, int, int]:
    """(intersection, |A|, |B|) in pixels of the union of each side's masks: the
    semantic comparison of one class layer (IoU = i / (a + b - i), Dice = 2i / (a + b))."""
    if not a and not b:
        return 0, 0, 0
    width = max(m.x2 for m in (*a, *b))
    height = max(m.y2 for m in (*a, *b))
    ua, ub = (_union(side, width, height) for side in (a, b))
    return int(np.count_nonzero(ua & ub)), int(np.count_nonzero(ua)), int(np.count_nonzero(ub))


def _union(masks: Sequence[Mask], width: int, height: int) -> np.ndarray:
    out = np.zeros((height, width), bool)
    for m in masks:
        out[m.top : m.y2, m.left : m.x2] |= m.region().astype(bool)
    return out


def self_intersects(ring: Polygon) -> bool:
    """True when two edges of the closed ring cross (adjacent edges share a vertex and
    do not count). Vectorized orientation test over all edge pairs."""
    p = np.asarray(ring, float).reshape(-1, 2)
    a, b = p, np.roll(p, -1, axis=0)
    n = len(p)
    if n < 4:
        return False

    def orient(p1: np.ndarray, p2: np.ndarray, q: np.ndarray) -> Any:
        return np.sign(
            (p2[..., 0] - p1[..., 0]) * (q[..., 1] - p1[..., 1])
            - (p2[..., 1] - p1[..., 1]) * (q[..., 0] - p1[..., 0])
        )

    A, B = a[:, None], b[:, None]
    C, D = a[None, :], b[None, :]
    cross = (orient(A, B, C) * orient(A, B, D) < 0) & (orient(C, D, A) * orient(C, D, B) < 0)
    i, j = np.triu_indices(n, 2)
    keep = ~((i == 0) & (j == n - 1))  # the first and last edges are adjacent too
    return bool(cross[i[keep], j[keep]].any())


class MaskKind(ObjectKind):
    name, field, type, counted, target = "mask", "masks", Mask, "mask(s)", "mask_iou"
    noun, plural, task, defect = "mask", "masks", "segmentation", True

    def describe(self, m: Mask) -> str:
        sev = f" {m.severity}" if m.severity else ""
        return f"mask {m.cls}{sev} {m.area} px at {m.left},{m.top} ({m.width}x{m.height})"

    def content(self, obj: Mask) -> dict[str, Any]:
        return {k: v for k, v in obj.to_dict().items() if k != "id"}

    def bbox(self, obj: Mask) -> tuple[float, float, float, float]:
        return obj.bbox

    def check(self, m: Mask, rec: ImageRecord, where: str) -> None:
        what = f"{where} ({m.cls})"
        for n, ring in enumerate(m.polygons):
            xs, ys = ring[0::2], ring[1::2]
            if (
                min(xs) < -TOLERANCE_PX
                or min(ys) < -TOLERANCE_PX
                or max(xs) > rec.width + TOLERANCE_PX
                or max(ys) > rec.height + TOLERANCE_PX
            ):
                raise FormatError(
                    f"{what}: polygon {n} reaches ({min(xs):g}, {min(ys):g})-"
                    f"({max(xs):g}, {max(ys):g}), outside the "
                    f"{rec.width}x{rec.height} image {rec.file}"
                )
            if self_intersects(ring):
                raise FormatError(
                    f"{what}: polygon {n} crosses itself; draw it as "
                    "separate polygons or as a painted mask"
                )
        if m.left < 0 or m.top < 0 or m.x2 > rec.width or m.y2 > rec.height:
            if not m.polygons:
                raise FormatError(
                    f"{what}: pixels at x={m.left}..{m.x2 - 1} "
                    f"y={m.top}..{m.y2 - 1} are outside the "
                    f"{rec.width}x{rec.height} image {rec.file}"
                )
        try:
            area = m.area
        except Exception as exc:  # pycocotools raises plain errors on broken counts
            raise FormatError(f"{what}: RLE cannot be decoded: {exc}") from None
        if area <= 0:
            raise FormatError(f"{what}: the mask is empty")

    def clip(self, m: Mask, width: int, height: int) -> Mask | None:
        return m.clipped(width, height)

    def match(
        self, a: Sequence[Mask], b: Sequence[Mask], min_iou: float = MIN_PAIR_IOU
    ) -> BoxMatch:
        """Optimal one-to-one pairs; a same-class pair beats any cross-class pair."""
        ious = mask_iou_matrix(a, b)
        score = ious.copy()
        if ious.size:
            score += np.array([[x.cls == y.cls for y in b] for x in a])
        return assign(ious, score, min_iou)

    def changed(self, old: Mask, new: Mask) -> dict[str, Any]:
        return {"iou": round(mask_iou(old, new), 4)}

    def transformed(
        self,
        m: Mask,
        matrix: Any,
        size: tuple[int, int],
        flip_pairs: Sequence[tuple[str, str]] = (),
    ) -> Mask | None:
        """RLE decoded, warped with nearest-neighbour sampling by the same matrix as the
        image, encoded again (pycocotools). Polygons are not kept: the warped raster is
        the mask now."""
        import cv2
        from dataclasses import replace
        from .mask import crop, _encode

        width, height = size
        # Warp only the region (offset folded into the matrix), not a full-image raster.
        shift = np.array([[1, 0, m.left], [0, 1, m.top], [0, 0, 1]], float)
        warped = cv2.warpPerspective(
            m.region(),
            cv_matrix(np.asarray(matrix) @ shift),
            (width, height),
            flags=cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        cut = crop(warped)
        if cut is None:
            return None
        region, x, y = cut
        return replace(
            m,
            rle=_encode(region),
            left=x,
            top=y,
            width=region.shape[1],
            height=region.shape[0],
            polygons=(),
        )

    def below_minimum(self, m: Mask, defect_class: Any, mm_per_px: float | None) -> bool:
        from .measure import AnnotationTooSmall
        from .mask_measure import check_min_size, measure

        try:
            check_min_size(measure(m, mm_per_px), defect_class)
        except AnnotationTooSmall:
            return True
        return False


def cv_matrix(matrix: Any) -> np.ndarray:
    """A corner-origin 3x3 matrix as OpenCV's warp wants it: OpenCV puts pixel centres
    at integer coordinates, this project puts them at +0.5 (pixel corners at integers)."""
    to_corner = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]], float)
    to_centre = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]], float)
    result: np.ndarray = to_centre @ np.asarray(matrix, float) @ to_corner
    return result


MASK = MaskKind()

__all__ = [
    "MASK",
    "MaskKind",
    "Mask",
    "MaskError",
    "mask_iou",
    "mask_iou_matrix",
    "pixel_agreement",
    "self_intersects",
]
