"""Helpers for the labeling-app tests: a small real project on disk, frame waiting."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from qclabel.ingest import ingest_paths
from qclabel.project import Project

SIZE = (100, 30)


def write_images(folder: Path, n_rgb: int = 4, grey16: bool = True, jpeg: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(n_rgb):
        arr = (rng.random((90, 120, 3)) * 255).astype("uint8")
        arr[:, :, i % 3] = (37 * i) % 256  # distinct content per image (distinct ids)
        Image.fromarray(arr).save(folder / f"rgb_{i}.png")
    if jpeg:
        ramp = np.tile(np.linspace(0, 255, 200, dtype=np.float32), (150, 1))
        Image.fromarray(ramp.astype("uint8"), "L").save(folder / "zz_grey.jpg", quality=95)
    if grey16:
        ramp16 = np.tile(np.linspace(20000, 24000, 160, dtype=np.float32), (120, 1))
        Image.fromarray(ramp16.astype(np.uint16)).save(folder / "zzz_xray16.tif")


def make_project(tmp: Path, **kw) -> Project:
    write_images(tmp / "images", **kw)
    project = Project.init(tmp / "proj", "metal-stamping", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp / "images"], executor=pool)
    return Project.open(project.root)


async def settle(pilot, app) -> None:
    """Wait until every requested frame is built and its message handled."""
    for _ in range(5):
        futures = [f for f in list(app.frames._frames.values()) if not f.done()]
        if futures:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in futures),
                                 return_exceptions=True)
        await pilot.pause()


def wire(app) -> dict:
    """Count what the terminal would receive: the compositor's updates rendered as the
    real driver renders them (the headless driver writes nothing)."""
    from textual._compositor import CompositorUpdate
    seen = {"bytes": 0, "sixels": 0}
    display = app._display

    def counted(screen, renderable):
        if isinstance(renderable, CompositorUpdate):
            out = renderable.render_segments(app.console)
            seen["bytes"] += len(out.encode())
            seen["sixels"] += out.count("\x1bP")  # DCS: the start of a sixel image
        return display(screen, renderable)
    app._display = counted
    return seen
