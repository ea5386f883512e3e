"""Masks: a binary raster in canonical-image pixels, stored as COCO RLE of its region.

A `Mask` keeps the compressed COCO RLE (`pycocotools.mask`, column-major counts) of
its tight bounding region, and where that region sits: `left, top, width, height`
(the layout CVAT keeps). A mask drawn or imported as polygons keeps them too
(`polygons`, COCO layout `[x1, y1, x2, y2, ...]` per ring, corner-origin pixels), so it
stays editable as a polygon; its raster is pycocotools' rasterization of them, the one
rasterizer this project takes as the truth (cv2.fillPoly differs by a pixel on edges).

The raster API is what an editor needs: `region()` / `full()` decode, `painted()`
applies one stroke (a patch of pixels set or cleared) and returns the new mask with the
same id. Every function returns a new, immutable Mask; a label change is `core.edits`'.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Sequence

import numpy as np
from pycocotools import mask as cocomask

from ..errors import QclabelError
from .ids import new_id
from .mask_rle import paste, whole_image_rle  # noqa: F401  (importable from here)

Polygon = tuple[float, ...]


MAX_RASTER_PIXELS = 250_000_000  # the default limits.max_pixels of a catalog image


class MaskError(QclabelError):
    """A mask that cannot exist: empty, outside the image, or a broken RLE/polygon."""


def _rle(counts: str, width: int, height: int) -> dict[str, Any]:
    return {"size": [height, width], "counts": counts.encode("ascii")}


def _encode(arr: np.ndarray) -> str:
    result: str = cocomask.encode(np.asfortranarray(arr, dtype=np.uint8))["counts"].decode("ascii")
    return result


def crop(arr: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """The tight region of the set pixels and its offset, or None when none is set."""
    rows, cols = np.flatnonzero(arr.any(axis=1)), np.flatnonzero(arr.any(axis=0))
    if not len(rows):
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return arr[y0:y1, x0:x1], int(x0), int(y0)


@dataclass(frozen=True)
class Mask:
    """One mask object: a defect instance, or a class layer of a semantic task."""

    cls: str
    rle: str  # compressed COCO RLE counts of the region (height x width)
    left: int
    top: int
    width: int
    height: int
    severity: str | None = None
    id: str = field(default_factory=new_id)
    polygons: tuple[Polygon, ...] = ()
    # True when the annotator chose the severity against the taxonomy's thresholds.
    severity_override: bool = False

    def __post_init__(self) -> None:
        try:
            placed = all(math.isfinite(v) for v in (self.left, self.top, self.width, self.height))
        except TypeError:
            placed = False
        if not placed:
            raise MaskError(
                f"mask of {self.cls}: left, top, width, height = {self.left!r}, "
                f"{self.top!r}, {self.width!r}, {self.height!r}: must be finite "
                "numbers"
            )
        if not all(math.isfinite(v) for p in self.polygons for v in p):
            raise MaskError(
                f"mask of {self.cls}: polygon coordinates must be finite numbers (no NaN or inf)"
            )

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_array(
        cls, defect_class: str, arr: np.ndarray, left: int = 0, top: int = 0, **kw: Any
    ) -> "Mask":
        """A mask of the set pixels of `arr`, whose top-left pixel is at (left, top)."""
        cut = crop(np.asarray(arr).astype(bool))
        if cut is None:
            raise MaskError(f"mask of {defect_class} is empty: no pixel is set")
        region, x, y = cut
        return cls(
            defect_class, _encode(region), left + x, top + y, region.shape[1], region.shape[0], **kw
        )

    @classmethod
    def from_polygons(
        cls, defect_class: str, polygons: Sequence[Sequence[float]], **kw: Any
    ) -> "Mask":
        """A mask drawn as polygons (their union); the polygons are kept."""
        rings = tuple(tuple(float(v) for v in p) for p in polygons)
        arr, x, y = rasterize(rings)
        return replace(cls.from_array(defect_class, arr, x, y, **kw), polygons=rings)

    @classmethod
    def from_rle(cls, defect_class: str, rle: dict[str, Any], **kw: Any) -> "Mask":
        """A mask from a whole-image COCO RLE (compressed or uncompressed counts)."""
        h, w = rle["size"]
        if isinstance(rle["counts"], list):
            rle = cocomask.frPyObjects(rle, h, w)
        return cls.from_array(defect_class, cocomask.decode(rle), **kw)

    # -- raster ---------------------------------------------------------------------
    def region(self) -> np.ndarray:
        """The region's pixels (height x width, uint8 0/1)."""
        result: np.ndarray = cocomask.decode(_rle(self.rle, self.width, self.height))
        return result

    def full(self, width: int, height: int) -> np.ndarray:
        """The whole-image raster (height x width, uint8 0/1); pixels outside are cut."""
        out = np.zeros((height, width), np.uint8)
        paste(out, self.region(), self.left, self.top)
        return out

    @property
    def area(self) -> int:
        return int(cocomask.area(_rle(self.rle, self.width, self.height)))

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """x, y, w, h of the tight bounding box, in pixels."""
        return self.left, self.top, self.width, self.height

    @property
    def x2(self) -> int:
        return self.left + self.width

    @property
    def y2(self) -> int:
        return self.top + self.height

    def painted(self, patch: np.ndarray, x: int, y: int, value: bool = True) -> "Mask":
        """One stroke: the pixels set in `patch` (top-left at x, y) become `value`.

        The region grows to cover the stroke and shrinks back to the set pixels; the
        polygons are dropped (the mask is painted now). Raises MaskError when the
        stroke erases every pixel (delete the mask instead)."""
        patch = np.asarray(patch).astype(bool)
        x0, y0 = min(self.left, x), min(self.top, y)
        x1 = max(self.x2, x + patch.shape[1])
        y1 = max(self.y2, y + patch.shape[0])
        canvas = np.zeros((y1 - y0, x1 - x0), bool)
        paste(canvas, self.region().astype(bool), self.left - x0, self.top - y0)
        view = canvas[y - y0 : y - y0 + patch.shape[0], x - x0 : x - x0 + patch.shape[1]]
        if value:
            view |= patch
        else:
            view &= ~patch
        kept = Mask.from_array(self.cls, canvas, x0, y0)
        return replace(
            self,
            rle=kept.rle,
            left=kept.left,
            top=kept.top,
            width=kept.width,
            height=kept.height,
            polygons=(),
        )

    def clipped(self, width: int, height: int) -> "Mask | None":
        """The part inside a width x height image (None when nothing is left)."""
        if self.left >= 0 and self.top >= 0 and self.x2 <= width and self.y2 <= height:
            return self
        arr = self.full(width, height)
        cut = crop(arr)
        if cut is None:
            return None
        region, x, y = cut
        return replace(
            self,
            rle=_encode(region),
            left=x,
            top=y,
            width=region.shape[1],
            height=region.shape[0],
            polygons=(),
        )

    def coco_rle(self, width: int, height: int) -> dict[str, Any]:
        """Whole-image compressed COCO RLE (counts as str, ready for JSON)."""
        rle = whole_image_rle(self.region(), self.left, self.top, width, height)
        return {"size": [height, width], "counts": rle["counts"].decode("ascii")}

    # -- serialization ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["polygons"] = [list(p) for p in self.polygons]
        if not self.polygons:
            del d["polygons"]
        if not self.severity_override:
            del d["severity_override"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Mask":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known["polygons"] = tuple(tuple(float(v) for v in p) for p in d.get("polygons", ()))
        return cls(**known)


def polygon_bounds(rings: Iterable[Polygon]) -> tuple[int, int, int, int]:
    """Integer pixel bounds x0, y0, x1, y1 (exclusive) covering every vertex."""
    xs = [v for r in rings for v in r[0::2]]
    ys = [v for r in rings for v in r[1::2]]
    return (
        int(np.floor(min(xs))),
        int(np.floor(min(ys))),
        int(np.ceil(max(xs))) + 1,
        int(np.ceil(max(ys))) + 1,
    )


def rasterize(rings: Sequence[Polygon]) -> tuple[np.ndarray, int, int]:
    """pycocotools' raster of the union of `rings`, over the rings' own region (an
    integer shift does not change pycocotools' rasterization), and its offset."""
    if not rings or any(len(r) < 6 or len(r) % 2 for r in rings):
        raise MaskError("a polygon needs at least 3 points (x, y pairs)")
    if not all(math.isfinite(v) for r in rings for v in r):
        raise MaskError("polygon coordinates must be finite numbers (no NaN or inf)")
    x0, y0, x1, y1 = polygon_bounds(rings)
    if (x1 - x0) * (y1 - y0) > MAX_RASTER_PIXELS:
        raise MaskError(f"polygon spans {x1 - x0}x{y1 - y0} pixels: larger than any image")
    shifted = [[v - (x0 if i % 2 == 0 else y0) for i, v in enumerate(r)] for r in rings]
    h, w = y1 - y0, x1 - x0
    rle = cocomask.merge(cocomask.frPyObjects(shifted, h, w))
    return cocomask.decode(rle), x0, y0


def outline(mask: Mask, epsilon: float = 1.4) -> list[Polygon]:
    """Polygons of a painted mask (outer contours, `cv2.approxPolyDP` at `epsilon` px,
    the simplification labelme and CVAT settled on). Holes are not polygons; see
    `formats.masks_yolo` for how a YOLO export bridges them."""
    import cv2

    if mask.polygons:
        return list(mask.polygons)
    region = np.pad(mask.region(), 1)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = []
    for c in contours:
        approx = cv2.approxPolyDP(c, epsilon, True) if len(c) > 3 else c
        pts = approx.reshape(-1, 2).astype(float) + (mask.left - 1, mask.top - 1)
        out.append(pixel_ring(pts))
    return [r for r in out if len(r) >= 6]


def pixel_ring(pts: np.ndarray) -> Polygon:
    """Contour pixel centres -> a ring through pixel-centre coordinates (+0.5)."""
    return tuple(round(float(v) + 0.5, 2) for v in pts.reshape(-1))
