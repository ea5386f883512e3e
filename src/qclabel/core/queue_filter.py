"""Queue specs: which images an annotator works through, named and filtered.

A spec is comma-separated terms: at most one queue name (unlabeled, mine, flagged, all,
plan) and any number of filters `key=value`, where a value may list alternatives with
`|` and `key!=value` excludes:

    lot=L07                      the default queue, lot L07 only
    all,station=S2|S3,camera=c1  every image from stations S2 or S3 on camera c1
    mine,class=crack             my labels naming a crack (image class or any object)
    unlabeled,file=*_cam2_*      file names matching a glob

Keys: `class` (the annotator's own label: image class or an object's class, so a
filter never reveals another annotator's labels), `state` (unlabeled, labeled,
skipped, flagged), `file` (glob on the file name), and any ingest field of the image
(lot, station, camera, shift, part, task, ...). A field an image lacks never matches.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import PurePath

from .model import Annotation, ImageRecord

LABEL_KEYS = ("class", "state")
STATES = ("unlabeled", "labeled", "skipped", "flagged")


@dataclass(frozen=True)
class Term:
    key: str
    values: frozenset[str]
    negate: bool = False

    def __str__(self) -> str:
        return f"{self.key}{'!=' if self.negate else '='}{'|'.join(sorted(self.values))}"


@dataclass(frozen=True)
class QueueSpec:
    name: str | None  # None: the caller's default (the queue used last)
    terms: tuple[Term, ...] = ()

    def __str__(self) -> str:
        return ",".join(([self.name] if self.name else []) + [str(t) for t in self.terms])

    @property
    def needs_labels(self) -> bool:
        return any(t.key in LABEL_KEYS for t in self.terms)

    def with_name(self, name: str) -> "QueueSpec":
        return QueueSpec(name, self.terms)

    def matches(self, record: ImageRecord, own: Annotation | None = None) -> bool:
        return all(_matches(t, record, own) for t in self.terms)


def parse_queue(spec: str | None, queues: tuple[str, ...]) -> QueueSpec:
    """Parse a spec; ValueError (one line, naming the bad term) when it is malformed."""
    if spec is None or not spec.strip():
        return QueueSpec(None)
    name: str | None = None
    terms: list[Term] = []
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        if "=" not in part:
            if part not in queues:
                raise ValueError(
                    f"queue {part!r}: expected one of {', '.join(queues)} or a filter key=value"
                )
            if name is not None:
                raise ValueError(f"queue spec {spec!r} names two queues ({name}, {part})")
            name = part
            continue
        key, _, value = part.partition("=")
        negate = key.endswith("!")
        key = key.rstrip("!").strip()
        values = frozenset(v.strip() for v in value.split("|") if v.strip())
        if not key or not values:
            raise ValueError(f"queue filter {part!r}: expected key=value (e.g. lot=L07)")
        if key == "state" and not values <= set(STATES):
            raise ValueError(f"queue filter {part!r}: state is one of {', '.join(STATES)}")
        terms.append(Term(key, values, negate))
    return QueueSpec(name, tuple(terms))


def _matches(term: Term, record: ImageRecord, own: Annotation | None) -> bool:
    hit = _hit(term, record, own)
    return not hit if term.negate else hit


def _hit(term: Term, record: ImageRecord, own: Annotation | None) -> bool:
    if term.key == "file":
        name = PurePath(record.file).name
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in term.values)
    if term.key == "state":
        return (own.state if own is not None else "unlabeled") in term.values
    if term.key == "class":
        return own is not None and bool(set(own.classes()) & term.values)
    value = record.fields.get(term.key)
    return value is not None and str(value) in term.values
