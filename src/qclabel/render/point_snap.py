"""Features a keypoint can snap to, near the cursor: hole and pin centres, corners.

Fixture points are physical features: a hole's centre, a pin or screw head, a tab's
tip or a corner. The part sits 10-25 px from its nominal fixture position, which by
cursor keys costs 8-14 keys a point; snapping costs one (`m`), or two when the nearest
feature is not the one meant (`m` again takes the next nearest).

Candidates in a window around the cursor:
  blobs    closed regions that differ from their surroundings (dark holes in a bright
           plate, bright pins, the dark cross of a screw head), by Otsu's threshold in
           both polarities; the centroid, to a fraction of a pixel
  corners  Shi-Tomasi corners (cv2.goodFeaturesToTrack) refined by cv2.cornerSubPix;
           corners on a blob's rim belong to the blob and are dropped
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

REACH_PX = 40  # the window reaches this far from the cursor
MIN_BLOB_PX = 12  # smaller regions are noise or texture
MAX_BLOB_SHARE = 0.25  # a region covering more of the window is background or the part
MAX_CORNERS = 12
RIM = 1.6  # corners this many blob radii from a blob's centre are its rim (shadow, burr)


@dataclass(frozen=True)
class Feature:
    x: float
    y: float
    kind: str  # "blob" or "corner"
    size: float = 0.0  # blob: equivalent radius in px

    def distance(self, x: float, y: float) -> float:
        return float(np.hypot(self.x - x, self.y - y))


def features_near(grey: np.ndarray, x: int, y: int, reach: int = REACH_PX) -> list[Feature]:
    """Features within `reach` px of (x, y) in an 8-bit image, nearest first."""
    h, w = grey.shape[:2]
    x0, y0 = max(0, x - reach), max(0, y - reach)
    x1, y1 = min(w, x + reach + 1), min(h, y + reach + 1)
    roi = grey[y0:y1, x0:x1]
    if roi.size == 0 or roi.min() == roi.max():
        return []
    smooth = cv2.GaussianBlur(roi, (0, 0), 1.0)
    blobs = _blobs(smooth)
    corners = [
        c
        for c in _corners(smooth)
        if not any(np.hypot(c.x - b.x, c.y - b.y) <= RIM * b.size + 3 for b in blobs)
    ]
    found = [Feature(f.x + x0, f.y + y0, f.kind, f.size) for f in blobs + corners]
    found = [f for f in found if f.distance(x, y) <= reach]
    return sorted(found, key=lambda f: f.distance(x, y))


def _blobs(roi: np.ndarray) -> list[Feature]:
    otsu, _ = cv2.threshold(roi, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    out: list[Feature] = []
    h, w = roi.shape
    for polarity in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):  # dark, then bright
        _, mask = cv2.threshold(roi, otsu, 255, polarity)
        n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, n):
            bx, by, bw, bh, area = stats[i]
            if bx == 0 or by == 0 or bx + bw >= w or by + bh >= h:
                continue  # cut by the window: background or the part itself, not a feature
            if not MIN_BLOB_PX <= area <= MAX_BLOB_SHARE * h * w:
                continue
            cx, cy = centroids[i]
            out.append(Feature(float(cx), float(cy), "blob", float(np.sqrt(area / np.pi))))
    return out


def _corners(roi: np.ndarray) -> list[Feature]:
    pts = cv2.goodFeaturesToTrack(roi, MAX_CORNERS, qualityLevel=0.15, minDistance=5)
    if pts is None:
        return []
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05)
    refined = cv2.cornerSubPix(
        roi.astype(np.float32), pts.astype(np.float32), (3, 3), (-1, -1), criteria
    )
    return [Feature(float(px), float(py), "corner") for px, py in refined.reshape(-1, 2)]
