"""Display engine: keypress-to-frame latency, bytes on the wire, grey levels.

(a) Latency. Synthetic inspection images (5 MP and 12 MP JPEG, 16-bit TIFF) are
    ingested into a project and labeled in the real app, headless (`App.run_test`),
    with the sixel renderer forced and a 160x45-cell terminal of 10x20 px cells (frame
    about 1240x840 px). The figure is the time from pressing `n` until the widget has
    injected the next image's sixel frame. Between key presses the benchmark waits
    until the prefetch threads are idle: an annotator looks at each image before the
    next key, and that look is when prefetch decodes and encodes ahead. Baselines of
    the same images in the same run: the Pillow decode floor (`draft()` + resize to
    the frame size) and what textual-image's widget does when given the file path
    (full decode, resize, sixel encode).
(b) Bytes. The app's output is counted at the driver (`driver.write`, everything the
    terminal would receive) for one image change, one label key that does not change
    the image (auto-advance off) and one focus-out + focus-in of the terminal, next
    to the size of one encoded sixel frame.
(c) Grey levels. Distinct colour registers in the emitted sixel of a greyscale image,
    next to textual-image's default (RGB, FASTOCTREE) encode of the same picture.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from textual_image._pixeldata import PixelData
from textual_image._sixel import image_to_sixels

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.render import Viewport

from .common import Figure, p50, p95, timed

TERM, CELL = (160, 45), (10, 20)
SIZES = {"jpeg5mp": (2592, 1944), "jpeg12mp": (4000, 3000), "tiff16": (1600, 1200)}


def metal(w: int, h: int, seed: int) -> np.ndarray:
    """Brushed metal with a scratch and pits, float 0..1."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(0.55, 0.04, (h, 1)).astype(np.float32)
    img = np.repeat(rows, w, axis=1) + rng.normal(0, 0.02, (h, w)).astype(np.float32)
    yy = np.linspace(h * 0.3, h * 0.6, w // 2).astype(int)
    img[yy, np.arange(w // 4, w // 4 + w // 2)] -= 0.3
    for _ in range(5):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), w // 100 + 2
        img[max(0, cy - r):cy + r, max(0, cx - r):cx + r] *= 0.5
    return np.clip(img, 0, 1)


def make_images(folder: Path, kind: str, n: int) -> None:
    w, h = SIZES[kind]
    folder.mkdir(parents=True)
    for i in range(n):
        a = metal(w, h, seed=i)
        if kind == "tiff16":
            Image.fromarray((a * 65535).astype(np.uint16)).save(folder / f"{i:03d}.tif")
        else:
            rgb = np.stack([a * 0.95, a, a * 1.05], axis=2)
            Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(
                folder / f"{i:03d}.jpg", quality=92)


def make_project(root: Path, kind: str, n: int) -> Project:
    make_images(root / "images", kind, n)
    project = Project.init(root / "proj", "metal-stamping", user="bench")
    with ThreadPoolExecutor(2) as pool:
        ingest_paths(project, [root / "images"], executor=pool)
    return Project.open(project.root)


async def idle(app) -> None:
    for _ in range(50):
        busy = [f for f in list(app.frames._frames.values()) if not f.done()]
        if not busy:
            return
        await asyncio.gather(*(asyncio.wrap_future(f) for f in busy), return_exceptions=True)


async def wait_sent(pilot, view, before: int) -> None:
    while view.sent <= before:
        await pilot.pause(0.001)


async def drive(project: Project, n: int) -> dict:
    """Label-pace run of the real app: latency per image change, bytes per action."""
    from textual import events
    from qclabel.tui.app import build_app
    app = build_app(project, "bench", graphics="sixel", cell_px=CELL)
    out: dict = {"latency": [], "bytes": {}}
    async with app.run_test(size=TERM) as pilot:
        await idle(app)
        await pilot.pause()
        view = app.screen.image_view
        written = [0]
        app._driver.write = lambda data: written.__setitem__(0, written[0] + len(data.encode()))
        for _ in range(n - 1):
            await idle(app)
            await pilot.pause()
            before, t0 = view.sent, time.perf_counter()
            written[0] = 0
            await pilot.press("n")
            await wait_sent(pilot, view, before)
            out["latency"].append((time.perf_counter() - t0) * 1000)
            await pilot.pause()
            out["bytes"].setdefault("image change", []).append(written[0])
        out["frame"] = len(view.frame.sixel)
        for what, keys in (("label key", ("a", "p")), ("focus out+in", None)):
            await pilot.pause()
            written[0] = 0
            if keys:
                await pilot.press(*keys)
                written[0] = 0 if what != "label key" else written[0]
            else:
                app.post_message(events.AppBlur())
                app.post_message(events.AppFocus())
            await pilot.pause()
            out["bytes"][what] = [written[0]]
        await pilot.press("q")
    return out


def floors(project: Project) -> tuple[list[float], list[float]]:
    """Pillow decode floor and textual-image's path-given widget work, per image."""
    floor, naive = [], []
    for rec in project.store.catalog.all():
        vp = Viewport.fit(rec.width, rec.height, TERM[0] - 36, TERM[1] - 3, *CELL)
        fw, fh = vp.frame_size

        def pillow() -> None:
            with Image.open(rec.file) as im:
                if im.format == "JPEG":
                    im.draft("RGB", (fw, fh))
                a = np.asarray(im)
                if a.dtype == np.uint16:
                    a = (a >> 8).astype(np.uint8)
                Image.fromarray(a).resize((fw, fh), Image.BILINEAR)

        def textual_image_path() -> None:
            image_to_sixels(PixelData(rec.file).scaled(fw, fh).pil_image)
        floor += timed(pillow, 1)
        naive += timed(textual_image_path, 1)
    return floor, naive


def grey_levels(project: Project) -> tuple[int, int]:
    from qclabel.render import make_frame
    rec = project.store.catalog.all()[0]
    vp = Viewport.fit(rec.width, rec.height, TERM[0] - 36, TERM[1] - 3, *CELL)
    frame, _ = make_frame(rec, project.root, vp, None, "sixel")
    ours = len(set(re.findall(r"#\d+;2;\d+;\d+;\d+", frame.sixel)))
    default = len(set(re.findall(r"#\d+;2;\d+;\d+;\d+", image_to_sixels(frame.picture.convert("RGB")))))
    return ours, default


def run(quick: bool) -> list[Figure]:
    n = 4 if quick else 12
    figures: list[Figure] = []
    tmp = Path(tempfile.mkdtemp(prefix="qclabel-bench-render-"))
    try:
        for kind in SIZES:
            project = make_project(tmp / kind, kind, n)
            floor, naive = floors(project)
            res = asyncio.run(drive(project, n))
            lat = res["latency"]
            figures += [
                Figure(f"{kind} key->frame p50 (app, sixel)", p50(lat), "ms",
                       "Pillow decode floor p50", p50(floor), "p95 <= decode floor"),
                Figure(f"{kind} key->frame p95 (app, sixel)", p95(lat), "ms",
                       "Pillow decode floor p95", p95(floor), "<= 1.0x"),
                Figure(f"{kind} key->frame p95 (app, sixel)", p95(lat), "ms",
                       "textual-image widget, file path, p95", p95(naive), "lower"),
            ]
            if kind == "jpeg5mp":
                frame = res["frame"]
                for what, vals in res["bytes"].items():
                    target = "one frame" if what == "image change" else "< 1 KB"
                    figures.append(Figure(f"bytes per {what}", float(np.median(vals)), "B",
                                          "one encoded sixel frame", frame, target))
            if kind == "tiff16":
                ours, default = grey_levels(project)
                figures.append(Figure("grey levels in sixel frame (16-bit X-ray)", ours,
                                      "levels", "textual-image default RGB encode", default,
                                      ">= 64"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return figures
