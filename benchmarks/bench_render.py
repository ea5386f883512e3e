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
    (full decode, resize, sixel encode). The clock stops when the terminal bytes of
    the next frame exist (the compositor update rendered to its string; kitty uploads
    counted as they are written). The 5 MP set is also run with every renderer
    (sixel, half-cell: the fallback over tmux and plain SSH terminals, kitty) quiet
    and under load: one busy process per core plus a background export in the app,
    run as the export dialog runs it (a worker thread waiting for the export's child
    process, restarted whenever it finishes), and once more with that export inside
    the app's process as a thread (how the app ran it before: the baseline for why it
    moved). Each condition has its own decode floor measured under the same load.
    The console renders truecolor, as `qclabel label` asks for.
(b) Bytes. The app's output is counted at the driver (`driver.write`, everything the
    terminal would receive) for one image change, one label key that does not change
    the image (auto-advance off) and one focus-out + focus-in of the terminal, next
    to the size of one encoded sixel frame.
(c) Grey levels. Distinct colour registers in the emitted sixel of a greyscale image,
    next to textual-image's default (RGB, FASTOCTREE) encode of the same picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
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

from qclabel.core.model import ImageRecord
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.render import Viewport

from . import render_load
from .common import Figure, p50, p95, timed

TERM, CELL = (160, 45), (10, 20)
_RUNS = itertools.count()
SIZES = {"jpeg5mp": (2592, 1944), "jpeg12mp": (4000, 3000), "tiff16": (1600, 1200)}


def metal(w: int, h: int, seed: int) -> np.ndarray:
    """Brushed metal with a scratch and pits, uint8 (noise keeps JPEG decode honest)."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(120, 160, (h, 1), dtype=np.uint8)
    img = np.repeat(rows, w, axis=1) + rng.integers(0, 12, (h, w), dtype=np.uint8)
    yy = np.linspace(h * 0.3, h * 0.6, w // 2).astype(int)
    img[yy, np.arange(w // 4, w // 4 + w // 2)] //= 2
    for _ in range(5):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), w // 100 + 2
        img[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] //= 2
    return img


def make_images(folder: Path, kind: str, n: int) -> None:
    w, h = SIZES[kind]
    folder.mkdir(parents=True)
    for i in range(n):
        a = metal(w, h, seed=i)
        if kind == "tiff16":  # 12 bits of signal in a 16-bit file, like a detector
            Image.fromarray(a.astype(np.uint16) * 16 + 1000).save(folder / f"{i:03d}.tif")
        else:
            rgb = np.stack([a, a, (a * 0.97).astype(np.uint8)], axis=2)
            Image.fromarray(rgb).save(folder / f"{i:03d}.jpg", quality=92)


def make_project(root: Path, kind: str, n: int) -> Project:
    make_images(root / "images", kind, n)
    project = Project.init(root / "proj", "metal-stamping", user="bench")
    with ThreadPoolExecutor(2) as pool:
        ingest_paths(project, [root / "images"], executor=pool)
    return Project.open(project.root)


async def idle(app) -> None:
    """The annotator's look at the image: the prefetch threads finish meanwhile."""
    for _ in range(50):
        busy = [f for f in list(app.frames._frames.values()) if not f.done()]
        if not busy:
            return
        await asyncio.gather(*(asyncio.wrap_future(f) for f in busy), return_exceptions=True)


def instrument(app, screen, out: dict) -> None:
    """Time from the key's action until the bytes of the next frame exist: the clock
    stops once the compositor's update that carries the new frame has been rendered to
    the terminal string (kitty uploads are written while that update is composed).
    Bytes are counted as the terminal would receive them."""
    from textual._compositor import CompositorUpdate

    view, marks = screen.image_view, {}
    move, display = screen.action_move, app._display

    def timed_move(delta):
        marks["t0"], marks["sent"] = time.perf_counter(), view.sent
        return move(delta)

    def counted_display(scr, renderable):
        if isinstance(renderable, CompositorUpdate):
            out["written"] += len(renderable.render_segments(app.console).encode())
            if "t0" in marks and view.sent > marks["sent"]:
                out["latency"].append((time.perf_counter() - marks.pop("t0")) * 1000)
        return display(scr, renderable)

    screen.action_move, app._display = timed_move, counted_display
    capture_kitty(out)


