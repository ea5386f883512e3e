"""The executors ingest runs on: a process pool, or inline for small runs, and the
loop that yields each item's result (or exception) as it completes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterator

from PIL import Image

from . import work


class _Inline(Executor):
    """Runs each call at submit time: no pool for single-worker runs."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller (Ctrl-C is not)
            fut.set_exception(exc)
        return fut


def _make_pool(workers: int, max_pixels: int) -> Executor:
    if workers <= 1:
        # Same pixel limit as the pool workers get (never lowering Pillow's own).
        if Image.MAX_IMAGE_PIXELS is not None:
            Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS, max_pixels)
        return _Inline()
    # forkserver, not fork: forking a process with threads (the app's workers, OpenCV's
    # and OpenBLAS's pools) can deadlock the child; this costs about a second per run.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["qclabel.ingest.work"])
    return ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=work.init_worker, initargs=(max_pixels,)
    )


def _run(
    executor: Executor, fn: Callable[..., Any], items: list[Any]
) -> Iterator[tuple[int, object]]:
    """Submit all items; yield (index, result or the exception) as they complete.
    A worker that dies (a decoder crash, the OOM killer) fails its items, not the run."""
    if isinstance(executor, _Inline):  # in order, one at a time: a cancel stops at once
        for i, item in enumerate(items):
            fut = executor.submit(fn, item)
            exc = fut.exception()
            yield i, exc if exc is not None else fut.result()
        return
    futures = {executor.submit(fn, item): i for i, item in enumerate(items)}
    try:
        for fut in as_completed(futures):
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - reported per item
                result = exc
            yield futures[fut], result
    finally:  # the caller stopped early (cancel): drop what has not started
        for fut in futures:
            fut.cancel()
