"""Mask editor: GrabCut on a box region of a 5 MP image beside GrabCut on the whole
image; stroke -> screen (edit, rules, overlay, sixel patches of the changed cells)
beside the decode floor of that image; bytes one stroke sends beside one full frame."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from qclabel.core import mask_edits as me
from qclabel.core.mask import Mask
from qclabel.core.model import Annotation
from qclabel.maskedit import assist
from qclabel.maskedit.brush import stamp
from qclabel.project import resolve_taxonomy_file
from qclabel.core.taxonomy import load_taxonomy
from qclabel.render import overlay as ov, wire
from qclabel.render.maskview import draw_mask
from qclabel.render.strokes import cell_pieces, patch, rect_runs
from qclabel.render.viewport import Viewport

from .common import Figure, p95, timed


def metal_image(w: int, h: int) -> np.ndarray:
    """Brushed metal with a dark pore cluster at the centre."""
    rng = np.random.default_rng(0)
    base = rng.normal(170, 12, (h, w)).astype(np.float32)
    base = cv2.GaussianBlur(base, (0, 0), 1.5) + np.linspace(-20, 20, w)[None, :]
    for dx, dy, r in ((0, 0, 14), (30, 8, 9), (-22, 18, 7)):
        cv2.circle(base, (w // 2 + dx, h // 2 + dy), r, 60, -1)
    return np.clip(base, 0, 255).astype(np.uint8)


def run(quick: bool) -> list[Figure]:
    w, h = (1280, 960) if quick else (2592, 1944)  # 1.2 MP / 5 MP
    img = metal_image(w, h)
    box = (w // 2 - 40, h // 2 - 30, 90, 70)
    region = timed(
        lambda: assist.run(assist.GrabCut(), assist.AssistRequest(img, box)), 5 if quick else 20
    )
    whole = timed(
        lambda: cv2.grabCut(
            cv2.cvtColor(img, cv2.COLOR_GRAY2BGR),
            np.zeros((h, w), np.uint8),
            box,
            np.zeros((1, 65)),
            np.zeros((1, 65)),
            4,
            cv2.GC_INIT_WITH_RECT,
        ),
        1 if quick else 2,
    )
    figs = [
        Figure(
            f"grabcut box region p95 ({w * h / 1e6:.1f} MP)",
            p95(region),
            "ms",
            "grabcut whole image p95",
            p95(whole),
            "target <= 300 ms",
        )
    ]
    figs += _stroke(img, quick)
    return figs


def _stroke(img: np.ndarray, quick: bool) -> list[Figure]:
    h, w = img.shape
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()
    vp = Viewport.fit(w, h, 160, 45, 10, 20)
    fw, fh = vp.frame_size

    def decode():
        im = Image.open(io.BytesIO(jpeg))
        im.draft("L", (fw, fh))
        return im.resize((fw, fh))

    floor = timed(decode, 5 if quick else 20)
    picture = decode()
    pic_rgb = np.asarray(picture.convert("RGB"))
    data, src = resolve_taxonomy_file("metal-stamping")
    rules = me.MaskRules(load_taxonomy(data["taxonomy"], src), 0.02)
    p0 = stamp([(w // 2 + i, h // 2 + i) for i in range(0, 120, 4)], 6, "round", w, h)
    first = Mask.from_array("scratch", p0.pixels, p0.x, p0.y, id="s")
    state = {"ann": Annotation(verdict="fail", masks=(first,)), "i": 0, "bytes": []}

    def overlay(ann, mode):
        o = ov.Overlay()
        for m in ann.masks:
            draw_mask(o, vp, m, "#4fc3f7", mode, pic_rgb, "fill")
        return o

    def one_stroke():
        i = state["i"] = state["i"] + 1
        x, y = w // 2 + 120 + 6 * i, h // 2 + 120 + 6 * i
        s = stamp([(x, y), (x + 6, y + 6)], 6, "round", w, h)
        before = state["ann"]
        after = me.paint("s", s.pixels, s.x, s.y, True, rules)(before)
        old, new = overlay(before, "sixel"), overlay(after, "sixel")
        po, pn = cell_pieces(old.strokes, vp), cell_pieces(new.strokes, vp)
        changed = {c for c in po.keys() | pn.keys() if po.get(c) != pn.get(c)}
        sent = sum(len(patch(picture, vp, r, pn, po)) for r in rect_runs(changed))
        state["bytes"].append(sent)
        state["ann"] = after

    one_stroke()  # warm-up: the first measurement imports scikit-image's skeletonize
    strokes = timed(one_stroke, 10 if quick else 40)
    full_sixel = wire.full_frame_sixel(pic_rgb)
    # the same stroke in half-cell
    hv = Viewport.fit(w, h, 160, 45)
    hpic = np.asarray(picture.resize(hv.frame_size).convert("RGB"))
    s = stamp([(w // 2 + 200, h // 2 + 200), (w // 2 + 206, h // 2 + 206)], 6, "round", w, h)
    a0 = state["ann"]
    a1 = me.paint("s", s.pixels, s.x, s.y, True, rules)(a0)
    ho = [ov.Overlay(), ov.Overlay()]
    for o, ann in zip(ho, (a0, a1)):
        for m in ann.masks:
            draw_mask(o, hv, m, "#4fc3f7", "halfcell", hpic, "fill")
    cols, rows = hv.frame_cells
    half = wire.delta_bytes(ov.diff(*ho), "halfcell", hpic)
    return [
        Figure(
            "stroke -> screen p95 (edit, rules, sixel patches)",
            p95(strokes),
            "ms",
            "decode floor p95 (draft + resize)",
            p95(floor),
            "",
        ),
        Figure(
            "sixel bytes per stroke (max)",
            max(state["bytes"]),
            "B",
            "one full sixel frame",
            full_sixel,
            "target <= 5 %",
        ),
        Figure(
            "half-cell bytes per stroke",
            half,
            "B",
            "one full half-cell frame",
            wire.full_frame_halfcell(hpic, cols, rows),
            "target <= 5 %",
        ),
    ]