def capture_kitty(out: dict) -> None:
    """textual-image writes kitty uploads straight to the real stdout: count them
    instead (the escape sequence is built as textual-image builds it)."""
    from textual_image.renderable import tgp

    from qclabel.tui.widgets import kitty_upload

    def send(*, payload: str | None = None, **keys) -> None:
        head = ",".join(f"{k}={v}" for k, v in keys.items() if v is not None)
        out["written"] += len(f"\x1b_G{head};{payload or ''}\x1b\\".encode())

    tgp._send_tgp_message = kitty_upload._send_tgp_message = send


async def measure(pilot, out: dict, action) -> int:
    await pilot.pause()
    out["written"] = 0
    await action()
    await pilot.pause()
    return out["written"]


async def drive(project: Project, n: int, graphics: str = "sixel", load: str | None = None) -> dict:
    """Label-pace run of the real app: latency per image change, bytes per action.
    `load`: "process" runs a background export in the app meanwhile (as the export
    dialog does), "thread" the same export inside the app's process (as before)."""
    from textual import constants, events
    from qclabel.tui import graphics as gfx
    from qclabel.tui.app import build_app

    gfx.ensure_colour_system()  # as `qclabel label` does before the app starts
    constants.COLOR_SYSTEM = os.environ.get("TEXTUAL_COLOR_SYSTEM", "auto")  # read at import
    # A new annotator per drive: each starts at the first image of its own queue.
    app = build_app(
        project,
        f"bench-{graphics}-{load or 'quiet'}-{next(_RUNS)}",
        graphics=graphics,
        cell_px=(1, 2) if graphics == "halfcell" else CELL,
    )
    out: dict = {"latency": [], "bytes": {}, "written": 0, "exports": 0}
    async with app.run_test(size=TERM) as pilot:
        await idle(app)
        await pilot.pause()
        instrument(app, app.screen, out)
        if load:
            stop, done = render_load.start_in_app(
                app,
                project.root,
                project.root.parent / f"export-{graphics}",
                thread=load == "thread",
            )
        changes = []
        for _ in range(n - 1):
            await idle(app)
            changes.append(await measure(pilot, out, lambda: pilot.press("n")))
        if load:
            stop.set()
            out["exports"] = done[0]
            await app.workers.wait_for_complete()
        out["bytes"]["image change"] = changes
        sixel = app.screen.image_view.frame.sixel
        out["frame"] = len(sixel.encode()) if sixel else 0
        await pilot.press("a")  # auto-advance off: the label key keeps the image

        async def focus():
            app.post_message(events.AppBlur())
            app.post_message(events.AppFocus())

        out["bytes"]["label key"] = [await measure(pilot, out, lambda: pilot.press("p"))]
        out["bytes"]["focus out+in"] = [await measure(pilot, out, focus)]
        await pilot.press("q")
    return out


def floors(project: Project, naive_limit: int, repeat: int = 1) -> tuple[list[float], list[float]]:
    """Pillow decode floor and textual-image's path-given widget work, per image."""
    floor, naive = [], []
    for n, rec in enumerate(project.store.catalog.all()):
        vp = Viewport.fit(rec.width, rec.height, TERM[0] - 36, TERM[1] - 3, *CELL)
        fw, fh = vp.frame_size

        def pillow(rec: ImageRecord = rec, fw: int = fw, fh: int = fh) -> None:
            with Image.open(rec.file) as im:
                if im.format == "JPEG":
                    im.draft("RGB", (fw, fh))
                a = np.asarray(im)
                if a.dtype == np.uint16:
                    a = (a >> 8).astype(np.uint8)
                Image.fromarray(a).resize((fw, fh), Image.BILINEAR)

        def textual_image_path(rec: ImageRecord = rec, fw: int = fw, fh: int = fh) -> None:
            image_to_sixels(PixelData(rec.file).scaled(fw, fh).pil_image)

        floor += timed(pillow, repeat)
        if n < naive_limit:  # ~1 s per image: a few are enough to see the gap
            naive += timed(textual_image_path, 1)
    return floor, naive


def kitty_at_key(project: Project) -> list[float]:
    """What textual-image's TGP renderable would do on the UI thread at each key:
    scale the frame's picture and build the base64 PNG (the app now does it ahead)."""
    from qclabel.render import make_frame

    costs = []
    for rec in project.store.catalog.all():
        vp = Viewport.fit(rec.width, rec.height, TERM[0] - 36, TERM[1] - 3, *CELL)
        frame, _ = make_frame(rec, project.root, vp, None, "halfcell")
        cols, rows = vp.frame_cells
        costs += timed(
            lambda frame=frame, cols=cols, rows=rows: (
                PixelData(frame.picture).scaled(cols * CELL[0], rows * CELL[1]).to_base64()
            ),
            1,
        )
    return costs


