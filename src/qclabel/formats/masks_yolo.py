"""YOLO segment labels (`--task segment`): one row per instance, `class x1 y1 x2 y2 ...`
normalized to [0, 1].

A YOLO row holds one polygon, but a mask may have holes (a pore ring) or several parts
(a pore cluster, a crack broken by a weld bead). Each part becomes a row of its own
(from OpenCV's contours at ε = 1.4 px, or the polygons a mask was drawn with): bridging
parts into one ring, as Ultralytics' COCO converter does, makes `cv2.fillPoly` paint
every cut between them (a cluster of ten 3 px pores lost half its IoU that way). Holes
are bridged into their part's outer ring at the closest vertices by a zero-width cut,
there and back; filled with the even-odd rule, which is how both `cv2.fillPoly`
(Ultralytics' polygon2mask) and pycocotools rasterize, the ring keeps the hole. An
import therefore gives one mask per part.
Points are pixel centres (x + 0.5), so Ultralytics' truncation to int32 lands on the
pixel itself. Boxes of a segment export are written as their 4-corner polygons (a segment file
cannot mix 5-value rows); keypoint sets have no segment form and are counted as skipped.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..core.mask import Mask, MaskError, pixel_ring
from ..errors import FormatError
from .dataset import Dataset, ExportImage
from .masks_common import export_masks


def _ring(c: np.ndarray, m: Mask, epsilon: float) -> np.ndarray | None:
    approx = cv2.approxPolyDP(c, epsilon, True)
    if len(approx) < 3:  # a hair-thin scratch: simplification would lose it
        approx = c
    pts = np.asarray(pixel_ring(approx.reshape(-1, 2) + (m.left - 1, m.top - 1)))
    return pts.reshape(-1, 2) if len(pts) >= 6 else None


def parts_of(m: Mask, epsilon: float = 1.4) -> list[list[np.ndarray]]:
    """Per part of the mask, its rings: [outer, hole, hole...] (pixel-centre points);
    a drawn mask's parts are its polygons."""
    if m.polygons:
        return [[np.asarray(p, float).reshape(-1, 2)] for p in m.polygons]
    region = np.pad(m.region(), 1)
    contours, hierarchy = cv2.findContours(region, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    parts: dict[int, list[np.ndarray]] = {}
    for i, c in enumerate(contours):
        parent = int(hierarchy[0][i][3])
        ring = _ring(c, m, epsilon)
        if ring is not None:
            parts.setdefault(i if parent < 0 else parent, []).append(ring)
    out = [rings for rings in parts.values() if rings]
    if not out:  # one or two pixels: their box
        out.append(
            [np.array([(m.left, m.top), (m.x2, m.top), (m.x2, m.y2), (m.left, m.y2)], float)]
        )
    return out


def bridge(rings: list[np.ndarray]) -> np.ndarray:
    """One ring through an outer ring and its holes: each hole is visited from the
    outer ring's vertex closest to it, all the way round, and back along the same cut."""
    if len(rings) == 1:
        return rings[0]
    base = rings[0]
    visits: dict[int, list[np.ndarray]] = {}
    for ring in rings[1:]:
        d = np.hypot(*(base[:, None, :] - ring[None, :, :]).transpose(2, 0, 1))
        a, b = np.unravel_index(int(np.argmin(d)), d.shape)
        rolled = np.roll(ring, -b, axis=0)
        visits.setdefault(int(a), []).append(np.vstack([rolled, rolled[:1]]))
    out = []
    for i, v in enumerate(base):
        out.append(v[None, :])
        for ring in visits.get(i, []):
            out += [ring, v[None, :]]
    return np.vstack(out)


def n6(v: float) -> str:
    return f"{min(max(v, 0.0), 1.0):.6f}"


def segment_rows(
    ds: Dataset, image: ExportImage, severities: list[str | None] | None = None
) -> list[str]:
    """The rows; `severities`, when given, gets each row's object severity."""
    w, h = image.record.width, image.record.height
    rows = []
    sev: list[str | None] = [] if severities is None else severities
    for box in ds.boxes(image):
        x0, y0, x1, y1 = box.x / w, box.y / h, box.x2 / w, box.y2 / h
        rows.append(
            f"{ds.class_id(box.cls, image)} "
            + " ".join(n6(v) for v in (x0, y0, x1, y0, x1, y1, x0, y1))
        )
        sev.append(box.severity)
    for m in export_masks(ds, image):
        for rings in parts_of(m):
            coords = " ".join(f"{n6(x / w)} {n6(y / h)}" for x, y in bridge(rings))
            rows.append(f"{ds.class_id(m.cls, image)} {coords}")
            sev.append(m.severity)
    return rows


def is_segment_row(vals: list[float]) -> bool:
    """class + at least 3 points (an optional confidence makes the count even)."""
    return len(vals) >= 7


def parse_row(
    vals: list[float], cls: str, width: int, height: int, where: str
) -> tuple[Mask, float | None]:
    """A mask from one segment row, and its confidence if the row has one.

    Rasterized the way Ultralytics trains on it (polygon2mask: points scaled to pixels,
    truncated to int32, `cv2.fillPoly`), so a bridged ring keeps its holes and parts;
    the mask is kept as that raster."""
    score = vals.pop() if len(vals) % 2 == 0 else None
    coords = np.asarray(vals[1:], float)
    if (coords < 0).any() or (coords > 1).any():
        raise FormatError(f"{where}: segment points outside [0, 1] (polygon outside image)")
    ring = (coords.reshape(-1, 2) * (width, height)).astype(np.int32)
    canvas = np.zeros((height, width), np.uint8)
    cv2.fillPoly(canvas, [ring], 1)
    try:
        return Mask.from_array(cls, canvas), score
    except MaskError as exc:
        raise FormatError(f"{where}: {exc}") from None
