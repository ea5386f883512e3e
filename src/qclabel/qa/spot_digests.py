"""The spot-check sample's SHA-256 of "seed:image" per catalog image, kept between plans.

The sample is the `rate` share of each group with the lowest digest (qa.plan); hashing a
million ids costs over a second on every `qa plan`, queue and report, although a
catalog only grows at its end. So the digests (their first 16 bytes, which decide the
order) are kept in the planning user's own cache folder (`$XDG_CACHE_HOME/qclabel/
spot-check`, else `~/.cache/...`; mode 0700, only they can write it), one file per
catalog and seed, with a SHA-256 of the ids they were computed for and one of the
digests themselves (a file is not synced before it replaces the last: a crash can leave
blocks of zeros under an intact header; 10 ms at a million ids). A plan reuses the
digests of the longest prefix it can prove unchanged (the catalog's ids in order, hashed
as one JSON list) and hashes only the images after it; anything else (another catalog,
a changed or unreadable file, a folder someone else could write) is hashed afresh, so
the sample is exactly the one hashing every id gives.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from .. import forked, usercache

HEAD = 72  # SHA-256 of the ids covered, their count (8 bytes, little-endian), SHA-256 of the rest


def _file(catalog_file: Path, seed: int) -> Path:
    name = hashlib.sha256(str(Path(catalog_file).resolve()).encode()).hexdigest()[:32]
    return usercache.folder("spot-check") / f"{name}-{seed}.bin"


def _ids_hash(seed: int, ids: list[str]) -> bytes:
    """One hash of the seed and the ids in order. Joined by NUL (a third of the cost of
    a JSON list at a million ids), which tells every list apart as long as no id holds
    a NUL; a list where one does is hashed as JSON, under another prefix."""
    blob = "\x00".join(ids)
    if blob.count("\x00") == max(len(ids) - 1, 0):
        return hashlib.sha256(f"ids/1:{seed}:{len(ids)}:".encode() + blob.encode()).digest()
    return hashlib.sha256(b"json:" + json.dumps([seed, ids]).encode()).digest()


def compute(ids: list[str], seed: int) -> bytes:
    """The first 16 bytes of SHA-256("seed:image") of each id, concatenated: a large
    list in two processes where that is safe (the second half in a forked child,
    `forked`: half a million ids, 0.3 s), else in this one. What a failed or killed
    child did not hand over is hashed here instead: the result is the same either way."""
    if len(ids) < PARALLEL:
        return _hash(ids, seed)
    half = len(ids) // 2
    rest = ids[half:]
    child = forked.start(lambda alive: _hash_while(rest, seed, alive))
    if child is None:
        return _hash(ids, seed)
    try:
        first = _hash(ids[:half], seed)
    except BaseException:  # e.g. Ctrl-C: no child left behind
        child.abandon()
        raise
    second = child.result()
    if second is None or len(second) != 16 * len(rest):
        second = _hash(rest, seed)
    return first + second


PARALLEL = 200_000  # below this a second process saves less than it costs
CHUNK = 16_384  # the child's ids between two looks at whether its parent is still there


def _hash(ids: list[str], seed: int) -> bytes:
    prefix, sha = f"{seed}:", hashlib.sha256
    return b"".join(sha((prefix + i).encode()).digest()[:16] for i in ids)


def _hash_while(ids: list[str], seed: int, alive: Callable[[], bool]) -> bytes:
    """`_hash`, a chunk at a time, for as long as `alive()` (the child's parent is there)."""
    parts = []
    for n in range(0, len(ids), CHUNK):
        if not alive():
            raise SystemExit(1)
        parts.append(_hash(ids[n : n + CHUNK], seed))
    return b"".join(parts)


def _load(path: Path, seed: int, ids: list[str]) -> bytes:
    """The cached digests of the longest prefix of `ids` the file proves, or b""."""
    data = usercache.read(path)
    if data is None or len(data) < HEAD:
        return b""
    n = int.from_bytes(data[32:40], "little")
    body = data[HEAD:]
    if n > len(ids) or len(body) != 16 * n or _ids_hash(seed, ids[:n]) != data[:32]:
        return b""
    if hashlib.sha256(body).digest() != data[40:HEAD]:
        return b""
    return body


def _store(path: Path, seed: int, ids: list[str], digests: bytes) -> None:
    """Keep the digests; a cache that cannot be written only means hashing next time."""
    head = _ids_hash(seed, ids) + len(ids).to_bytes(8, "little") + hashlib.sha256(digests).digest()
    usercache.write(path, head + digests)


def digest_words(ids: list[str], seed: int, catalog_file: Path | None) -> np.ndarray:
    """(len(ids), 2) big-endian u8 words of each id's digest, in the order of `ids`
    (the catalog's order): cached for `catalog_file`, hashed for what is new."""
    if catalog_file is None:
        digests = compute(ids, seed)
    else:
        path = _file(catalog_file, seed)
        known = _load(path, seed, ids)
        new = compute(ids[len(known) // 16 :], seed)
        digests = known + new
        if new:
            _store(path, seed, ids, digests)
    return np.frombuffer(digests, ">u8").reshape(-1, 2)
