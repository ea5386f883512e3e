"""Label state per annotator: TinyDB snapshot + journal replay.

State is a dict keyed by (kind, image) holding the latest `after` of that key. Kinds:
`label` (an annotator's own labels) and whatever QA adds (`review`, `final`, ...).
The snapshot (`<user>.snapshot.json`, TinyDB layout, written atomically) records the
journal offset, seq and hash it covers; opening loads it and replays the rest of the
journal. The writing session lives in `session.py`.
"""

from __future__ import annotations

import gc
import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..core.model import Annotation
from ..errors import JournalCorrupt, QclabelError, StoreWriteError
from .atomic import AtomicJSONStorage
from .journal import Tail, Torn, genesis, line_ending_at, read_events

Key = tuple[str, str]
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def check_user(user: str) -> str:
    if not _USER.match(user or ""):
        raise QclabelError(f"user name {user!r} cannot name a journal file")
    return user


class LabelState:
    """One annotator's replayed state (read-only view)."""

    def __init__(self, user: str, entries: dict[Key, dict[str, Any]], tail: Tail,
                 torn: Torn | None = None, snapshot: Tail | None = None):
        self.user, self.entries, self.tail, self.torn = user, entries, tail, torn
        # Where the snapshot this state was loaded from ends (genesis: no snapshot).
        self.snapshot = snapshot or Tail(0, 0, genesis(user))

    def get(self, image: str, kind: str = "label") -> dict[str, Any] | None:
        entry = self.entries.get((kind, image))
        return entry["after"] if entry else None

    def annotation(self, image: str) -> Annotation:
        return Annotation.from_dict(self.get(image, "label"))

    def annotations(self, kind: str = "label") -> dict[str, Annotation]:
        return {img: Annotation.from_dict(e["after"])
                for (k, img), e in self.entries.items() if k == kind and e["after"] is not None}

    def items(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for (k, img), e in self.entries.items():
            if k == kind and e["after"] is not None:
                yield img, e

    def __len__(self) -> int:
        return len(self.entries)


def journal_path(labels_dir: Path, user: str) -> Path:
    return labels_dir / f"{check_user(user)}.jsonl"


def snapshot_path(labels_dir: Path, user: str) -> Path:
    return labels_dir / f"{check_user(user)}.snapshot.json"


def load_state(labels_dir: Path, user: str, verify: bool = True) -> LabelState:
    """Snapshot + journal tail. Readers call this without any lock; a line the writer
    is appending right now shows up as a torn tail and is left out."""
    spath, jpath = snapshot_path(labels_dir, user), journal_path(labels_dir, user)
    entries, tail = _load_snapshot(spath, user)
    mark = tail
    if verify:
        check_snapshot_mark(spath, jpath, tail)
    torn = None
    if jpath.exists():
        for item in read_events(jpath, tail, user, verify=verify):
            if isinstance(item, Torn):
                torn = item
                break
            tail, event = item
            entries[(event["kind"], event["image"])] = {
                "after": event.get("after"), "ts": event["ts"], "seq": event["seq"]}
    return LabelState(user, entries, tail, torn, snapshot=mark)


def check_snapshot_mark(spath: Path, jpath: Path, mark: Tail) -> None:
    """The snapshot says which line it covers up to; the journal must still end that
    line there with the same hash, or lines were cut off or rewritten."""
    if mark.seq == 0:
        return
    size = jpath.stat().st_size if jpath.exists() else 0
    if size < mark.offset:
        raise JournalCorrupt(f"{jpath}: cut at the end or shortened: {spath.name} covers "
                             f"{mark.seq} events ({mark.offset} bytes) but the journal has "
                             f"{size} bytes; `qclabel audit verify` finds the line")
    try:
        event = json.loads(line_ending_at(jpath, mark.offset))
        ok = event.get("seq") == mark.seq and event.get("hash") == mark.hash
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise JournalCorrupt(f"{jpath}:{mark.seq}: does not match {spath.name} (the line "
                             "the snapshot covers up to was altered, or lines were removed)")


def _load_snapshot(path: Path, user: str,
                   strict: bool = False) -> tuple[dict[Key, dict[str, Any]], Tail]:
    """The snapshot's entries and the journal position it covers. The journal alone is
    complete, so an unreadable snapshot is not fatal: unless `strict` (the audit), it is
    ignored and the whole journal is replayed (a session then writes a fresh one)."""
    try:
        return read_snapshot(path, user)
    except (JournalCorrupt, StoreWriteError, KeyError, TypeError, AttributeError) as exc:
        if strict:
            raise JournalCorrupt(f"{path}: unreadable snapshot ({exc}); delete it and "
                                 "the journal alone rebuilds it") from exc
        return {}, Tail(0, 0, genesis(user))


def read_snapshot(path: Path, user: str) -> tuple[dict[Key, dict[str, Any]], Tail]:
    """Read the snapshot's TinyDB layout straight from its storage: TinyDB's table API
    would wrap each of 100k documents in an object only to unwrap it again."""
    empty = Tail(0, 0, genesis(user))
    with _no_gc():
        data = AtomicJSONStorage(path, read_only=True).read() if path.exists() else None
        meta = list((data or {}).get("meta", {}).values())
        if not meta:
            return {}, empty
        m = meta[0]
        if m.get("user", user) != user:
            raise JournalCorrupt(f"{path}: a snapshot of {m.get('user')!r}, not of {user!r}")
        docs = data.get("state", {}).values()
        if m.get("layout") == 2:  # documents already hold the in-memory entry
            entries = {(d.pop("k"), d.pop("i")): d for d in docs}
        else:
            entries = {(d["k"], d["i"]): {"after": d["a"], "ts": d["t"], "seq": d["s"]}
                       for d in docs}
    return entries, Tail(m["offset"], m["seq"], m["hash"])


@contextmanager
def _no_gc() -> Iterator[None]:
    """Loading a 100k-label snapshot creates millions of objects, none of them cyclic;
    the cycle collector would walk them over and over for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def snapshot_tail(labels_dir: Path, user: str) -> Tail:
    return _load_snapshot(snapshot_path(labels_dir, user), user)[1]


def write_snapshot(labels_dir: Path, state: LabelState) -> None:
    """Write the snapshot in TinyDB's own file layout in one atomic write (TinyDB's
    table API would rewrite a 100k-document file once per call)."""
    docs = {str(n): {"k": k, "i": i, "after": e["after"], "ts": e["ts"], "seq": e["seq"]}
            for n, ((k, i), e) in enumerate(state.entries.items(), start=1)}
    meta = {"1": {"offset": state.tail.offset, "seq": state.tail.seq,
                  "hash": state.tail.hash, "user": state.user, "layout": 2}}
    storage = AtomicJSONStorage(snapshot_path(labels_dir, state.user))
    storage.write({"state": docs, "meta": meta})


def users(labels_dir: Path) -> list[str]:
    if not labels_dir.exists():
        return []
    # Files that cannot be a journal (a copy named "ann (1).jsonl") are not a user.
    return sorted(p.name[:-6] for p in labels_dir.glob("*.jsonl") if _USER.match(p.name[:-6]))


# The writing session lives in its own module; re-exported here for existing imports.
from .session import SNAPSHOT_EVERY, AnnotatorSession  # noqa: E402,F401
