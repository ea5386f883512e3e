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
import os
import signal
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from .. import usercache

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
    list in two processes where that is safe (`_forked`), else in this one."""
    if len(ids) >= PARALLEL:
        half = len(ids) // 2
        second = _forked(ids[half:], seed)
        if second is not None:
            try:
                first = _hash(ids[:half], seed)
            except BaseException:  # e.g. Ctrl-C: no child left behind
                second(abandon=True)
                raise
            return first + second()
    return _hash(ids, seed)


PARALLEL = 200_000  # below this a second process saves less than it costs
CHUNK = 16_384  # the child's ids between two looks at whether its parent is still there


def _hash(ids: list[str], seed: int) -> bytes:
    prefix, sha = f"{seed}:", hashlib.sha256
    return b"".join(sha((prefix + i).encode()).digest()[:16] for i in ids)


def _forked(ids: list[str], seed: int) -> Callable[..., bytes] | None:
    """Hash `ids` in a forked child while this process hashes the other half on the
    second core (half a million ids: 0.3 s). Only where a fork is safe: one thread in
    this process (a fork copies no lock another thread holds) and a second CPU. Returns
    the reader of the child's bytes; what a failed or killed child did not hand over is
    hashed here instead, so the result is the same either way. A child whose parent is
    gone (killed alone: `kill PID`, a supervisor's timeout) stops within a chunk, rather
    than hash on with the parent's output still open."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere the CPU count
    cpus = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    if threading.active_count() > 1 or cpus < 2 or not hasattr(os, "fork"):
        return None
    r, w = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # the child: hash, hand over, leave without running anything else
        code = 1
        try:
            os.close(r)
            parts = []
            for n in range(0, len(ids), CHUNK):  # a parent gone (SIGTERM): stop hashing
                if os.getppid() != parent:
                    os._exit(1)
                parts.append(_hash(ids[n : n + CHUNK], seed))
            with os.fdopen(w, "wb") as fh:
                fh.write(b"".join(parts))
            code = 0
        finally:
            os._exit(code)
    os.close(w)

    def read(abandon: bool = False) -> bytes:
        data = b""
        try:
            if abandon:
                os.kill(pid, signal.SIGKILL)
            else:
                with os.fdopen(r, "rb", closefd=False) as fh:
                    data = fh.read()
        finally:
            os.close(r)
            _, status = os.waitpid(pid, 0)
        if status != 0 or len(data) != 16 * len(ids):
            return b"" if abandon else _hash(ids, seed)
        return data

    return read


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
