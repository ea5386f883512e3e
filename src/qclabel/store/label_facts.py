"""What a label says, read from its stored dict: its state without building an
Annotation, and one shared Annotation for every equal label without objects.

A project's labels are mostly alike (pass, or fail with one class): a 100k-label state
then holds a handful of distinct Annotations, built and checked once each, instead of
100k objects built one by one (60 us each) on every status or queue.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Iterator

from ..core.model import Annotation

SHARED: dict[tuple[Any, ...], Annotation] = {}
_NONE: list[Any] = []  # never changed: the value of a field absent from a label
_SIMPLE = frozenset(
    (
        "verdict",
        "defect_class",
        "severity",
        "flag",
        "skipped",
        "also",
        "boxes",
        "keypoints",
        "checks",
    )
)


def simple_key(after: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """A hashable key of a label without objects or checks (most labels of a QA line:
    pass, or fail with a class), None for any other."""
    # the objects and checks absent or an empty list, `also` a list of names: anything
    # else (null, 0, a string) is what from_dict reads otherwise, or refuses
    if (
        not after
        or not _SIMPLE.issuperset(after)
        or after.get("boxes", _NONE) != _NONE
        or after.get("keypoints", _NONE) != _NONE
        or after.get("checks", _NONE) != _NONE
    ):
        return None
    also = after.get("also", _NONE)
    if type(also) is not list or (also and not all(type(a) is str for a in also)):
        return None
    key = (
        after.get("verdict"),
        after.get("defect_class"),
        after.get("severity"),
        after.get("flag"),
        bool(after.get("skipped")),
        tuple(also),
    )
    for v in key[:4]:
        if v is not None and type(v) is not str:
            return None
    return key if len(SHARED) < 10_000 or key in SHARED else None


def annotation_of(after: dict[str, Any] | None) -> Annotation:
    """`Annotation.from_dict(after)`; for a label without objects (`simple_key`) the one
    shared (immutable) Annotation of all labels equal to it."""
    key = simple_key(after)
    if key is None:
        return Annotation.from_dict(after)
    shared = SHARED.get(key)
    if shared is None:
        shared = SHARED[key] = Annotation.from_dict(after)
    return shared


def state_of(after: dict[str, Any] | None) -> str:
    """`Annotation.from_dict(after).state` without building the Annotation (queues and
    counters ask it of every label: 60 us each built, well under 1 us here)."""
    if not after:
        return "unlabeled"
    get = after.get
    if get("flag") is not None:
        return "flagged"
    if get("verdict") or get("defect_class") or get("also") or get("checks"):
        return "labeled"
    for f in _FIELDS or _object_fields():
        if get(f):
            return "labeled"
    return "skipped" if get("skipped") else "unlabeled"


_FIELDS: list[str] = []


def _object_fields() -> list[str]:
    from ..core.kinds import KINDS

    _FIELDS.extend(k.field for k in KINDS)
    return _FIELDS


@contextmanager
def no_gc() -> Iterator[None]:
    """Loading a 100k-label snapshot creates millions of objects, none of them cyclic;
    the cycle collector would walk them over and over for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
