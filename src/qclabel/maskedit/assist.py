"""Box -> mask assists, and the interface a site uses to add its own mask model.

An assist gets the image, a box and optional foreground/background strokes, and
proposes the mask inside the box:

    class MyModel:                       # e.g. an ONNX file the site provides
        name = "site-sam"
        description = "our MobileSAM export, /opt/models/sam.onnx"
        def propose(self, req: AssistRequest) -> np.ndarray:
            ...                          # bool array, req.box's height x width

and registers it as an entry point of its own small package (nothing is downloaded):

    [project.entry-points."qclabel.mask_assist"]
    site-sam = "site_models:MyModel"     # a class or factory taking no arguments

Built in: `grabcut` (OpenCV GrabCut on the box region and a margin around it, strokes
as sure foreground/background), `watershed` (markers: the margin is background, the
strokes or the dark/bright minority inside the box foreground) and `threshold` (Otsu
inside the box, the minority side: dark pores on bright metal). Whatever an assist
returns is made binary and cut to the box, so a plugin cannot write outside it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from .brush import Patch, clip_patch

GROUP = "qclabel.mask_assist"
log = logging.getLogger(__name__)
BoxPx = tuple[int, int, int, int]  # x, y, w, h in image pixels


@dataclass(frozen=True)
class AssistRequest:
    image: np.ndarray  # the whole image, H x W (grey) or H x W x 3
    box: BoxPx  # clipped to the image
    fg: np.ndarray | None = None  # bool, box-sized: pixels marked foreground
    bg: np.ndarray | None = None  # bool, box-sized: pixels marked background

    def crop(self, margin: int = 0) -> tuple[np.ndarray, int, int]:
        """The image around the box (plus `margin`, clipped) and its offset."""
        x, y, w, h = self.box
        ih, iw = self.image.shape[:2]
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(iw, x + w + margin), min(ih, y + h + margin)
        return self.image[y0:y1, x0:x1], x0, y0


@runtime_checkable
class MaskAssist(Protocol):
    name: str
    description: str

    def propose(self, req: AssistRequest) -> np.ndarray: ...


def to_bgr8(img: np.ndarray) -> np.ndarray:
    """8-bit, 3 channels (what grabCut and watershed take); 16-bit is stretched."""
    if img.dtype != np.uint8:
        lo, hi = float(img.min()), float(img.max())
        img = ((img.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1.0))).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img[..., :3])


def to_grey8(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(to_bgr8(img), cv2.COLOR_BGR2GRAY)


def margin_of(box: BoxPx) -> int:
    return max(8, round(max(box[2], box[3]) * 0.25))


def _place(req: AssistRequest, region: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """A crop-sized result cut to the box."""
    x, y, w, h = req.box
    return region[y - y0 : y - y0 + h, x - x0 : x - x0 + w].astype(bool)


def _strokes_into(req: AssistRequest, shape, x0: int, y0: int):
    x, y, w, h = req.box
    out = []
    for s in (req.fg, req.bg):
        full = np.zeros(shape, bool)
        if s is not None:
            full[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = s
        out.append(full)
    return out


class GrabCut:
    name, description = "grabcut", "OpenCV GrabCut on the box region (strokes re-run it)"
    iterations = 4

    def propose(self, req: AssistRequest) -> np.ndarray:
        crop, x0, y0 = req.crop(margin_of(req.box))
        img = to_bgr8(crop)
        x, y, w, h = req.box
        rect = (x - x0, y - y0, w, h)
        mask = np.zeros(img.shape[:2], np.uint8)
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        fg, bg = _strokes_into(req, mask.shape, x0, y0)
        if fg.any() or bg.any():
            mask[:] = cv2.GC_BGD
            mask[rect[1] : rect[1] + h, rect[0] : rect[0] + w] = cv2.GC_PR_FGD
            mask[fg], mask[bg] = cv2.GC_FGD, cv2.GC_BGD
            mode = cv2.GC_INIT_WITH_MASK
        else:
            mode = cv2.GC_INIT_WITH_RECT
        if w < 2 or h < 2:
            return np.zeros((h, w), bool)
        # GrabCut seeds its colour models from OpenCV's process-wide RNG: seed it, so the
        # same box and strokes always give the same mask (whatever ran before).
        cv2.setRNGSeed(0)
        cv2.grabCut(img, mask, rect, bgd, fgd, self.iterations, mode)
        return _place(req, (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), x0, y0)


def minority(grey: np.ndarray) -> np.ndarray:
    """Otsu's split of the box, the side that touches the box border less (the
    defect sits inside its box; the surface around it reaches the border)."""
    _, dark = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    dark = dark.astype(bool)
    border = np.ones_like(dark)
    border[1:-1, 1:-1] = False
    dark_edge = (dark & border).sum() / max(dark.sum(), 1)
    bright_edge = (~dark & border).sum() / max((~dark).sum(), 1)
    return dark if dark_edge <= bright_edge else ~dark


class Threshold:
    name, description = "threshold", "Otsu inside the box, the minority side (dark pores)"

    def propose(self, req: AssistRequest) -> np.ndarray:
        crop, x0, y0 = req.crop(0)
        out = minority(to_grey8(crop))
        if req.fg is not None:
            out |= req.fg
        if req.bg is not None:
            out &= ~req.bg
        return out


class Watershed:
    name, description = "watershed", "OpenCV watershed: margin = background, minority = seed"

    def propose(self, req: AssistRequest) -> np.ndarray:
        crop, x0, y0 = req.crop(margin_of(req.box))
        img = to_bgr8(crop)
        x, y, w, h = req.box
        markers = np.ones(img.shape[:2], np.int32)  # 1: background
        inner = markers[y - y0 : y - y0 + h, x - x0 : x - x0 + w]
        inner[:] = 0  # unknown inside the box
        fg, bg = _strokes_into(req, markers.shape, x0, y0)
        if fg.any():
            markers[fg] = 2
        else:
            seed = minority(to_grey8(crop[y - y0 : y - y0 + h, x - x0 : x - x0 + w]))
            seed = (
                cv2.erode(seed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
                if seed.sum() > 20
                else seed
            )
            inner[seed] = 2
        markers[bg] = 1
        cv2.watershed(img, markers)
        return _place(req, markers == 2, x0, y0)


BUILTIN: tuple[MaskAssist, ...] = (GrabCut(), Watershed(), Threshold())


def load_assists() -> list[MaskAssist]:
    """The built-ins, then the site's plugins (entry points of GROUP). A plugin that
    fails to load is left out with a log line, never a crash of the editor."""
    out: list[MaskAssist] = list(BUILTIN)
    for ep in entry_points(group=GROUP):
        try:
            made = ep.load()()
        except Exception as exc:  # a site plugin's own error
            log.warning("mask assist %s not loaded: %s", ep.name, exc)
            continue
        if isinstance(made, MaskAssist):
            out.append(made)
        else:
            log.warning("mask assist %s has no name/description/propose", ep.name)
    return out


def run(assist: MaskAssist, req: AssistRequest) -> Patch | None:
    """The assist's proposal as a binary patch cut to the box and the image."""
    x, y, w, h = req.box
    out = np.asarray(assist.propose(req))
    if out.shape[:2] != (h, w):
        raise ValueError(
            f"mask assist {assist.name} returned {out.shape[:2]}, not the box's {(h, w)}"
        )
    ih, iw = req.image.shape[:2]
    return clip_patch(out.astype(bool), x, y, iw, ih)


def flood(
    image: np.ndarray, x: int, y: int, tolerance: int, region: BoxPx | None = None
) -> Patch | None:
    """Pixels connected to (x, y) (8-neighbours) whose grey level is within
    `tolerance` of the seed's, optionally inside `region` (the visible part)."""
    grey = to_grey8(image)
    ih, iw = grey.shape
    rx, ry, rw, rh = region or (0, 0, iw, ih)
    rx, ry = max(0, rx), max(0, ry)
    rw, rh = min(iw - rx, rw), min(ih - ry, rh)
    if not (rx <= x < rx + rw and ry <= y < ry + rh):
        return None
    roi = np.ascontiguousarray(grey[ry : ry + rh, rx : rx + rw])
    mask = np.zeros((rh + 2, rw + 2), np.uint8)
    t = int(max(0, min(255, tolerance)))
    flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    cv2.floodFill(roi, mask, (x - rx, y - ry), 0, (t,), (t,), flags)
    return clip_patch(mask[1:-1, 1:-1].astype(bool), rx, ry, iw, ih)
