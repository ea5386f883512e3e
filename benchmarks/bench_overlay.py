"""Overlay wire cost: bytes a cursor move and a box edit send, next to one full frame.

Method: the real box screen runs headless (160x45 cells, 10x20 px cells) on images of
the sample project (textured metal JPEGs; a synthetic textured plate if the samples
are missing). Every screen update Textual would write is rendered to the exact
terminal byte string (`CompositorUpdate.render_segments`) and counted; kitty image
uploads, which textual-image writes straight to stdout, are counted at
`tgp._send_tgp_message`. Per mode:
  frame        the picture's own bytes: the sixel string / the kitty upload / the
               half-cell update of an image change
  cursor move  one `l` press: cursor glyph, vacated cell (sixel: a patch of that
               cell), the loupe (13x13 px), status line
  box edit     one left-edge nudge of the selected box: journaled commit, outline
               cells, the box list, the message line
Target: each at most 5 % of a frame.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from .common import Figure

SIZE, CELL_PX = (160, 45), (10, 20)
MODES = ("sixel", "kitty", "halfcell")
SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "metal"


def _images(dest: Path) -> None:
    dest.mkdir(parents=True)
    found = sorted(SAMPLES.glob("*.jpg"))[:2] if SAMPLES.is_dir() else []
    for f in found:
        shutil.copy(f, dest / f.name)
    if len(found) < 2:
        rng = np.random.default_rng(3)
        for i in range(2):
            a = rng.normal(150, 18, (900, 1200)).astype(np.float32)
            a += np.linspace(-30, 30, 1200)[None, :]
            a[400:430, 500:700] -= 60
            Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(dest / f"plate_{i}.png")


def _project(tmp: Path):
    from qclabel.ingest import ingest_paths
    from qclabel.project import Project

    _images(tmp / "images")
    project = Project.init(tmp / "proj", "metal-stamping", user="bench")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp / "images"], executor=pool)
    return Project.open(project.root)


class _Meter:
    """Counts what the app would write to the terminal."""

    def __init__(self, app) -> None:
        from textual._compositor import CompositorUpdate
        import textual_image.renderable.tgp as tgp

        self.total = 0
        orig_display, orig_tgp = app._display, tgp._send_tgp_message

        def display(screen, renderable):
            if isinstance(renderable, CompositorUpdate):
                self.total += len(renderable.render_segments(app.console).encode())
            return orig_display(screen, renderable)

        def send(*, payload=None, **kw):  # what tgp would write, not written (headless)
            body = ",".join(f"{k}={v}" for k, v in kw.items() if v is not None)
            self.total += len(f"\x1b_G{body};{payload or ''}\x1b\\".encode())

        def write(data: str) -> None:  # cells the overlay writes directly
            self.total += len(data.encode())
            orig_write(data)

        orig_write = app._driver.write
        app._display, tgp._send_tgp_message = display, send
        app._driver.write = write
        self.restore = lambda: setattr(tgp, "_send_tgp_message", orig_tgp)

    def take(self) -> int:
        n, self.total = self.total, 0
        return n


async def _settle(pilot, app) -> None:
    for _ in range(4):
        pending = [f for f in list(app.frames._frames.values()) if not f.done()]
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending), return_exceptions=True)
        await pilot.pause()


async def _measure(project, mode: str, presses: int) -> dict[str, float]:
    from qclabel.tui.app import build_app

    cell_px = (1, 2) if mode == "halfcell" else CELL_PX
    app = build_app(project, "bench", graphics=mode, task="box", cell_px=cell_px)
    async with app.run_test(size=SIZE) as pilot:
        meter = _Meter(app)
        try:
            await _settle(pilot, app)
            screen = app.screen
            screen.load_pixels_now()
            meter.take()
            await pilot.press("n")
            await _settle(pilot, app)
            frame = screen.image_view.frame
            change = meter.take()
            frame_bytes = len(frame.sixel) if mode == "sixel" else change
            screen.load_pixels_now()
            await pilot.press("l")
            await pilot.pause()
            meter.take()
            for _ in range(presses):
                await pilot.press("l")
                await pilot.pause()
            move = meter.take() / presses
            await pilot.press("space", "J", "L", "enter", "shift+tab", "e", "e")
            await pilot.pause()
            meter.take()
            for _ in range(presses):
                await pilot.press("h")
                await pilot.pause()
            edit = meter.take() / presses
        finally:
            meter.restore()
    return {"frame": frame_bytes, "change": change, "move": move, "edit": edit}


def run(quick: bool) -> list[Figure]:
    os.environ.setdefault("TEXTUAL_COLOR_SYSTEM", "truecolor")
    presses = 4 if quick else 16
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in MODES:  # a fresh project each: the app resumes where it left off
            project = _project(Path(tmp) / mode)
            r = asyncio.run(_measure(project, mode, presses))
            base = f"{mode}: one full frame"
            figures += [
                Figure(
                    f"{mode}: bytes per cursor move",
                    r["move"],
                    "B",
                    base,
                    r["frame"],
                    "<= 5 % of a frame",
                ),
                Figure(
                    f"{mode}: bytes per box edit",
                    r["edit"],
                    "B",
                    base,
                    r["frame"],
                    "<= 5 % of a frame",
                ),
            ]
    return figures
