"""JSON on stdout written while it is produced: the bytes of `emit_json`, a page at a time.

`json.dumps(data, indent=2)` of a million catalog records holds every record as a dict
and the whole text (gigabytes) before the first byte leaves, and with `indent` Python
encodes in its pure-Python encoder. Here a list wrapped in `Rows` is written item by
item, and `indented` gives each item's text: runs of scalars and empty containers go
through the C encoder in one call (its item separator carries the newline and the
indentation), so only nested containers cost Python work. The text is the same as
`json.dumps(value, indent=2, default=str)`, byte for byte (tests/test_jsonout.py)."""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring_ascii
from typing import Any, Callable, Iterable

_SCALARS = frozenset((str, int, float, bool, type(None)))
_FLAT: dict[int, Callable[[Any], str]] = {}
PAGE = 1000  # items per write: a few hundred kB


def _encoder(level: int) -> Callable[[Any], str]:
    """The C encoder whose separator puts each item on its own line at `level`, made
    once (JSONEncoder.encode builds a new one per call, a microsecond each). No cycle
    check: what is written here comes from JSON documents and plan tables."""
    enc = _FLAT.get(level)
    if enc is None:
        sep = ",\n" + "  " * level
        make = getattr(json.encoder, "c_make_encoder", None)
        if make is None:  # no C accelerator: the same text, slower
            enc = json.JSONEncoder(separators=(sep, ": "), default=str).encode
        else:
            chunks = make(None, str, encode_basestring_ascii, None, ": ", sep, False, False, True)

            def enc(value: Any) -> str:
                return "".join(chunks(value, 0))

        _FLAT[level] = enc
    return enc


def _flat(v: Any) -> bool:
    """Printed on one line under indent=2 too: a scalar or an empty dict/list."""
    t = type(v)
    return t in _SCALARS or ((t is dict or t is list) and not v)


def _fallback(value: Any, level: int) -> str:
    return json.dumps(value, indent=2, default=str).replace("\n", "\n" + "  " * level)


def indented(value: Any, level: int = 0) -> str:
    """`json.dumps(value, indent=2, default=str)` as it reads nested `level` deep (the
    lines after the first indented by 2 * level spaces)."""
    t = type(value)
    if t is dict:
        if not value:
            return "{}"
        inner = "\n" + "  " * (level + 1)
        enc, parts, run, scalars = _encoder(level + 1), [], {}, _SCALARS
        for k, v in value.items():
            tv = type(v)  # inline _flat: this loop runs for every key of every record
            if tv in scalars or ((tv is dict or tv is list) and not v):
                run[k] = v  # the C encoder turns non-string keys to text as Python's does
                continue
            if type(k) is not str:
                return _fallback(value, level)
            if run:
                parts.append(enc(run)[1:-1])
                run = {}
            parts.append(f"{encode_basestring_ascii(k)}: {indented(v, level + 1)}")
        if run:
            parts.append(enc(run)[1:-1])
        return "{" + inner + ("," + inner).join(parts) + "\n" + "  " * level + "}"
    if t is list or t is tuple:
        if not value:
            return "[]"
        inner = "\n" + "  " * (level + 1)
        if all(map(_flat, value)):
            return "[" + inner + _encoder(level + 1)(list(value))[1:-1] + "\n" + "  " * level + "]"
        items = (indented(v, level + 1) for v in value)
        return "[" + inner + ("," + inner).join(items) + "\n" + "  " * level + "]"
    if t is str:
        return encode_basestring_ascii(value)
    if t in _SCALARS:
        return _encoder(0)(value)
    return _fallback(value, level)


def first_key_varies(key: str) -> Callable[[dict[str, Any], int], str]:
    """A `Rows` formatter for dicts whose first key, a string, varies and whose rest
    repeats (a plan's rows: image id, then task, phase, annotators, reviewer): the
    text of each distinct rest is built once. The rest is told apart by its keys, and
    its values' types too (`True == 1`, but they print differently)."""
    cache: dict[tuple[Any, ...], list[str]] = {}
    mark = "\x00"

    def fmt(row: dict[str, Any], level: int) -> str:
        items = iter(row.items())
        first, value = next(items, (None, None))
        if first != key or type(value) is not str:
            return indented(row, level)
        rest: list[Any] = [level]
        for k, v in items:
            if type(v) is list:
                v = (*map(type, v), *v)
            rest += (k, type(v), v)
        try:
            parts = cache.get(tuple(rest))
        except TypeError:  # something unhashable in the rest
            return indented(row, level)
        if parts is None:
            text = indented({**row, key: mark}, level)
            parts = cache[tuple(rest)] = text.split(encode_basestring_ascii(mark), 1)
        return parts[0] + encode_basestring_ascii(value) + parts[1]

    return fmt


class Rows:
    """A list written item by item as `emit_streamed` reaches it. `fmt(item, level)`
    gives an item's text (default: `indented`)."""

    def __init__(self, items: Iterable[Any], fmt: Callable[[Any, int], str] = indented):
        self.items, self.fmt = items, fmt


class _Out:
    def __init__(self) -> None:
        self.buf: list[str] = []

    def __call__(self, text: str) -> None:
        self.buf.append(text)
        if len(self.buf) >= PAGE:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            sys.stdout.write("".join(self.buf))
            self.buf = []


def emit_streamed(data: Any) -> None:
    """Write `data` as `emit_json` would (indent=2, then a newline); `Rows` in it, at
    the top or as values of top-level dict keys, are written as they are produced."""
    out = _Out()
    if isinstance(data, Rows):
        _rows(data, 0, out)
    elif isinstance(data, dict) and any(isinstance(v, Rows) for v in data.values()):
        if any(type(k) is not str for k in data):
            raise TypeError("streamed JSON objects need string keys")
        sep = "{\n  "
        for k, v in data.items():
            out(f"{sep}{encode_basestring_ascii(k)}: ")
            if isinstance(v, Rows):
                _rows(v, 1, out)
            else:
                out(indented(v, 1))
            sep = ",\n  "
        out("\n}")
    else:
        out(indented(data))
    out("\n")
    out.flush()
    sys.stdout.flush()


def _rows(rows: Rows, level: int, out: _Out) -> None:
    inner, fmt, sep = "\n" + "  " * (level + 1), rows.fmt, "["
    for item in rows.items:
        out(sep + inner + fmt(item, level + 1))
        sep = ","
    out("[]" if sep == "[" else "\n" + "  " * level + "]")
