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
            await asyncio.gather(*(asyncio.wrap_future(f) for f in futures), return_exceptions=True)
        await pilot.pause()


async def counted(pilot, app) -> None:
    """Until home shows the status it counted in its worker (a loaded machine: late)."""
    for _ in range(400):
        if getattr(app.screen, "counted", True):
            return
        await pilot.pause(0.02)
    raise AssertionError("home never showed its status")


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


def burst(app, *keys: str) -> None:
    """Hand the app several keys at once, as one read from the terminal delivers them
    (a fast typist, a paste, coalesced SSH packets): no waiting in between, unlike
    `pilot.press`, which lets the app go idle after every key."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


class FrameGate:
    """Frames requested while the gate is shut stay 'loading' until `open()`: keys
    typed meanwhile meet an image whose picture is not on screen yet."""

    def __init__(self, app) -> None:
        from concurrent.futures import Future

        self._future = Future
        self.app, self.shut, self.waiting = app, True, []
        self._request = app.frames.request
        app.frames.request = self.request

    def request(self, *args, **kwargs):
        inner = self._request(*args, **kwargs)
        if not self.shut:
            return inner
        outer = self._future()
        self.waiting.append((inner, outer))
        return outer

    def open(self) -> None:
        self.shut = False
        for inner, outer in self.waiting:
            inner.add_done_callback(
                lambda f, o=outer: (
                    o.set_exception(f.exception()) if f.exception() else o.set_result(f.result())
                )
            )
        self.waiting.clear()
