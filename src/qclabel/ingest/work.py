"""The work that runs on the executor's workers (pool processes or Dask workers).

Two plain functions with picklable arguments and results: `hash_files` (content hashes,
and the file checks that must happen before anything opens the file), and
`process_unit` (decode, metadata, profile steps, canonical file). A unit either returns
all of its records or fails whole and removes the canonical files it wrote, so an image
is never half-entered. Workers must see the same paths as the ingesting process.
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Iterator

import numpy as np
from PIL import Image

from ..core.model import ImageRecord
from ..errors import ImageError
from . import combine, ops, pixels, pngwrite
from .metadata import manufacturing_fields, read_dpi, read_exif
from .profiles import Profile

NATIVE_MODES = {"L", "RGB", "I;16", "I;16L", "I;16B", "RGB;16"}


def init_worker(max_pixels: int) -> None:
    """Pool initializer: let Pillow open images up to the project's own pixel limit
    (its built-in bomb check would refuse some allowed large line-scan images)."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def check_file(path: str) -> int:
    """Size of a regular, non-empty file; a clear reason otherwise. Never opens a FIFO."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageError("broken symbolic link" if os.path.islink(path)
                         else "no such file or directory") from None
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ImageError("not a regular file")
    if st.st_size == 0:
        raise ImageError("empty file (0 bytes)")
    return st.st_size


def hash_file(path: str) -> str:
    check_file(path)
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from None
    return h.hexdigest()


def hash_files(paths: list[str]) -> list[tuple[str, str | None, str | None]]:
    """(path, sha256, None) or (path, None, reason) per file."""
    out: list[tuple[str, str | None, str | None]] = []
    for p in paths:
        try:
            out.append((p, hash_file(p), None))
        except ImageError as exc:
            out.append((p, None, str(exc)))
    return out


def _reason(exc: Exception, path: str | None) -> str:
    text = str(exc)
    if isinstance(exc, ImageError):
        return text.removeprefix(f"{path}: ") if path else text
    return f"{type(exc).__name__}: {text}"


def _decode(path: str, max_pixels: int, first_only: bool, orient: bool,
            lazy: bool = False) -> tuple[list[np.ndarray], dict[Any, Any]]:
    """(pages, metadata). With `lazy`, a single-page 8-bit grey/RGB file is only
    decoded to prove it is whole (it will be its own canonical file) and its page is
    a zero-memory placeholder with the oriented shape: copying 5 MP into numpy would
    cost as much again as the decode."""
    with pixels.open_image(Path(path), max_pixels) as im:
        try:  # EXIF of a PNG sits after the pixels: reading it can hit the damage too
            meta: dict[str, Any] = {"exif": read_exif(im), "dpi": read_dpi(im),
                                    "format": im.format,
                    "source_mode": im.mode, "lazy": False}
            meta["orientation"] = meta["exif"]["orientation"] if orient else 1
            if pixels.is_16bit_colour(Path(path), im):
                meta["source_mode"] = "RGB;16"
            if lazy and meta["source_mode"] in ("L", "RGB") and pixels.page_count(im) == 1:
                im.load()
                meta["lazy"] = True
                return [_placeholder(im, meta["orientation"])], meta
            pages = pixels.read_pages(Path(path), im, first_only)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError(f"{path}: truncated or corrupt image data: {exc}") from None
    return [pixels.orient_array(p, meta["orientation"]) for p in pages], meta


def _placeholder(im: Image.Image, orientation: int) -> np.ndarray:
    w, h = im.size
    if orientation in pixels.SWAPS_AXES:
        w, h = h, w
    shape = (h, w) if im.mode == "L" else (h, w, 3)
    return np.broadcast_to(np.uint8(0), shape)


def _finish(arr: np.ndarray, profile: Profile, fields: dict[Any, Any],
            name: str) -> tuple[np.ndarray, float]:
    """Profile steps after orientation/combination, in their documented order."""
    rect = profile.get("roi_by_station", {}).get(fields.get("station", "")) or profile.get("roi")
    if rect:
        arr = ops.crop(arr, rect, name)
    if profile.get("colour") == "grey-world":
        arr = ops.grey_world(arr)
    if profile.get("normalize"):
        arr = ops.normalize(arr, profile.get("normalize"))
    scale = 1.0
    if profile.get("max_size"):
        arr, scale = ops.fit_max_size(arr, profile.get("max_size"))
    return arr, scale


def _record(task: dict[Any, Any], arr: np.ndarray, meta: dict[Any, Any], *, image_id: str,
            digest: str, file: str, orientation: int, scale: float,
            fields: dict[Any, Any], page: int) -> ImageRecord:
    profile: Profile = task["profile"]
    mode, bits, channels = pixels.layout(arr)
    mm = profile.get("mm_per_px")
    return ImageRecord(
        id=image_id, sha256=digest, source=task["paths"][0], file=file,
        width=int(arr.shape[1]), height=int(arr.shape[0]), bit_depth=bits,
        channels=channels, mode=mode, format=meta["format"] or "", orientation=orientation,
        profile=profile.name, profile_hash=profile.hash,
        mm_per_px=round(mm / scale, 9) if mm else None,
        window=ops.display_window(arr, profile.get("window")), fields=fields,
        exif=meta["exif"], dpi=meta["dpi"], source_mode=meta["source_mode"],
        sources=list(task["paths"]) if len(task["paths"]) > 1 else [], page=page,
        added=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def _store_path(task: dict[Any, Any], path: str) -> str:
    """Relative to the project root when the file lies inside it."""
    root = os.path.abspath(task["root"])
    absolute = os.path.abspath(path)
    return os.path.relpath(absolute, root) if absolute.startswith(root + os.sep) else absolute


def _write(task: dict[Any, Any], image_id: str, arr: np.ndarray, written: list[Path]) -> str:
    ext, data = pixels.encode_canonical(arr)
    dest = Path(task["root"]) / "canonical" / f"{image_id}{ext}"
    dest.parent.mkdir(exist_ok=True)
    pixels.write_file(dest, data)
    written.append(dest)
    return f"canonical/{image_id}{ext}"


def _single(task: dict[Any, Any], written: list[Path]) -> list[ImageRecord]:
    profile: Profile = task["profile"]
    path, digest = task["paths"][0], task["digests"][0]
    fields = manufacturing_fields(Path(path), profile.get("fields"))
    pages, meta = _decode(path, task["max_pixels"], profile.get("pages") == "first",
                          profile.get("orient"), lazy=not profile.changes_pixels)
    records = []
    for n, oriented in enumerate(pages):
        arr, scale = _finish(oriented, profile, fields, path)
        digest_n = digest if n == 0 else hashlib.sha256(f"{digest}#page{n}".encode()).hexdigest()
        image_id = digest_n[:16]
        as_source = (len(pages) == 1 and not profile.changes_pixels
                     and meta["source_mode"] in NATIVE_MODES)
        file = _store_path(task, path) if as_source else _write(task, image_id, arr, written)
        records.append(_record(task, arr, meta, image_id=image_id, digest=digest_n, file=file,
                               orientation=meta["orientation"] if as_source else 1,
                               scale=scale, fields=fields, page=n))
    return records


def _decoded(task: dict[Any, Any], pool: Executor | None) -> Iterator[tuple[np.ndarray, dict[Any, Any]]]:
    """(oriented first page, metadata) per member, in order; with a pool, the next
    members are decoded in its thread while the caller works on this one."""
    profile: Profile = task["profile"]

    def one(path: str) -> tuple[np.ndarray, dict[Any, Any]]:
        pages, meta = _decode(path, task["max_pixels"], True, profile.get("orient"))
        return pages[0], meta

    yield from (pool.map(one, task["paths"]) if pool else map(one, task["paths"]))


def _streams(profile: Profile) -> bool:
    """A vertical stitch with no step after it is encoded a segment at a time."""
    kind, setting = profile.group  # type: ignore[misc]  # a grouping profile
    return kind == "stitch" and setting["direction"] == "vertical" and not profile.changes_pixels


def _stitch_stream(task: dict[Any, Any], written: list[Path]) -> list[ImageRecord]:
    """Decode, overlap search and PNG encode overlap (decoding releases the GIL): the
    part is never held as one joined array, and 8-bit parts never wait for a joint."""
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

        rows = combine.stitch_rows(arrays(), list(task["paths"]), setting["overlap_px"],
                                   setting["max_overlap_px"])
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
    pixels.write_file(dest, encoder.finish())
    written.append(dest)
    shape = (encoder.height, *first.shape[1:])
    return [_group_record(task, np.broadcast_to(np.uint8(0), shape), metas[0],
                          f"canonical/{image_id}.png", 1.0)]


def _group_fields_of(task: dict[Any, Any]) -> dict[Any, Any]:
    profile: Profile = task["profile"]
    return {**task["group_fields"],
            **manufacturing_fields(Path(task["paths"][0]), profile.get("fields"))}


def _group_record(task: dict[Any, Any], arr: np.ndarray, meta: dict[Any, Any], file: str,
                  scale: float) -> ImageRecord:
    return _record(task, arr, meta, image_id=task["digest"][:16], digest=task["digest"],
                   file=file, orientation=1, scale=scale, fields=_group_fields_of(task), page=0)


def _group_done(task: dict[Any, Any], arr: np.ndarray, meta: dict[Any, Any],
                written: list[Path]) -> list[ImageRecord]:
    """Profile steps after the combination, the canonical file, the record."""
    arr, scale = _finish(arr, task["profile"], _group_fields_of(task), task["name"])
    file = _write(task, task["digest"][:16], arr, written)
    return [_group_record(task, arr, meta, file, scale)]


def _group(task: dict[Any, Any], written: list[Path]) -> list[ImageRecord]:
    profile: Profile = task["profile"]
    if _streams(profile):
        return _stitch_stream(task, written)
    kind, setting = profile.group  # type: ignore[misc]  # a grouping profile
    arrays, metas = zip(*_decoded(task, None))
    names = list(task["paths"])
    if kind == "stitch":
        arr, _ = combine.stitch(list(arrays), names, setting["overlap_px"],
                                setting["max_overlap_px"], setting["direction"])
    else:
        arr = combine.focus_stack(list(arrays), names, setting["kernel"], setting["smooth"])
    return _group_done(task, arr, metas[0], written)


def process_unit(task: dict[Any, Any]) -> dict[str, Any]:
    """{'records': [record dicts]} or {'failed': (path, reason)} for one unit."""
    written: list[Path] = []
    try:
        recs = _single(task, written) if task["kind"] == "file" else _group(task, written)
        return {"records": [r.to_dict() for r in recs]}
    except Exception as exc:  # one bad unit must never stop the run
        for f in written:
            f.unlink(missing_ok=True)
        if len(task["paths"]) > 1:  # keep the segment's own path in the reason
            return {"failed": (task["name"], _reason(exc, None))}
        return {"failed": (task["paths"][0], _reason(exc, task["paths"][0]))}
