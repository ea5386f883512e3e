"""Units of several files: a line-scan part (stitched) or a focus stack.

A vertical stitch with no profile step after it is streamed: each segment is decoded in
a helper thread while the one before is matched and PNG-encoded, so the part is never
joined into one array (the decoders release the GIL). Other units are decoded whole,
combined, finished and written."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..core.model import ImageRecord
from . import combine, pixels, pngwrite
from .metadata import manufacturing_fields
from .profiles import Profile
from .steps import TEMP_DIR, decode, finish, make_record, write_canonical


def _decoded(
    task: dict[Any, Any], pool: Executor | None
) -> Iterator[tuple[np.ndarray, dict[Any, Any]]]:
    """(oriented first page, metadata) per member, in order; with a pool, the next
    members are decoded in its thread while the caller works on this one."""
    profile: Profile = task["profile"]

    def one(path: str) -> tuple[np.ndarray, dict[Any, Any]]:
        pages, meta = decode(path, task["max_pixels"], True, profile.get("orient"))
        return pages[0], meta

    yield from (pool.map(one, task["paths"]) if pool else map(one, task["paths"]))


def _streams(profile: Profile) -> bool:
    """A vertical stitch with no step after it is encoded a segment at a time."""
    kind, setting = profile.group  # type: ignore[misc]  # a grouping profile
    return kind == "stitch" and setting["direction"] == "vertical" and not profile.changes_pixels


def _stitch_stream(task: dict[Any, Any], written: list[Path]) -> list[ImageRecord]:
    """Decoding runs in a helper thread (Pillow releases the GIL) while this thread
    matches and PNG-encodes the segment before; the part is never joined into one
    array. 16-bit parts (canonical TIFF) are joined and written whole."""
    profile: Profile = task["profile"]
    setting = profile.group[1]  # type: ignore[index]  # a stitching profile
    metas: list[dict[Any, Any]] = []
    encoder = pngwrite.PngEncoder()
    pool = ThreadPoolExecutor(1, thread_name_prefix="decode")
    try:

        def arrays() -> Iterator[np.ndarray]:
            for arr, meta in _decoded(task, pool):
                metas.append(meta)
                yield arr

        rows = combine.stitch_rows(
            arrays(), list(task["paths"]), setting["overlap_px"], setting["max_overlap_px"]
        )
        first = next(rows)
        if first.dtype != np.uint8:  # 16-bit goes to TIFF: join, then encode whole
            return _group_done(task, np.concatenate([first, *rows]), metas[0], written)
        encoder.add(first)
        for piece in rows:
            encoder.add(piece)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    image_id = task["digest"][:16]
    dest = Path(task["root"]) / "canonical" / f"{image_id}.png"
    dest.parent.mkdir(exist_ok=True)
    pixels.write_file(dest, encoder.finish_parts(), Path(task["root"]) / TEMP_DIR)
    written.append(dest)
    shape = (encoder.height, *first.shape[1:])
    return [
        _group_record(
            task, np.broadcast_to(np.uint8(0), shape), metas[0], f"canonical/{image_id}.png", 1.0
        )
    ]


def _group_fields_of(task: dict[Any, Any]) -> dict[Any, Any]:
    profile: Profile = task["profile"]
    return {
        **task["group_fields"],
        **manufacturing_fields(Path(task["paths"][0]), profile.get("fields")),
    }


def _group_record(
    task: dict[Any, Any], arr: np.ndarray, meta: dict[Any, Any], file: str, scale: float
) -> ImageRecord:
    return make_record(
        task,
        arr,
        meta,
        image_id=task["digest"][:16],
        digest=task["digest"],
        file=file,
        orientation=1,
        scale=scale,
        fields=_group_fields_of(task),
        page=0,
    )


def _group_done(
    task: dict[Any, Any], arr: np.ndarray, meta: dict[Any, Any], written: list[Path]
) -> list[ImageRecord]:
    """Profile steps after the combination, the canonical file, the record."""
    arr, scale = finish(arr, task["profile"], _group_fields_of(task), task["name"])
    file = write_canonical(task, task["digest"][:16], arr, written)
    return [_group_record(task, arr, meta, file, scale)]


def process_group(task: dict[Any, Any], written: list[Path]) -> list[ImageRecord]:
    profile: Profile = task["profile"]
    if _streams(profile):
        return _stitch_stream(task, written)
    kind, setting = profile.group  # type: ignore[misc]  # a grouping profile
    arrays, metas = zip(*_decoded(task, None))
    names = list(task["paths"])
    if kind == "stitch":
        arr, _ = combine.stitch(
            list(arrays),
            names,
            setting["overlap_px"],
            setting["max_overlap_px"],
            setting["direction"],
        )
    else:
        arr = combine.focus_stack(list(arrays), names, setting["kernel"], setting["smooth"])
    return _group_done(task, arr, metas[0], written)
