"""The operations: sampling their parameters, one geometric matrix, photometric changes.

Every random choice comes from one `numpy.random.Generator` seeded per synthetic image
(`[seed, index]`), and is written down as plain numbers in the image's provenance, so
the same version, recipe and seed give the same pixels whatever ran them (a process
pool, a Dask cluster, in any order).

Geometry is one 3x3 matrix in corner-origin pixel coordinates (a pixel's top-left
corner at integers, as every label in qclabel): the image, every box, keypoint and mask
go through that single matrix (`core.kinds` `transformed` hooks).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ..core.mask_kind import cv_matrix
from .recipe import GEOMETRIC, PHOTOMETRIC, Recipe


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return round(float(rng.uniform(low, high)), 6)


def sample(recipe: Recipe, rng: np.random.Generator) -> list[dict[str, Any]]:
    """The operations that fire for one image, in a fixed order, with their values."""
    out: list[dict[str, Any]] = []
    for name in (*GEOMETRIC, *PHOTOMETRIC):
        op = recipe.op(name)
        # Two draws for every known op, listed or not, firing or not: adding an op to
        # a recipe, or changing a probability, leaves the other ops' values alone
        # (crop and perspective draw more, only when they fire).
        fires = op is not None and rng.random() < op.p
        value = rng.random()
        if not fires:
            continue
        if name in ("hflip", "vflip"):
            out.append({"op": name})
        elif name == "rot90":
            out.append({"op": name, "k": 1 + int(value * 3) % 3})
        elif name == "perspective":
            shifts = rng.uniform(-1, 1, 8) * _u(rng, op.low, op.high)
            out.append({"op": name, "shifts": [round(float(s), 6) for s in shifts]})
        elif name == "jpeg":
            out.append({"op": name, "value": int(round(op.low + value * (op.high - op.low)))})
        elif name == "crop":
            out.append(
                {
                    "op": name,
                    "value": _u(rng, op.low, op.high),
                    "at": [round(float(rng.random()), 6), round(float(rng.random()), 6)],
                }
            )
        else:
            out.append({"op": name, "value": round(op.low + value * (op.high - op.low), 6)})
    return out


def geometry(
    ops: list[dict[str, Any]], width: int, height: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """The one matrix of the geometric ops, and the output (width, height)."""
    m = np.eye(3)
    w, h = float(width), float(height)
    for o in ops:
        name = o["op"]
        if name == "hflip":
            m = np.array([[-1, 0, w], [0, 1, 0], [0, 0, 1]]) @ m
        elif name == "vflip":
            m = np.array([[1, 0, 0], [0, -1, h], [0, 0, 1]]) @ m
        elif name == "rot90":
            for _ in range(o["k"]):  # clockwise quarter turn: (x, y) -> (h - y, x)
                m = np.array([[0, -1, h], [1, 0, 0], [0, 0, 1]]) @ m
                w, h = h, w
        elif name in ("rotate", "scale"):
            angle = o["value"] if name == "rotate" else 0.0
            s = o["value"] if name == "scale" else 1.0
            a = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, s), [0, 0, 1]])
            m = a @ m
        elif name == "crop":
            k = o["value"]
            cw, ch = w * k, h * k
            x0, y0 = o["at"][0] * (w - cw), o["at"][1] * (h - ch)
            m = np.array([[w / cw, 0, -x0 * w / cw], [0, h / ch, -y0 * h / ch], [0, 0, 1]]) @ m
        elif name == "perspective":
            src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
            d = np.asarray(o["shifts"], float).reshape(4, 2) * [w, h]
            m = cv2.getPerspectiveTransform(src, np.float32(src + d)) @ m
    return m, (int(round(w)), int(round(h)))


def warp(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The image through the matrix; pixels from outside the frame are black (never a
    reflected copy, which would add an unlabeled defect)."""
    if np.allclose(matrix, np.eye(3)):
        return image.copy()
    flags = cv2.INTER_LINEAR
    if np.allclose(matrix[2], [0, 0, 1]):
        return cv2.warpAffine(
            image,
            cv_matrix(matrix)[:2],
            size,
            flags=flags,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
    return cv2.warpPerspective(
        image, cv_matrix(matrix), size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def photometric(
    image: np.ndarray, ops: list[dict[str, Any]], rng: np.random.Generator
) -> np.ndarray:
    """Brightness, contrast, gamma, colour, blur, noise and JPEG, in that order, at the
    image's own depth: a 16-bit image stays 16-bit (full scale 65535)."""
    names = {o["op"]: o for o in ops}
    if not any(n in PHOTOMETRIC for n in names):
        return image
    top = 65535.0 if image.dtype == np.uint16 else 255.0
    f = image.astype(np.float32) / top
    if "brightness" in names:
        f = f + names["brightness"]["value"]
    if "contrast" in names:
        mean = float(f.mean())
        f = (f - mean) * names["contrast"]["value"] + mean
    if "gamma" in names:
        f = np.power(np.clip(f, 0, 1), names["gamma"]["value"])
    if "colour" in names and f.ndim == 3:
        gains = 1 + names["colour"]["value"] * np.array([1.0, -0.5, -0.5], np.float32)
        f = f * gains[: f.shape[2]]
    if "blur" in names:
        f = cv2.GaussianBlur(f, (0, 0), names["blur"]["value"])
    if "noise" in names:
        f = f + rng.standard_normal(f.shape, np.float32) * names["noise"]["value"]
    if "shot_noise" in names:
        # Photon noise grows with the square root of the signal.
        f = f + rng.standard_normal(f.shape, np.float32) * names["shot_noise"]["value"] * np.sqrt(
            np.clip(f, 0, 1)
        )
    out = np.clip(np.rint(f * top), 0, top).astype(image.dtype)
    if "jpeg" in names and out.dtype == np.uint8:
        out = _jpeg(out, names["jpeg"]["value"])
    return out


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        return image
    flag = cv2.IMREAD_UNCHANGED
    return cv2.imdecode(buf, flag).reshape(image.shape)


def scale_of(matrix: np.ndarray) -> float:
    """Linear scale of the transform (for the mm-per-pixel of the new image)."""
    return math.sqrt(abs(float(np.linalg.det(matrix[:2, :2])))) or 1.0
