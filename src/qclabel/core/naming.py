"""How images are named to people, and how a person's name for an image is looked up.

People know an image by its file name (`0042.png`, as the camera or the line wrote it);
the catalog id (a hash prefix) is for machines: JSON output, file names ingest writes.
Every message, list and prompt uses `image_name`; every place a person types an image
accepts the file name too (`find`).
"""

from __future__ import annotations

import posixpath
from typing import Iterable

from .model import ImageRecord


def image_name(rec: ImageRecord) -> str:
    """The source file name; page N of a multi-page file says so."""
    source = rec.source.replace("\\", "/")
    base = posixpath.basename(source) or posixpath.basename(rec.file) or rec.id
    return f"{base} (page {rec.page + 1})" if rec.page else base


def _named(rec: ImageRecord, ref: str) -> bool:
    source = rec.source.replace("\\", "/")
    return ref == image_name(rec) or source == ref or source.endswith("/" + ref.lstrip("/"))


def names(rec: ImageRecord, ref: str) -> bool:
    """True when `ref` is `rec`'s file name or a tail of its source path (not an id)."""
    return _named(rec, ref.strip())


def find(records: Iterable[ImageRecord], ref: str) -> list[ImageRecord]:
    """Images `ref` names: its file name, a tail of its source path (`cam2/0042.png`
    when two cameras both wrote a `0042.png`), else an id or unique id prefix. A name
    wins over id prefixes, so a name that happens to start an id still finds its file."""
    ref = ref.strip()
    if not ref:
        return []
    records = list(records)
    return [r for r in records if _named(r, ref)] or [r for r in records if r.id.startswith(ref)]
