"""Bounded reading of untrusted import files, and typed getters for what they hold.

Every import parser reads through here, so hostile input meets one set of limits:
a size cap per file, UTF-8 or a clear refusal, JSON without NaN/Infinity, without
numbers longer than any coordinate needs and without nesting deeper than the
decoder follows (its recursion limit: a RecursionError becomes a refusal), YAML
without aliases (a "billion laughs" file expands exponentially through them) and
within a size cap. Each refusal is a FormatError
naming the file and the value, so the CLI prints one line.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import FormatError

MAX_JSON_BYTES = 2 << 30  # a COCO file of a million annotations is ~0.5 GB
MAX_TEXT_BYTES = 256 << 20  # one YOLO/CSV/XML label file
MAX_YAML_BYTES = 1 << 20  # data.yaml: class names and paths, never more
MAX_NUMBER_CHARS = 40  # '-1.2345678901234567e+308' is 24; longer is an attack


def shown(value: Any, limit: int = 60) -> str:
    """A value's repr on one short line (a 5000-digit number is not echoed whole)."""
    try:
        text = repr(value)
    except RecursionError:
        return "(a deeply nested value)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bytes(path: Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):  # /dev/zero or a FIFO never ends
                raise FormatError(f"{path}: not a regular file")
            if st.st_size > limit:
                raise FormatError(f"{path}: larger than {limit >> 20} MB: not an import file")
            data = fh.read(limit + 1)
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise FormatError(f"{path}: larger than {limit >> 20} MB: not an import file")
    return data


def decode(data: bytes, path: Path) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if "\x00" in text:
        raise FormatError(f"{path}: holds NUL bytes: not a text file")
    return text


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    return decode(read_bytes(path, limit), Path(path))


# -- JSON --------------------------------------------------------------------------------
class _Refused(ValueError):
    """Raised inside the JSON hooks; turned into a FormatError with the file name."""


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"number with {len(text)} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"number with {len(text)} characters")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number {text} is out of range")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows")


def loads_json(text: str, where: str) -> Any:
    """JSON of an untrusted file: NaN/Infinity, huge numbers and deep nesting refused."""
    try:
        doc = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except _Refused as exc:
        raise FormatError(f"{where}: not valid JSON: {exc}") from None
    except RecursionError:
        raise FormatError(f"{where}: not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: not valid JSON: {exc}") from None
    return doc


def load_json(path: Path, limit: int = MAX_JSON_BYTES) -> Any:
    return loads_json(read_text(path, limit), str(path))


# -- YAML --------------------------------------------------------------------------------
def load_yaml(path: Path, limit: int = MAX_YAML_BYTES) -> Any:
    """yaml.safe_load within a size cap, refusing anchors and aliases."""
    import yaml

    class _NoAliases(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
        def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise FormatError(
                    f"{path}:{mark.line + 1}: YAML aliases (*name) are not "
                    "accepted in an import file"
                )
            return super().compose_node(parent, index)

    text = read_text(path, limit)
    try:
        return yaml.load(text, Loader=_NoAliases)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise FormatError(f"{path}: not valid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        raise FormatError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None


# -- typed getters -----------------------------------------------------------------------
def obj(value: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(f"{where}: {what} = {shown(value)}: expected an object")
    return value


def items(value: Any, where: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise FormatError(f"{where}: {what} = {shown(value)}: expected a list")
    return value


def text(value: Any, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"{where}: {what} = {shown(value)}: expected a non-empty string")
    return value


def number(value: Any, where: str, what: str, text_ok: bool = True) -> float:
    """A finite number: int or float, or (`text_ok`: CSV/XML/YOLO cells) its text."""
    if isinstance(value, bool) or (isinstance(value, str) and not text_ok):
        raise FormatError(f"{where}: {what} = {shown(value)}: expected a number")
    given = value
    if isinstance(value, str):
        if len(value.strip()) > MAX_NUMBER_CHARS:
            raise FormatError(f"{where}: {what} = {shown(value)}: number too long")
        try:
            value = float(value)
        except ValueError:
            raise FormatError(f"{where}: {what} = {shown(value)}: expected a number") from None
    if not isinstance(value, (int, float)):
        raise FormatError(f"{where}: {what} = {shown(value)}: expected a number")
    try:
        out = float(value)
    except OverflowError:
        raise FormatError(f"{where}: {what} = {shown(given)}: number out of range") from None
    if not math.isfinite(out):
        value = given
        raise FormatError(f"{where}: {what} = {shown(value)}: not a finite number")
    return out


def integer(value: Any, where: str, what: str) -> int:
    out = number(value, where, what)
    if out != int(out):
        raise FormatError(f"{where}: {what} = {shown(value)}: expected an integer")
    return int(out)


def numbers(values: Any, where: str, what: str) -> list[float]:
    """A JSON list of numbers (numbers as strings are not JSON numbers)."""
    return [
        number(v, where, f"{what}[{i}]", text_ok=False)
        for i, v in enumerate(items(values, where, what))
    ]


def key(value: Any, where: str, what: str) -> int | str:
    """An id used as a dict key: an int or a string, never a list or object."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FormatError(f"{where}: {what} = {shown(value)}: expected an integer or a string id")
    return value
