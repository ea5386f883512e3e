"""Copy-paste: a segmented defect instance from one train image onto a pass image of
the same profile and part (Ghiasi et al., CVPR 2021).

The pasted defect is placed where it was on its own image (images of one profile and
part come from one fixture, so that position is on the part) shifted by up to a tenth
of the frame, scaled and rotated within the recipe's jitter, and kept whole inside the
frame and on the part (`on_part`): the destination's pixels under a shifted paste must
look like those at the defect's own position there (mean grey within
`SURFACE_TOLERANCE`, spread at most `SPREAD_FACTOR` times it), so a shift onto a hole,
a fixture, an edge of the part or the background goes back to the defect's own
position. Blending keeps the destination's surface texture: OpenCV `seamlessClone` with
MIXED_CLONE for 8-bit colour, a feathered alpha mask otherwise (greyscale, 16-bit).
The pasted object becomes a labeled instance (its mask, and a box where the source had
one); existing objects it covers lose those pixels (`labels.occlude`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from ..core.kinds import MASK
from ..core.mask import Mask
from ..core.model import Annotation
from ..core.taxonomy import Taxonomy
from .labels import mask_of, occlude
from .ops import warp
from .recipe import Op


def placement(
    instance: Mask, size: tuple[int, int], op: Op, rng: np.random.Generator
) -> dict[str, Any]:
    """Scale, angle and shift for one paste (plain numbers, for the provenance)."""
    width, height = size
    return {
        "op": "copy_paste",
        "instance": instance.id,
        "scale": round(float(rng.uniform(op.low, op.high)), 6),
        "angle": round(float(rng.uniform(-1, 1) * op.get("degrees", 20)), 6),
        "dx": round(float(rng.uniform(-0.1, 0.1) * width), 3),
        "dy": round(float(rng.uniform(-0.1, 0.1) * height), 3),
        "blend": op.get("blend", "mixed"),
        "feather": op.get("feather", 3),
    }


def paste_matrix(instance: Mask, p: dict[str, Any], size: tuple[int, int]) -> np.ndarray:
    """Source -> destination: rotate/scale about the instance centre, then shift, then
    pull back inside the frame (2 px margin, which seamlessClone needs)."""
    cx, cy = instance.left + instance.width / 2, instance.top + instance.height / 2
    a = np.vstack([cv2.getRotationMatrix2D((cx, cy), p["angle"], p["scale"]), [0, 0, 1]])
    a[0, 2] += p["dx"]
    a[1, 2] += p["dy"]
    corners = np.array(
        [
            [instance.left, instance.top, 1],
            [instance.x2, instance.top, 1],
            [instance.left, instance.y2, 1],
            [instance.x2, instance.y2, 1],
        ],
        float,
    )
    moved = corners @ a.T
    width, height = size
    margin = 2.0
    for axis, limit in ((0, width), (1, height)):
        lo, hi = moved[:, axis].min(), moved[:, axis].max()
        shift = 0.0
        if hi - lo > limit - 2 * margin:
            shift = (limit - (hi + lo)) / 2  # bigger than the frame: centre it
        elif lo < margin:
            shift = margin - lo
        elif hi > limit - margin:
            shift = limit - margin - hi
        a[axis, 2] += round(shift)
    return a


def paste(
    dest: np.ndarray,
    dest_ann: Annotation,
    source: np.ndarray,
    source_ann: Annotation,
    instance: Mask,
    p: dict[str, Any],
    taxonomy: Taxonomy,
    mm_per_px: float | None,
) -> tuple[np.ndarray, Annotation, Counter[str]]:
    """The destination with the instance pasted, its labels, and objects dropped."""
    height, width = dest.shape[:2]
    size = (width, height)
    matrix = paste_matrix(instance, p, size)
    new_mask = MASK.transformed(instance, matrix, size)
    if new_mask is not None and (p["dx"] or p["dy"]):
        home = paste_matrix(instance, {**p, "dx": 0.0, "dy": 0.0}, size)
        home_mask = MASK.transformed(instance, home, size)
        if home_mask is not None and not on_part(dest, new_mask, home_mask):
            matrix, new_mask = home, home_mask  # the shift left the part: stay home
    if new_mask is None:
        return dest, dest_ann, Counter()
    new_mask = replace(new_mask, id=f"{p['id']}-m")
    moved = warp(source, matrix, size)
    if moved.ndim != dest.ndim:
        moved = _match_channels(moved, dest)
    region = new_mask.full(width, height)
    if p["blend"] == "mixed" and dest.dtype == np.uint8 and dest.ndim == 3 and dest.shape[2] == 3:
        out = _mixed_clone(moved, dest, region, p["feather"])
    else:
        out = _alpha(moved, dest, region, p["feather"])
    ann, dropped = occlude(dest_ann, new_mask, width, height, taxonomy, mm_per_px)
    ann = _add_instance(ann, source_ann, instance, new_mask)
    return out, ann, dropped


def _match_channels(img: np.ndarray, like: np.ndarray) -> np.ndarray:
    if img.ndim == 3 and like.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)


def _grown(region: np.ndarray, feather: float) -> np.ndarray:
    k = 2 * int(max(1, round(feather))) + 1
    return cv2.dilate(region, np.ones((k, k), np.uint8))


def _mixed_clone(
    src: np.ndarray, dst: np.ndarray, region: np.ndarray, feather: float
) -> np.ndarray:
    """Poisson blending that keeps whichever gradient is stronger (the defect's edges,
    the destination's grain). Both images are already aligned, so the clone's centre is
    the centre of the mask's bounding rectangle, as OpenCV computes it."""
    grown = _grown(region, feather)
    grown[:1, :] = grown[-1:, :] = 0
    grown[:, :1] = grown[:, -1:] = 0
    ys, xs = np.nonzero(grown)
    if not len(xs):
        return dst
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    centre = (int(x0 + (x1 - x0) // 2), int(y0 + (y1 - y0) // 2))
    return cv2.seamlessClone(src, dst, grown * 255, centre, cv2.MIXED_CLONE)


def _alpha(src: np.ndarray, dst: np.ndarray, region: np.ndarray, feather: float) -> np.ndarray:
    """Alpha blending through a feathered mask, at any depth and channel count."""
    alpha = _grown(region, feather).astype(np.float32)
    if feather > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), float(feather) / 2)
    alpha = np.maximum(alpha, region.astype(np.float32))  # the defect itself: opaque
    if dst.ndim == 3:
        alpha = alpha[..., None]
    out = dst.astype(np.float32) * (1 - alpha) + src.astype(np.float32) * alpha
    top = np.iinfo(dst.dtype).max
    return np.clip(np.rint(out), 0, top).astype(dst.dtype)


def _add_instance(
    ann: Annotation, source_ann: Annotation, instance: Mask, new_mask: Mask
) -> Annotation:
    boxes = ann.boxes
    src_box = next((b for b in source_ann.boxes if mask_of(b, (instance,)) is instance), None)
    if src_box is not None:
        boxes += (
            replace(
                src_box,
                x=float(new_mask.left),
                y=float(new_mask.top),
                w=float(new_mask.width),
                h=float(new_mask.height),
                id=f"{new_mask.id[:-2]}-b",
            ),
        )
    image_cls = ann.defect_class or (instance.cls if source_ann.defect_class else None)
    severity = ann.severity or (instance.severity if image_cls else None)
    return replace(
        ann,
        verdict="fail",
        defect_class=image_cls,
        severity=severity,
        masks=ann.masks + (new_mask,),
        boxes=boxes,
    )


SURFACE_TOLERANCE = 30.0  # grey levels (of 255) between the two places' means
SPREAD_FACTOR = 1.6  # a hole or an edge under the paste widens the grey spread


def _grey8(img: np.ndarray) -> np.ndarray:
    grey = img if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY)
    if grey.dtype != np.uint8:
        lo, hi = float(grey.min()), float(grey.max())
        grey = ((grey.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1.0))).astype(np.uint8)
    return grey.astype(np.float32)


def on_part(dest: np.ndarray, moved: Mask, home: Mask) -> bool:
    """Whether the destination under `moved` (grown by a margin) is the same kind of
    surface as under `home`, the defect's own position, which is on the part (images
    of one profile and part come from one fixture)."""
    height, width = dest.shape[:2]
    grey = _grey8(dest)
    kernel = np.ones((9, 9), np.uint8)
    there = cv2.dilate(moved.full(width, height), kernel).astype(bool)
    here = cv2.dilate(home.full(width, height), kernel).astype(bool)
    if not there.any() or not here.any():
        return True
    a, b = grey[there], grey[here]
    return (
        abs(float(a.mean()) - float(b.mean())) <= SURFACE_TOLERANCE
        and float(a.std()) <= SPREAD_FACTOR * float(b.std()) + 4.0
    )
