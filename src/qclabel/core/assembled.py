"""Frozen dataclasses built by setting their fields directly, for the hot paths that
build hundreds of thousands of them (an export's records, boxes and images).

A frozen dataclass's `__init__` sets each field through `object.__setattr__`, keyword
by keyword: at 100k records or 300k boxes that is most of building them. When the
class's `__init__` does nothing else (no `__post_init__`), setting the same fields on
the instance's `__dict__` item by item, in field order, makes the same object: the same
attributes in the same order, and a key-sharing dict as `__init__` leaves it (so just
as compact). Callers check `plain` once and build the ordinary way when it is False.
"""

from __future__ import annotations

from typing import Any, Iterable, TypeVar

T = TypeVar("T")


def plain(cls: type, fields: tuple[str, ...], checked_by_caller: bool = False) -> bool:
    """Whether `cls` is still a dataclass of exactly `fields` (in order) whose
    `__init__` only sets them: a field added or a `__post_init__` turns the direct
    build off until its caller is taught them. `checked_by_caller`: the caller makes
    the `__post_init__`'s checks itself (Box's: finite coordinates)."""
    same = tuple(getattr(cls, "__dataclass_fields__", ())) == fields
    return same and (checked_by_caller or not hasattr(cls, "__post_init__"))


def assembled(cls: type[T], items: Iterable[tuple[str, Any]]) -> T:
    """`cls(**dict(items))` for a `plain` class, `items` in field order."""
    obj: T = object.__new__(cls)
    attrs = obj.__dict__  # item by item, not update(): it stays a key-sharing dict
    for name, value in items:
        attrs[name] = value
    return obj
