"""The spot-check sample's SHA-256 of "seed:image" per catalog image, kept between plans.

The sample is the `rate` share of each group with the lowest digest (qa.plan); hashing a
million ids costs over a second on every `qa plan`, queue and report, although a
catalog only grows at its end. So the digests (their first 16 bytes, which decide the
order) are kept in the planning user's own cache folder (`$XDG_CACHE_HOME/qclabel/
spot-check`, else `~/.cache/...`; mode 0700, only they can write it), one file per
catalog and seed, with a SHA-256 of the ids they were computed for. A plan reuses the
digests of the longest prefix it can prove unchanged (the catalog's ids in order, hashed
as one JSON list) and hashes only the images after it; anything else (another catalog,
a changed or unreadable file, a folder someone else could write) is hashed afresh, so
the sample is exactly the one hashing every id gives.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .. import usercache

HEAD = 40  # SHA-256 of the ids covered, then their count (8 bytes, little-endian)


def _file(catalog_file: Path, seed: int) -> Path:
    name = hashlib.sha256(str(Path(catalog_file).resolve()).encode()).hexdigest()[:32]
    return usercache.folder("spot-check") / f"{name}-{seed}.bin"


def _ids_hash(seed: int, ids: list[str]) -> bytes:
    return hashlib.sha256(json.dumps([seed, ids]).encode()).digest()


def compute(ids: list[str], seed: int) -> bytes:
    """The first 16 bytes of SHA-256("seed:image") of each id, concatenated."""
    prefix, sha = f"{seed}:", hashlib.sha256
    return b"".join(sha((prefix + i).encode()).digest()[:16] for i in ids)


def _load(path: Path, seed: int, ids: list[str]) -> bytes:
    """The cached digests of the longest prefix of `ids` the file proves, or b""."""
    data = usercache.read(path)
    if data is None or len(data) < HEAD:
        return b""
    n = int.from_bytes(data[32:HEAD], "little")
    body = data[HEAD:]
    if n > len(ids) or len(body) != 16 * n or _ids_hash(seed, ids[:n]) != data[:32]:
        return b""
    return body


def _store(path: Path, seed: int, ids: list[str], digests: bytes) -> None:
    """Keep the digests; a cache that cannot be written only means hashing next time."""
    usercache.write(path, _ids_hash(seed, ids) + len(ids).to_bytes(8, "little") + digests)


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
