"""Frame cache and background prefetch.

The keypress path only swaps a frame that is already decoded, windowed and encoded:
after each image change the app asks for the next images' frames, which the thread
pool builds while the annotator looks at the current one. Decode and resize release
the GIL; the sixel encoder does not, which is why the pool is small.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from ..core.model import ImageRecord
from .decode import SourcePixels
from .frames import Frame, make_frame
from .viewport import Viewport

FrameKey = tuple[str, tuple[int, ...], tuple[float, float] | None, str]


class FrameSource:
    """Builds frames in worker threads and keeps the recent ones (LRU)."""

    def __init__(self, root: Path | None, encoder: str, workers: int = 2, capacity: int = 24):
        self.root, self.encoder, self.capacity = root, encoder, capacity
        # The console's colour system, half-cell rows are encoded for (the image view
        # sets it when mounted; a frame made for another one is re-encoded on demand).
        self.colours = "truecolor"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qclabel-frame")
        self._frames: OrderedDict[FrameKey, Future[Frame]] = OrderedDict()
        self._sources: OrderedDict[tuple[str, tuple[int, ...]], SourcePixels] = OrderedDict()
        self._lock = threading.Lock()
        self.decodes = 0  # how many times a file was decoded (tests and benchmarks read it)

    def key(
        self, record: ImageRecord, vp: Viewport, window: tuple[float, float] | None
    ) -> FrameKey:
        return (record.id, vp.key(), window, self.encoder)

    def request(
        self, record: ImageRecord, vp: Viewport, window: tuple[float, float] | None = None
    ) -> Future[Frame]:
        """The frame's future: cached, in flight, or newly queued."""
        key = self.key(record, vp, window)
        with self._lock:
            fut = self._frames.get(key)
            if fut is not None and not (fut.done() and fut.exception() is not None):
                self._frames.move_to_end(key)
                return fut
            fut = self._pool.submit(self._build, record, vp, window)
            self._frames[key] = fut
            while len(self._frames) > self.capacity:
                self._frames.popitem(last=False)
            return fut

    def ready(
        self, record: ImageRecord, vp: Viewport, window: tuple[float, float] | None = None
    ) -> Frame | None:
        fut = self._frames.get(self.key(record, vp, window))
        if fut is not None and fut.done() and fut.exception() is None:
            return fut.result()
        return None

    def prefetch(self, items: list[tuple[ImageRecord, Viewport]]) -> None:
        for record, vp in items:
            self.request(record, vp)

    def _build(
        self, record: ImageRecord, vp: Viewport, window: tuple[float, float] | None
    ) -> Frame:
        skey = (record.id, vp.key())
        with self._lock:
            src = self._sources.get(skey)
        if src is None:
            self.decodes += 1
        frame, src = make_frame(record, self.root, vp, window, self.encoder, src, self.colours)
        with self._lock:
            self._sources[skey] = src
            while len(self._sources) > 8:
                self._sources.popitem(last=False)
        return frame

    def submit(self, fn: Callable[[], object]) -> Future[Any]:
        return self._pool.submit(fn)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
