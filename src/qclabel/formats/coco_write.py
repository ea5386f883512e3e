"""Writing a COCO document: compact JSON with sorted keys (stable bytes), its long
lists (images, annotations) streamed a chunk at a time from iterators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator


def _dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _write(path: Path, doc: dict[str, Any]) -> None:
    """Compact, keys sorted (stable bytes); `indent` would switch json to its pure-Python
    encoder, 7x slower on 100k images."""
    path.write_text(_dumps(doc) + "\n", encoding="utf-8")


def _write_streamed(path: Path, doc: dict[str, Any], chunk: int = 4096) -> int:
    """`_write(path, doc)` where the values that are iterators are written a chunk at
    a time (the same bytes: compact JSON with sorted keys); returns how many items
    the "annotations" iterator gave."""
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for n, key in enumerate(sorted(doc)):
            fh.write(("{" if n == 0 else ",") + _dumps(key) + ":")
            value = doc[key]
            if isinstance(value, (list, dict, str, int, float)) or value is None:
                fh.write(_dumps(value))
                continue
            fh.write("[")
            first, batch = True, []
            for item in value:
                batch.append(item)
                if len(batch) >= chunk:
                    fh.write(("" if first else ",") + _items(batch, value))
                    count += len(batch) if key == "annotations" else 0
                    first, batch = False, []
            if batch:
                fh.write(("" if first else ",") + _items(batch, value))
                count += len(batch) if key == "annotations" else 0
            fh.write("]")
        fh.write("}\n" if doc else "{}\n")
    return count


def _items(batch: list[Any], value: Any) -> str:
    """The JSON text of `batch`'s items joined by ",", as `_dumps(batch)[1:-1]` gives
    it; the str items of `_RawRows` are JSON text already."""
    if not isinstance(value, _RawRows):
        return _dumps(batch)[1:-1]
    out: list[str] = []
    dicts: list[Any] = []
    for item in batch:
        if type(item) is str:
            if dicts:
                out.append(_dumps(dicts)[1:-1])
                dicts = []
            out.append(item)
        else:
            dicts.append(item)
    if dicts:
        out.append(_dumps(dicts)[1:-1])
    return ",".join(out)


class _RawRows:
    """An iterator of rows, some of them (the str ones) JSON text already."""

    def __init__(self, rows: Iterator[Any]):
        self.rows = rows

    def __iter__(self) -> Iterator[Any]:
        return self.rows
