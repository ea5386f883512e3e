"""Mask editing tools, headless: brush/eraser strokes, polygons with holes, flood fill,
box -> mask assists (GrabCut, watershed, threshold, site plugins), and the "protect
other instances" rule. Pure numpy/OpenCV on canonical-image pixels; no Textual.

Every tool returns a patch (a bool array and the image pixel of its top-left corner),
already clipped to the image. A screen turns a patch into one journaled edit
(`core.mask_edits.paint` / `new_mask`), so undo takes back a whole stroke or tool action.
"""

from .brush import Patch, Stroke, clip_patch, protect, tip
from .polygon import PolygonDraft

__all__ = ["Patch", "Stroke", "PolygonDraft", "clip_patch", "protect", "tip"]
