"""Label state per annotator: TinyDB snapshot + journal replay.

State is a dict keyed by (kind, image) holding the latest `after` of that key. Kinds:
`label` (an annotator's own labels) and whatever QA adds (`review`, `final`, ...).
The snapshot (`<user>.snapshot.json`, TinyDB layout, written atomically) records the
journal offset, seq and hash it covers; loading it and replaying the journal up to the
acknowledgement mark gives the state (replay.py). The writing session lives in
`session.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..core.model import Annotation
from ..errors import InvalidGeometry, JournalCorrupt, QclabelError
from .ackmark import AckRecord
from .journal import Tail, Torn, genesis, line_ending_at
from .label_facts import SHARED, annotation_of, no_gc, simple_key, state_of  # noqa: F401
from .ownership import ALT, file_stem

Key = tuple[str, str]
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def check_user(user: str) -> str:
    if not _USER.match(user or ""):
        raise QclabelError(f"user name {user!r} cannot name a journal file")
    return user


@dataclass(frozen=True)
class Damage:
    """One finding about one annotator's files, as a single line naming file and line.
    `part` says which file: "journal", "mark" (the .ack file) or "snapshot"; only a
    snapshot is rebuilt from the journal, the others need a backup."""

    part: str
    message: str

    def __str__(self) -> str:
        return self.message


class LabelState:
    """One annotator's replayed state (read-only view).

    `damage` lists what reading found wrong with the files (empty when all is well);
    the state then holds what could still be verified. `torn` holds the bytes after the
    last acknowledged line, if any (never replayed)."""

    def __init__(
        self,
        user: str,
        entries: dict[Key, dict[str, Any]],
        tail: Tail,
        torn: Torn | None = None,
        snapshot: Tail | None = None,
        damage: list[Damage] | None = None,
        ack: AckRecord | None = None,
    ):
        self.user, self.entries, self.tail, self.torn = user, entries, tail, torn
        # Where the snapshot this state was loaded from ends (genesis: no snapshot).
        self.snapshot = snapshot or Tail(0, 0, genesis(user))
        self.damage: list[Damage] = damage or []
        self.ack = ack  # the acknowledgement mark read, None when there is none
        # id(after) -> (that `after` dict, its Annotation): an Annotation is built once
        # per change, not once per reader call (status bars ask per key), and once for
        # all the entries that share one dict (snapshot_cache); the dict is held here,
        # so its id is not reused while the entry lives
        self._built: dict[int, tuple[dict[str, Any], Annotation]] = {}
        # (kind, image, seq, ts) of entries whose author lacked the role they need at
        # their time: left out of `entries` by Store (authority.py)
        self.unauthorized: list[tuple[str, str, int, str]] = []

    def get(self, image: str, kind: str = "label") -> dict[str, Any] | None:
        entry = self.entries.get((kind, image))
        return entry["after"] if entry else None

    def annotation(self, image: str) -> Annotation:
        entry = self.entries.get(("label", image))
        if entry is None or entry["after"] is None:
            return Annotation.from_dict(None)
        return self._annotation(("label", image), entry["after"])

    def _annotation(self, key: Key, after: dict[str, Any]) -> Annotation:
        built = self._built.get(id(after))
        if built is None or built[0] is not after:  # identity: a commit stores a new dict
            built = self._built[id(after)] = (after, self._build(key[1], after))
        return built[1]

    def annotations(self, kind: str = "label") -> dict[str, Annotation]:
        out: dict[str, Annotation] = {}
        get = self._built.get
        for (k, img), e in self.entries.items():
            after = e["after"]
            if k != kind or after is None:
                continue
            built = get(id(after))
            if built is not None and built[0] is after:
                out[img] = built[1]
            else:
                out[img] = self._annotation((k, img), after)
        return out

    def _build(self, image: str, after: dict[str, Any] | None) -> Annotation:
        """A label written before NaN/inf were refused cannot be built any more, nor one
        whose fields are not what qclabel writes (`"boxes": null`, a box without its
        size): say whose and which, rather than let an export drop the object unseen."""
        try:
            return annotation_of(after)  # no objects: equal labels share one Annotation
        except InvalidGeometry as exc:
            why = f"holds {exc} (not written by this release, which refuses it)"
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            why = f"is not a label qclabel writes ({type(exc).__name__}: {exc})"
        raise JournalCorrupt(
            f"labels/{self.user}.jsonl: the label of image {image} {why}; {self.user} "
            "relabels that image, or an admin restores the journal from a backup"
        )

    def items(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for (k, img), e in self.entries.items():
            if k == kind and e["after"] is not None:
                yield img, e

    def __len__(self) -> int:
        return len(self.entries)


def journal_path(labels_dir: Path, user: str) -> Path:
    return labels_dir / f"{file_stem(labels_dir, check_user(user))}.jsonl"


def snapshot_path(labels_dir: Path, user: str) -> Path:
    return labels_dir / f"{file_stem(labels_dir, check_user(user))}.snapshot.json"


def snapshot_mark_problem(spath: Path, jpath: Path, mark: Tail) -> str | None:
    """The snapshot says which line it covers up to; the journal must still end that
    line there with the same hash, or lines were cut off or rewritten."""
    if mark.seq == 0:
        return None
    size = jpath.stat().st_size if jpath.exists() else 0
    if size < mark.offset:
        return (
            f"{jpath}: cut at the end or shortened: {spath.name} covers {mark.seq} "
            f"events ({mark.offset} bytes) but the journal has {size} bytes"
        )
    try:
        raw = line_ending_at(jpath, mark.offset)
        event = json.loads(raw)
        if raw.endswith(b"\n") and (event.get("seq"), event.get("hash")) == (mark.seq, mark.hash):
            return None
    except (ValueError, AttributeError):
        pass
    return (
        f"{jpath}: does not match {spath.name} (the line with seq {mark.seq}, which "
        "the snapshot covers up to, was altered, or lines before it were removed)"
    )


@dataclass
class SnapshotFile:
    entries: dict[Key, dict[str, Any]]
    mark: Tail
    present: bool = False
    acked: bool = False  # written by a session that keeps an acknowledgement mark
    problem: str | None = None
    sha: str = ""  # of the file's bytes


def load_snapshot(path: Path, user: str) -> SnapshotFile:
    """The snapshot's entries and the journal position it covers. The journal alone is
    complete, so an unreadable snapshot is not fatal: its `problem` says why, and the
    caller replays the whole journal instead (a session then writes a fresh one)."""
    empty = Tail(0, 0, genesis(user))
    if not path.exists():
        return SnapshotFile({}, empty)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:  # replaced by rename, so only if it was deleted just now
        return SnapshotFile({}, empty)
    except OSError as exc:
        return SnapshotFile(
            {},
            empty,
            True,
            problem=f"{path}: unreadable snapshot "
            f"({exc.strerror or exc}); the journal alone rebuilds it",
        )
    sha = hashlib.sha256(raw).hexdigest()
    try:
        entries, mark, meta = read_snapshot(path, user, raw, sha)
    except (JournalCorrupt, ValueError, KeyError, TypeError, AttributeError) as exc:
        return SnapshotFile(
            {},
            empty,
            True,
            problem=f"{path}: unreadable snapshot ({exc}); the journal alone rebuilds it",
            sha=sha,
        )
    return SnapshotFile(entries, mark, True, bool(meta.get("acked")), sha=sha)


def read_snapshot(
    path: Path, user: str, raw: bytes, sha: str | None = None
) -> tuple[dict[Key, dict[str, Any]], Tail, dict[str, Any]]:
    """Read the snapshot's TinyDB layout straight from its bytes: TinyDB's table API
    would wrap each of 100k documents in an object only to unwrap it again. With the
    bytes' SHA-256 (`sha`), the entries come from the reader's own cache of what
    parsing these bytes gave (snapshot_cache) when it holds them, and go there when not."""
    from . import snapshot_cache

    kept = snapshot_cache.load(sha) if sha else None
    if kept is not None:
        entries, m = kept
    else:
        entries, m = _parse_snapshot(path, user, raw)
        snapshot_cache.interned(entries)
        if sha and m:
            try:
                merged = snapshot_cache.shared(entries)
            except ValueError:  # a value marshal cannot write: nothing kept
                merged = None
            if merged is not None:
                entries = merged
                snapshot_cache.store(sha, entries, m)
    if not m:
        return {}, Tail(0, 0, genesis(user)), {}
    if m.get("user", user) != user:
        raise JournalCorrupt(f"{path}: a snapshot of {m.get('user')!r}, not of {user!r}")
    return entries, Tail(m["offset"], m["seq"], m["hash"]), m


def _parse_snapshot(
    path: Path, user: str, raw: bytes
) -> tuple[dict[Key, dict[str, Any]], dict[str, Any]]:
    with no_gc():
        data: Any = json.loads(raw) if raw.strip() else None
        meta = list((data or {}).get("meta", {}).values())
        if not meta:
            return {}, {}
        m = meta[0]
        if m.get("user", user) != user:
            raise JournalCorrupt(f"{path}: a snapshot of {m.get('user')!r}, not of {user!r}")
        docs = data.get("state", {}).values()
        if m.get("layout") == 2:  # documents already hold the in-memory entry
            entries = {(d.pop("k"), d.pop("i")): d for d in docs}
        else:
            entries = {
                (d["k"], d["i"]): {"after": d["a"], "ts": d["t"], "seq": d["s"]} for d in docs
            }
        Tail(m["offset"], m["seq"], m["hash"])  # a mark without them: unreadable
    return entries, m


def snapshot_tail(labels_dir: Path, user: str) -> Tail:
    return load_snapshot(snapshot_path(labels_dir, user), user).mark


def snapshot_meta(state: LabelState) -> dict[str, Any]:
    t, user = state.tail, state.user
    return {"offset": t.offset, "seq": t.seq, "hash": t.hash, "user": user, "layout": 2, "acked": 1}


def encode_snapshot(state: LabelState) -> bytes:
    """The snapshot in TinyDB's own file layout, for one atomic write (TinyDB's table API
    would rewrite a 100k-document file once per call)."""
    docs = {
        str(n): {"k": k, "i": i, "after": e["after"], "ts": e["ts"], "seq": e["seq"]}
        for n, ((k, i), e) in enumerate(state.entries.items(), start=1)
    }
    meta = {"1": snapshot_meta(state)}
    return json.dumps({"state": docs, "meta": meta}, separators=(",", ":")).encode()


def users(labels_dir: Path) -> list[str]:
    """Everyone with a journal, a snapshot or a mark: a journal deleted while the others
    remain is still somebody's, and damage to report."""
    if not labels_dir.exists():
        return []
    names: set[str] = set()
    for suffix in (".jsonl", ".snapshot.json", ".ack"):
        # USER@TAG: USER's files, moved aside from files planted under USER (ownership.py)
        names.update(p.name[: -len(suffix)].split(ALT, 1)[0] for p in labels_dir.glob(f"*{suffix}"))
    # Files that cannot be a journal (a copy named "ann (1).jsonl") are not a user.
    return sorted(n for n in names if _USER.match(n))


# Replay and the writing session live in their own modules; re-exported here for
# existing imports.
from .replay import load_state  # noqa: E402,F401
from .session import SNAPSHOT_EVERY, AnnotatorSession  # noqa: E402,F401
