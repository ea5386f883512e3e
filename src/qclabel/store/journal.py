"""Append-only, hash-chained label journals: one file and one writer per annotator.

Each line is one JSON event ending in a newline. A line's `hash` is the SHA-256 of the
canonical JSON of the event without `hash` (which includes `prev`, the previous line's
hash), so altering, dropping or reordering any line breaks the chain. The write is
`O_APPEND` + `fdatasync` before the caller is told the label is saved (one write and
one fdatasync for a batch); a crash can leave at most one torn last line, which was
never acknowledged and is ignored. A write that fails is cut off again before anything
else is appended, so a failed save never leaves a stray line inside the chain.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ..fsutil import fsync_dir as _fsync_dir
from ..errors import JournalCorrupt, StoreWriteError


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def genesis(user: str) -> str:
    """The `prev` of a user's first line: binds the journal to its owner."""
    return hashlib.sha256(f"qclabel-journal:{user}".encode()).hexdigest()


def event_hash(event: dict[str, Any]) -> str:
    body = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Tail:
    """Where a journal ends: byte offset after the last complete line, its seq and hash."""

    offset: int
    seq: int
    hash: str


@dataclass
class Torn:
    offset: int
    data: bytes


def read_events(path: Path, start: Tail, user: str,
                verify: bool = True) -> Iterator[tuple[Tail, dict[str, Any]] | Torn]:
    """Yield (tail after the line, event) for each complete line from `start.offset`,
    then a Torn item if the file ends in an incomplete line.
    Raises JournalCorrupt naming the line when the chain does not hold."""
    with open(path, "rb") as fh:
        fh.seek(start.offset)
        data = fh.read()
    pos, seq, prev = start.offset, start.seq, start.hash
    line_no = start.seq  # one event per line, so the line number is the seq
    for raw in _lines(data):
        if not raw.endswith(b"\n"):
            yield Torn(pos, raw)
            return
        line_no += 1
        event = _parse_line(path, line_no, raw)
        if verify:
            _check_link(path, line_no, event, seq, prev, user)
        pos += len(raw)
        seq, prev = event["seq"], event["hash"]
        yield Tail(pos, seq, prev), event


def line_ending_at(path: Path, offset: int) -> bytes:
    """The line (with its newline) that ends at byte `offset`, e.g. a snapshot's mark."""
    buf, start = b"", offset
    with open(path, "rb") as fh:
        while start > 0:
            step = min(start, 65536)
            fh.seek(start - step)
            buf = fh.read(step) + buf
            start -= step
            cut = buf.rfind(b"\n", 0, len(buf) - 1)
            if cut >= 0:
                return buf[cut + 1:]
    return buf


def _lines(data: bytes) -> Iterator[bytes]:
    """Split on b"\\n" only (bytes.splitlines would also split on a bare CR)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            yield data[start:]
            return
        yield data[start:end + 1]
        start = end + 1


def _parse_line(path: Path, line_no: int, raw: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JournalCorrupt(f"{path}:{line_no}: not a complete JSON event ({exc}); the "
                             "journal was cut or overwritten here") from exc
    if not isinstance(event, dict) or not {"seq", "hash", "prev"} <= event.keys():
        raise JournalCorrupt(f"{path}:{line_no}: not a journal event")
    return event


def _check_link(path: Path, line_no: int, event: dict[str, Any], seq: int, prev: str,
                user: str) -> None:
    if event["hash"] != event_hash(event):
        raise JournalCorrupt(f"{path}:{line_no}: content altered (hash does not match)")
    if event["seq"] != seq + 1 or event["prev"] != prev:
        raise JournalCorrupt(f"{path}:{line_no}: chain broken: expected seq {seq + 1} after "
                             f"hash {prev[:12]}, found seq {event['seq']} after "
                             f"{str(event['prev'])[:12]} (lines removed, inserted or reordered)")
    if event.get("user") != user:
        raise JournalCorrupt(f"{path}:{line_no}: written by {event.get('user')!r}, "
                             f"but this is {user!r}'s journal")


class JournalWriter:
    """The single writer of one journal. Not thread-safe: one UI thread commits."""

    def __init__(self, path: Path, user: str, tail: Tail):
        self.path, self.user, self.tail = Path(path), user, tail
        self._unclean = False  # a failed append may have left bytes past the tail
        created = not self.path.exists()
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if created:
                # The new file's directory entry must be durable too, or a crash could
                # lose the whole journal even though its lines were fdatasynced.
                _fsync_dir(self.path.parent)
        except OSError as exc:
            raise StoreWriteError(f"cannot open {self.path} for writing: "
                                  f"{exc.strerror or exc}") from exc

    def append(self, body: dict[str, Any]) -> dict[str, Any]:
        """Chain, write and fdatasync one event; return it only once it is durable."""
        return self.append_many([body])[0]

    def append_many(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Chain several events and make them durable with one write and one fdatasync:
        all of them are acknowledged, or none (a crash leaves a torn tail at most)."""
        events, lines, tail = [], [], self.tail
        for body in bodies:
            event = {**body, "seq": tail.seq + 1, "user": self.user,
                     "ts": body.get("ts") or now_iso(), "prev": tail.hash}
            event["hash"] = event_hash(event)
            line = canonical(event) + b"\n"
            tail = Tail(tail.offset + len(line), event["seq"], event["hash"])
            events.append(event)
            lines.append(line)
        try:
            if self._unclean:
                self._restore_tail()
            _write_all(self._fd, b"".join(lines))
            os.fdatasync(self._fd)
        except OSError as exc:
            self._rollback()
            raise StoreWriteError(f"label not saved: cannot write {self.path}: "
                                  f"{exc.strerror or exc}") from exc
        self.tail = tail
        return events

    def _rollback(self) -> None:
        """Cut a partial (or unsynced) line so the journal stays a clean chain. If that
        fails too, the next append retries before writing anything: appending after a
        stray partial line would corrupt the line in the middle of the journal."""
        self._unclean = True
        try:
            self._restore_tail()
        except OSError:
            pass

    def _restore_tail(self) -> None:
        os.ftruncate(self._fd, self.tail.offset)
        if os.fstat(self._fd).st_size != self.tail.offset:
            raise OSError(5, "journal could not be cut back to its last saved line")
        os.fsync(self._fd)
        self._unclean = False

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(5, "short write")
        view = view[n:]
