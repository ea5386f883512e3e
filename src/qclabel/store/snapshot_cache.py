"""A label snapshot's parsed entries, kept in the reading user's own cache folder.

Parsing a 100k-label snapshot (28 MB of JSON) and building its entries costs a quarter
of a second quiet and over a second on a loaded server, on every `status` and every
start of the labeling app, although a snapshot changes only when its session writes a
new one. So the entries are kept as `marshal` bytes (about 3x faster to load) in
`$XDG_CACHE_HOME/qclabel/snapshots` (else `~/.cache/...`; mode 0700, only the user can
write it), one file per snapshot named by the SHA-256 of the snapshot's bytes, the same
hash the acknowledgement mark vouches for (replay_checks.snapshot_problem). The file
starts with that hash and a SHA-256 of its own body: a file of another snapshot, a
truncated or altered one, or one in a folder someone else could write is ignored and
the snapshot parsed afresh, so what a reader gets is always what parsing gives.

Equal labels (most of a project's: "pass", or "fail" with one class) are kept as one
dict shared by their entries: the file shrinks, it loads faster, and readers build one
Annotation per distinct label (LabelState keeps them by the dict's identity). Nothing
changes an entry's `after` in place: a commit stores a new dict. Distinct labels are
kept too, as they are (still twice as fast to load as to parse).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
from pathlib import Path
from typing import Any

from .. import __version__, usercache
from .label_facts import no_gc

# What wrote the file: this layout (bump the 1 when parsing a snapshot gives other
# entries), the release, and the interpreter's marshal (its format may differ between
# Python versions): a file written by any other is parsed afresh, never loaded.
MAGIC = (
    f"qclabel-snapshot-entries 1 {__version__} "
    f"py{sys.version_info[0]}.{sys.version_info[1]} marshal{marshal.version}\n"
).encode()
HEAD = len(MAGIC) + 64  # then the snapshot's SHA-256 and the body's, 32 bytes each
KEEP = 16  # files kept; older ones are removed when a new one is written
BUDGET = 512 * 2**20  # bytes kept at most, the newest file always

Entries = dict[tuple[str, str], dict[str, Any]]


def folder() -> Path:
    return usercache.folder("snapshots")


def _file(sha: str) -> Path:
    return folder() / f"{sha}.bin"


def load(sha: str) -> tuple[Entries, dict[str, Any]] | None:
    """The entries and meta document parsed from the snapshot whose bytes hash to
    `sha` (hex), or None when no trustworthy file holds them (usercache.read)."""
    data = usercache.read(_file(sha))
    if data is None:
        return None
    n = len(MAGIC)
    if (
        len(data) < HEAD
        or data[:n] != MAGIC
        or data[n : n + 32] != bytes.fromhex(sha)
        or hashlib.sha256(memoryview(data)[HEAD:]).digest() != data[n + 32 : HEAD]
    ):
        return None
    try:
        with no_gc():
            entries, meta = marshal.loads(memoryview(data)[HEAD:])
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(entries, dict) or not isinstance(meta, dict):
        return None
    return entries, meta


def shared(entries: Entries) -> Entries:
    """The entries with equal `after` dicts merged into one object (marshal writes a
    shared object once and loads it as one object again), or the entries as they are
    when most labels are distinct (boxes drawn one by one), found out early: marshal
    still loads those about twice as fast as JSON parses them (0.5 against 1.1 s for
    100k images of three boxes), but merging would only cost the reader."""
    merged: dict[bytes, Any] = {}
    dumps = marshal.dumps
    out: Entries = {}
    limit = _limit(len(entries))
    with no_gc():
        for key, entry in entries.items():
            after = entry.get("after")
            if isinstance(after, dict):
                entry = dict(entry)
                entry["after"] = merged.setdefault(dumps(after), after)
            out[key] = entry
            if len(merged) > limit:  # cannot pay: a marshal of a quarter, not of all
                return entries
    return out


def interned(entries: Entries) -> Entries:
    """The freshly parsed entries with their labels' repeated words (verdict, class,
    severity) as one string object each, in place: JSON parsing makes a new string per
    occurrence (300k box classes at 100k images of three boxes, 33 MB), and marshal
    writes an object held twice once, so the kept file loads them shared too. Equal
    strings: nothing a reader can see changes."""
    words: dict[str, str] = {}
    word = words.setdefault
    with no_gc():
        for entry in entries.values():
            after = entry.get("after")
            if not isinstance(after, dict):
                continue
            for name in ("verdict", "defect_class", "severity"):
                value = after.get(name)
                if type(value) is str:
                    after[name] = word(value, value)
            boxes = after.get("boxes")
            if type(boxes) is not list:
                continue
            for box in boxes:
                if type(box) is dict:
                    for name in ("cls", "severity"):
                        value = box.get(name)
                        if type(value) is str:
                            box[name] = word(value, value)
    return entries


def _limit(entries: int) -> int:
    return entries // 4 + 16


def _pays(distinct: int, entries: int) -> bool:
    return distinct <= _limit(entries)


def encode(entries: Entries, meta: dict[str, Any]) -> bytes:
    with no_gc():
        return marshal.dumps((entries, meta))


def as_parsed(entries: Entries) -> Entries | None:
    """The entries as parsing the snapshot written from them gives them back: each
    distinct `after` through JSON once (tuples become lists, keys strings), so a
    session keeps the cache of the snapshot it writes without reading it again. None
    when most labels are distinct (see `shared`)."""
    dumps = marshal.dumps
    with no_gc():
        raws = {key: dumps(e["after"]) for key, e in entries.items()}
        distinct = set(raws.values())
        if not _pays(len(distinct), len(entries)):
            return None
        parsed: dict[bytes, Any] = {}
        for raw in distinct:
            after = marshal.loads(raw)
            parsed[raw] = json.loads(json.dumps(after))
        return {
            key: {"after": parsed[raws[key]], "ts": e["ts"], "seq": e["seq"]}
            for key, e in entries.items()
        }


def store(sha: str, entries: Entries, meta: dict[str, Any]) -> None:
    """Keep the entries parsed from the snapshot `sha` (after `shared`: equal labels
    one object); a cache that cannot be written only means parsing next time."""
    try:
        body = encode(entries, meta)
    except ValueError:  # a value marshal cannot write
        return
    path = _file(sha)
    usercache.write(path, MAGIC + bytes.fromhex(sha) + hashlib.sha256(body).digest() + body)
    _prune(path.parent)


def _prune(where: Path) -> None:
    """Each snapshot written replaces the last: keep the newest few files only, and no
    more than BUDGET bytes of them (a snapshot of distinct boxes keeps ~0.45 KB per
    image), the newest always; only in a private folder (usercache.prune)."""
    usercache.prune(where, ".bin", KEEP, BUDGET)
