"""The acknowledgement mark: which journal line was the last one a session confirmed.

`labels/<user>.ack` records the seq, byte offset and hash of the last acknowledged line
(and the mark of the last snapshot written). A commit writes it, and fdatasyncs it, after
the journal line is durable and before the caller is told "saved". So the mark tells an
acknowledged line from one that never was: bytes past it (a torn line after a crash, or
a save that failed and could not be cut off) are never replayed, and an acknowledged
line that is later cut or rewritten is damage, not a harmless torn tail.

It also records the SHA-256 of the last snapshot file written (and of the one being
written), so a snapshot that was edited, deleted or swapped for an old copy shows.

The file is two 512-byte slots, each one self-checked JSON record with a generation
number; a write goes to the older slot, so a write torn by a power cut spoils at most
that slot and the other still holds the previous mark. Readers take the valid slot with
the higher generation.
"""

from __future__ import annotations

from typing import Any

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..errors import JournalCorrupt
from ..fsutil import fsync_dir

SLOT = 512
# The mode of journals, marks and snapshots: their writer, and the folder's group (the
# privileged group in labels/, see the README's guarantees), never everyone.
FILE_MODE = 0o640


@dataclass(frozen=True)
class AckRecord:
    user: str
    gen: int
    seq: int  # the last acknowledged line: its seq, the byte offset it ends at, its hash
    offset: int
    hash: str
    snap_seq: int = 0  # the mark of the last snapshot written (0: none yet)
    snap_hash: str = ""
    snap_sha: str = ""  # the SHA-256 of that snapshot file's bytes
    next_sha: str = ""  # ... and of the one being written right now, if any

    def encode(self) -> bytes:
        body = asdict(self)
        body["check"] = _check(body)
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        if len(raw) >= SLOT:
            raise ValueError("acknowledgement record too long")
        return raw.ljust(SLOT - 1, b" ") + b"\n"


def _check(body: dict[Any, Any]) -> str:
    data = json.dumps({k: v for k, v in body.items() if k != "check"}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def _decode(raw: bytes) -> AckRecord | None:
    try:
        body = json.loads(raw)
        if body.pop("check") != _check(body):
            return None
        return AckRecord(**body)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def ack_path(labels_dir: Path, user: str) -> Path:
    from .ownership import file_stem

    return Path(labels_dir) / f"{file_stem(Path(labels_dir), user)}.ack"


def read_ack(path: Path, user: str) -> AckRecord | None:
    """The newest valid record; None when there is no file. Raises JournalCorrupt when
    the file holds no valid record of this user (a crash spoils one slot at most)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(2 * SLOT + 1)
    except FileNotFoundError:
        return None
    records = [r for r in (_decode(data[i * SLOT : (i + 1) * SLOT]) for i in (0, 1)) if r]
    if not records:
        raise JournalCorrupt(
            f"{path}: unreadable acknowledgement mark (no valid record); restore it from a backup"
        )
    best = max(records, key=lambda r: r.gen)
    if best.user != user:
        raise JournalCorrupt(f"{path}: the acknowledgement mark of {best.user!r}, not of {user!r}")
    return best


class AckFile:
    """The writing side, held by the one session of the user (under its lock)."""

    def __init__(self, path: Path, record: AckRecord):
        self.path, self.record = Path(path), record
        self._dirty = False  # a failed write may have left a newer record in a slot
        self._fd = os.open(self.path, os.O_WRONLY | os.O_NOFOLLOW)

    @classmethod
    def create(cls, path: Path, record: AckRecord) -> "AckFile":
        """A new mark file, written whole and renamed into place, so it never exists
        half-written; its folder is fsynced so the file survives a power cut."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.new")
        tmp.unlink(missing_ok=True)  # never write through a file or link planted here
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            data = record.encode() + b" " * (SLOT - 1) + b"\n"
            if os.write(fd, data) != len(data):
                raise OSError(28, "short write")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
        return cls(path, record)

    def advance(self, seq: int, offset: int, hash_: str) -> None:
        """Record a new last acknowledged line durably; raises OSError if it may not be."""
        self._put(replace(self.record, gen=self.record.gen + 1, seq=seq, offset=offset, hash=hash_))

    def note_pending(self, sha: str) -> None:
        """Before a snapshot is renamed into place: readers then accept either file."""
        self._put(replace(self.record, gen=self.record.gen + 1, next_sha=sha))

    def note_snapshot(self, seq: int, hash_: str, sha: str) -> None:
        self._put(
            replace(
                self.record,
                gen=self.record.gen + 1,
                snap_seq=seq,
                snap_hash=hash_,
                snap_sha=sha,
                next_sha="",
            )
        )

    def _put(self, new: AckRecord) -> None:
        if self._dirty:
            self.repair()
        self._dirty = True
        os.pwrite(self._fd, new.encode(), (new.gen % 2) * SLOT)
        os.fdatasync(self._fd)
        self._dirty = False
        self.record = new

    def repair(self) -> None:
        """After a failed write the slot it went to may reach the disk later holding a
        mark of a line that was reported as not saved: overwrite that slot with the
        current record (both slots then agree). Raises OSError if that fails too."""
        if not self._dirty:
            return
        os.pwrite(self._fd, self.record.encode(), ((self.record.gen + 1) % 2) * SLOT)
        os.fdatasync(self._fd)
        self._dirty = False

    @property
    def dirty(self) -> bool:
        return self._dirty

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
