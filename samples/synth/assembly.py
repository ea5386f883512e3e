"""samples/assembly/: a bracket with two holes, a tab and a screw, with keypoints for the
`bracket` template of the assembly-keypoints taxonomy (mm_per_px 0.2: the nominal 40 mm
hole distance is 200 px). One bracket is out of tolerance, one lacks its screw."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .common import box_entry, brushed, rng_for, smooth_noise, to_u8, write_png

W, H = 480, 360
MM_PER_PX = 0.2
HOLE_R, SCREW_R = 12, 14
# Bracket-local geometry in px: 200 px between holes, 125 px (25 mm) hole_left -> tab tip.
PLATE = [(-140, -30), (-40, -30), (-12, -70), (0, -75), (12, -70), (40, -30), (140, -30),
         (140, 70), (-140, 70)]

PLAN = [  # (name, hole distance px, screw present, rotation deg, centre)
    ("bracket_0001.png", 200.0, True, -4.0, (236, 196)),
    ("bracket_0002.png", 206.0, True, 6.0, (248, 190)),  # holes 41.2 mm apart: out of tol
    ("bracket_0003.png", 200.0, False, 2.0, (230, 200)),  # screw missing
]


def _xf(points, angle, centre):
    a = np.radians(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.asarray(points, float) @ rot.T + np.asarray(centre, float)


def render(rng, hole_dist, screw, angle, centre):
    shape = (H, W)
    bg = 72 + 6 * smooth_noise(rng, shape, 25)
    kp = dict(zip(["hole_left", "hole_right", "tab_tip", "screw"],
                  _xf([(-100, 0), (-100 + hole_dist, 0), (0, -75), (0, 45)], angle, centre)))
    plate = np.zeros(shape, np.uint8)
    poly = _xf(PLATE, angle, centre)
    cv2.fillPoly(plate, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    alpha = plate.astype(np.float32) / 255
    shadow = cv2.GaussianBlur(np.roll(alpha, (5, 5), (0, 1)), (0, 0), 4)
    metal = 165 + brushed(rng, shape, angle, amp=4) + 12 * smooth_noise(rng, shape, 60)
    grey = bg * (1 - 0.45 * shadow)
    grey = grey * (1 - alpha) + metal * alpha
    for name in ("hole_left", "hole_right"):  # through holes: see the fixture below
        hx, hy = kp[name]
        hole = np.zeros(shape, np.uint8)
        cv2.circle(hole, (int(hx * 16), int(hy * 16)), HOLE_R * 16, 255, -1, cv2.LINE_AA, 4)
        a = hole.astype(np.float32) / 255
        grey = grey * (1 - a) + 40 * a
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    sx, sy = kp["screw"]
    d = np.hypot(xx - sx, yy - sy)
    if screw:  # domed head, lit from the upper left, with a cross recess
        head = np.clip(SCREW_R + 0.5 - d, 0, 1)
        dome = 190 + 50 * (-(xx - sx) - (yy - sy)) / SCREW_R * 0.5 - 30 * (d / SCREW_R) ** 2
        grey = grey * (1 - head) + dome * head
        slot = np.zeros(shape, np.uint8)
        for dx, dy in ((1, 0), (0, 1)):
            p0 = (int((sx - 8 * dx) * 16), int((sy - 8 * dy) * 16))
            p1 = (int((sx + 8 * dx) * 16), int((sy + 8 * dy) * 16))
            cv2.line(slot, p0, p1, 255, 3, cv2.LINE_AA, 4)
        grey -= 90 * slot.astype(np.float32) / 255
    else:  # the empty tapped hole
        grey = np.where(d < 5.5, 45.0, grey)
    return grey, kp, alpha


def generate(out: Path, seed: int) -> tuple[dict, dict]:
    files = {}
    for name, dist, screw, angle, centre in PLAN:
        key = f"assembly/{name}"
        grey, kp, alpha = render(rng_for(key, seed), dist, screw, angle, centre)
        write_png(out / key, to_u8(np.stack([grey * 1.02, grey, grey * 0.97], -1)))
        ys, xs = np.nonzero(alpha > 0.5)
        boxes = [box_entry("bracket", (xs.min(), ys.min(), xs.max() - xs.min() + 1,
                                       ys.max() - ys.min() + 1))]
        points = [[n, round(float(x), 1), round(float(y), 1), 2] for n, (x, y) in kp.items()]
        if not screw:
            sx, sy = kp["screw"]
            points[3] = ["screw", 0.0, 0.0, 0]
            boxes.append(box_entry("missing-component", (sx - 10, sy - 10, 21, 21),
                                   None))
        dist_mm = round(dist * MM_PER_PX, 2)
        ok = abs(dist_mm - 40.0) <= 0.5 and screw
        files[key] = {
            "width": W, "height": H, "verdict": "pass" if ok else "fail",
            "taxonomy": "assembly-keypoints", "source": "area-scan", "mm_per_px": MM_PER_PX,
            "fields": {"part": "bracket"}, "boxes": boxes,
            "keypoints": [{"template": "bracket", "cls": "bracket", "id": f"gt-{name[:-4]}",
                           "points": points}],
            "measurements_mm": {"hole_left-hole_right": dist_mm,
                                "hole_left-tab_tip": round(125 * MM_PER_PX, 2)},
        }
    return files, {}
