"""The journal's line format: one event as canonical JSON, chained by hashes.

A line is `canonical(event)`: sorted keys, no spaces, UTF-8. Its `hash` is the SHA-256
of the canonical JSON of the event without `hash`; `prev` is the previous line's hash
(the first line's is the genesis of the journal's owner)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

# Written into every event since journals have acknowledgement marks: a journal holding
# such a line must have its mark file, so deleting the mark cannot pass for an old project.
FORMAT = 2


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def genesis(user: str) -> str:
    """The `prev` of a user's first line: binds the journal to its owner."""
    return hashlib.sha256(f"qclabel-journal:{user}".encode()).hexdigest()


def event_hash(event: dict[str, Any]) -> str:
    body = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def encode_event(body: dict[str, Any]) -> tuple[str, bytes]:
    """The hash of `body` and its journal line, `canonical({**body, "hash": ...})`,
    encoding the body once: the keys before "hash" and those after it are encoded
    apart, and the line is the two halves with the hash between them."""
    before = canonical({k: v for k, v in body.items() if k < "hash"})
    after = canonical({k: v for k, v in body.items() if k > "hash"})
    if before == b"{}" or after == b"{}":  # not an event qclabel writes; the slow way
        digest = event_hash(body)
        return digest, canonical({**body, "hash": digest}) + b"\n"
    digest = hashlib.sha256(before[:-1] + b"," + after[1:]).hexdigest()
    return digest, before[:-1] + b',"hash":"' + digest.encode() + b'",' + after[1:] + b"\n"


@lru_cache(maxsize=256)
def _key_json(key: str) -> bytes:
    return canonical(key) + b":"


def is_written_form(raw: bytes, event: dict[str, Any]) -> bool:
    """True when `raw` is exactly the line encode_event writes for `event`, without
    encoding it again: taking the hash pair out of the line must leave bytes hashing to
    it (so they are the canonical body), and the pair must sit before the first key that
    sorts after "hash" (so the line is canonical too). A line holding a `\\u` escape is
    left to the caller: canonical JSON writes every character as itself but control
    characters, and bytes spelled otherwise hash as spelled too (a lone surrogate no
    qclabel line can hold, hashed by whoever wrote it). A false result proves nothing;
    the caller then looks closer."""
    digest = event["hash"]
    keys = sorted(event)
    nxt = keys.index("hash") + 1
    if not isinstance(digest, str) or nxt >= len(keys) or b"\\u" in raw:
        return False
    pair = b'"hash":"' + digest.encode() + b'",'
    at = raw.find(pair)
    if (
        at <= 1
        or raw[at - 1 : at] != b","
        or not raw.startswith(_key_json(keys[nxt]), at + len(pair))
    ):
        return False
    return hashlib.sha256(raw[:at] + raw[at + len(pair) : -1]).hexdigest() == digest


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
