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
from pathlib import Path
from typing import Any

from PIL import Image

from ..core.model import ImageRecord
from ..errors import ImageError
from .grouped import process_group
from .metadata import manufacturing_fields
from .profiles import Profile
from .steps import decode, finish, make_record, store_path, write_canonical

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
        raise ImageError(
            "broken symbolic link" if os.path.islink(path) else "no such file or directory"
        ) from None
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


def _single(task: dict[Any, Any], written: list[Path]) -> list[ImageRecord]:
    profile: Profile = task["profile"]
    path, digest = task["paths"][0], task["digests"][0]
    fields = manufacturing_fields(Path(path), profile.get("fields"))
    pages, meta = decode(
        path,
        task["max_pixels"],
        profile.get("pages") == "first",
        profile.get("orient"),
        lazy=not profile.changes_pixels,
    )
    records = []
    for n, oriented in enumerate(pages):
        arr, scale = finish(oriented, profile, fields, path)
        digest_n = digest if n == 0 else hashlib.sha256(f"{digest}#page{n}".encode()).hexdigest()
        image_id = digest_n[:16]
        as_source = (
            len(pages) == 1 and not profile.changes_pixels and meta["source_mode"] in NATIVE_MODES
        )
        file = (
            store_path(task, path) if as_source else write_canonical(task, image_id, arr, written)
        )
        records.append(
            make_record(
                task,
                arr,
                meta,
                image_id=image_id,
                digest=digest_n,
                file=file,
                orientation=meta["orientation"] if as_source else 1,
                scale=scale,
                fields=fields,
                page=n,
            )
        )
    return records


def process_unit(task: dict[Any, Any]) -> dict[str, Any]:
    """{'records': [record dicts]} or {'failed': (path, reason)} for one unit."""
    written: list[Path] = []
    try:
        recs = _single(task, written) if task["kind"] == "file" else process_group(task, written)
        return {"records": [r.to_dict() for r in recs]}
    except Exception as exc:  # one bad unit must never stop the run
        for f in written:
            f.unlink(missing_ok=True)
        if len(task["paths"]) > 1:  # keep the segment's own path in the reason
            return {"failed": (task["name"], _reason(exc, None))}
        return {"failed": (task["paths"][0], _reason(exc, task["paths"][0]))}