def grey_levels(project: Project) -> tuple[int, int]:
    from qclabel.render import make_frame

    rec = project.store.catalog.all()[0]
    vp = Viewport.fit(rec.width, rec.height, TERM[0] - 36, TERM[1] - 3, *CELL)
    frame, _ = make_frame(rec, project.root, vp, None, "sixel")
    ours = len(set(re.findall(r"#\d+;2;\d+;\d+;\d+", frame.sixel)))
    default = len(
        set(re.findall(r"#\d+;2;\d+;\d+;\d+", image_to_sixels(frame.picture.convert("RGB"))))
    )
    return ours, default


CONDITIONS = {"quiet": None, "load": "process", "load, export in a thread (before)": "thread"}


def renderers_quiet_and_loaded(project: Project, n: int) -> list[Figure]:
    """Key -> terminal bytes p95 of every renderer, quiet and under load, each against
    the Pillow decode floor measured under the same condition in the same run. Load:
    one busy process per core plus a background export in the app."""
    render_load.label_for_export(project)
    figures: list[Figure] = []
    for cond, load in CONDITIONS.items():
        with contextlib.ExitStack() as stack:
            if load:
                stack.enter_context(render_load.busy_cores())
                with render_load.exporting(
                    project.root, project.root.parent / "export-floor", thread=load == "thread"
                ):
                    floor = floors(project, 0, repeat=2)[0]
            else:
                floor = floors(project, 0, repeat=2)[0]
            exports = 0
            for mode in ("sixel", "halfcell", "kitty"):
                res = asyncio.run(drive(project, n, graphics=mode, load=load))
                exports += res["exports"]
                figures.append(
                    Figure(
                        f"jpeg5mp key->bytes p95 ({mode}, {cond})",
                        p95(res["latency"]),
                        "ms",
                        f"Pillow decode floor p95 ({cond})",
                        p95(floor),
                        "<= 1.0x",
                    )
                )
            if load:
                figures.append(
                    Figure(
                        f"background exports finished ({cond})",
                        exports,
                        "runs",
                        "image changes timed",
                        3 * (n - 1),
                        "> 0 (the load ran)",
                    )
                )
    return figures


def run(quick: bool) -> list[Figure]:
    n = 3 if quick else 12
    figures: list[Figure] = []
    tmp = Path(tempfile.mkdtemp(prefix="qclabel-bench-render-"))
    try:
        for kind in SIZES:
            project = make_project(tmp / kind, kind, n)
            floor, naive = floors(project, 2 if quick else 5)
            res = asyncio.run(drive(project, n))
            lat = res["latency"]
            figures += [
                Figure(
                    f"{kind} key->frame p50 (app, sixel)",
                    p50(lat),
                    "ms",
                    "Pillow decode floor p50",
                    p50(floor),
                    "p95 <= decode floor",
                ),
                Figure(
                    f"{kind} key->frame p95 (app, sixel)",
                    p95(lat),
                    "ms",
                    "Pillow decode floor p95",
                    p95(floor),
                    "<= 1.0x",
                ),
                Figure(
                    f"{kind} key->frame p95 (app, sixel)",
                    p95(lat),
                    "ms",
                    "textual-image widget, file path, p95",
                    p95(naive),
                    "lower",
                ),
            ]
            if kind == "jpeg5mp":
                figures += renderers_quiet_and_loaded(project, n)
                figures.append(
                    Figure(
                        f"{kind} kitty upload at the key (textual-image)",
                        p95(kitty_at_key(project)),
                        "ms",
                        "Pillow decode floor p95",
                        p95(floor),
                        "moved off the key",
                    )
                )
                frame = res["frame"]
                for what, vals in res["bytes"].items():
                    target = "one frame" if what == "image change" else "< 1 KB"
                    figures.append(
                        Figure(
                            f"bytes per {what}",
                            float(np.median(vals)),
                            "B",
                            "one encoded sixel frame",
                            frame,
                            target,
                        )
                    )
            if kind == "tiff16":
                ours, default = grey_levels(project)
                figures.append(
                    Figure(
                        "grey levels in sixel frame (16-bit X-ray)",
                        ours,
                        "levels",
                        "textual-image default RGB encode",
                        default,
                        ">= 64",
                    )
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return figures
