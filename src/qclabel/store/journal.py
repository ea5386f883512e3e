"""Append-only, hash-chained label journals: one file and one writer per annotator.

Each line is one JSON event ending in a newline. A line's `hash` is the SHA-256 of the
canonical JSON of the event without `hash` (which includes `prev`, the previous line's
hash), so altering, dropping or reordering any line breaks the chain; a line is also
written in exactly its canonical form, so an edit that keeps the content (spacing) shows
too. The write is `O_APPEND` + `fdatasync`, then the acknowledgement mark (ackmark.py)
is advanced and fdatasynced, and only then is the caller told the label is saved (one
write and two fdatasyncs for a batch, all of it or none). Bytes past the mark were never
acknowledged and are never replayed. A write that fails is cut off again (and the mark
put back) before anything else is appended.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..fsutil import fsync_dir as _fsync_dir
from ..errors import JournalCorrupt, StoreWriteError
from .ackmark import FILE_MODE, AckFile

# The line format lives in lineformat.py; re-exported here for existing imports.
from .lineformat import (
    FORMAT,
    canonical,
    encode_event,
    event_hash,
    genesis,  # noqa: F401
    is_written_form,
    now_iso,
)


@dataclass
class Tail:
    """Where a journal ends: byte offset after the last complete line, its seq and hash."""

    offset: int
    seq: int
    hash: str


@dataclass
class Torn:
    """Bytes after the last replayed line: a line torn by a crash, or lines past the
    acknowledgement mark (never acknowledged)."""

    offset: int
    data: bytes


def read_events(
    path: Path, start: Tail, user: str, verify: bool = True, end: int | None = None
) -> Iterator[tuple[Tail, dict[str, Any]] | Torn]:
    """Yield (tail after the line, event) for each complete line from `start.offset` that
    ends at or before `end` (every complete line when `end` is None), then a Torn item
    with whatever bytes follow. Raises JournalCorrupt naming the line (counted in the
    file from 1) when a line is not an event or the chain does not hold."""
    with open(path, "rb") as fh:
        fh.seek(start.offset)
        data = fh.read()
    pos, seq, prev = start.offset, start.seq, start.hash
    for raw in _lines(data):
        if not raw.endswith(b"\n") or (end is not None and pos + len(raw) > end):
            break
        event = _parse_line(path, pos, raw)
        if verify:
            _check_link(path, pos, raw, event, seq, prev, user)
        pos += len(raw)
        seq, prev = event["seq"], event["hash"]
        yield Tail(pos, seq, prev), event
    if pos < start.offset + len(data):
        yield Torn(pos, data[pos - start.offset :])


def line_number(path: Path, offset: int) -> int:
    """The line (counted from 1, as a person counts lines in the file) that byte
    `offset` lies in. Reads the file up to there: only called to name damage."""
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


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
                return buf[cut + 1 :]
    return buf


def _lines(data: bytes) -> Iterator[bytes]:
    """Split on b"\\n" only (bytes.splitlines would also split on a bare CR)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            yield data[start:]
            return
        yield data[start : end + 1]
        start = end + 1


def _parse_line(path: Path, pos: int, raw: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise JournalCorrupt(
            f"{path}:{line_number(path, pos)}: not a complete JSON event "
            f"({exc}); the journal was cut or overwritten here"
        ) from exc
    if not isinstance(event, dict) or not {"seq", "hash", "prev"} <= event.keys():
        raise JournalCorrupt(f"{path}:{line_number(path, pos)}: not a journal event")
    return event


def _check_link(
    path: Path, pos: int, raw: bytes, event: dict[str, Any], seq: int, prev: str, user: str
) -> None:
    def at() -> str:
        return f"{path}:{line_number(path, pos)}"

    if is_written_form(raw, event):
        ok = same_bytes = True
    else:
        try:
            ok = event["hash"] == event_hash(event)
            same_bytes = raw == canonical(event) + b"\n"
        except (TypeError, ValueError) as exc:  # e.g. a NaN key: not what qclabel writes
            raise JournalCorrupt(f"{at()}: not a journal event ({exc})") from exc
    if not ok:
        raise JournalCorrupt(f"{at()}: content altered (hash does not match)")
    if event["seq"] != seq + 1 or event["prev"] != prev:
        raise JournalCorrupt(
            f"{at()}: chain broken: expected seq {seq + 1} after "
            f"hash {prev[:12]}, found seq {event['seq']} after "
            f"{str(event['prev'])[:12]} (lines removed, inserted or reordered)"
        )
    if event.get("user") != user:
        raise JournalCorrupt(
            f"{at()}: written by {event.get('user')!r}, but this is {user!r}'s journal"
        )
    if not same_bytes:
        raise JournalCorrupt(
            f"{at()}: edited (the content still hashes the same, but the "
            "bytes are not the ones qclabel wrote, e.g. spacing changed)"
        )


class JournalWriter:
    """The single writer of one journal. Not thread-safe: one UI thread commits.

    With `ack` (every session has one) a commit is acknowledged by advancing the mark;
    without it the journal alone is written, as before marks existed (the store
    benchmark times that beside the real commit)."""

    def __init__(self, path: Path, user: str, tail: Tail, ack: AckFile | None = None):
        self.path, self.user, self.tail, self.ack = Path(path), user, tail, ack
        self._unclean = False  # a failed append may have left bytes past the tail
        created = not self.path.exists()
        try:
            self._fd = os.open(
                self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE
            )
            if created:
                # The new file's directory entry must be durable too, or a crash could
                # lose the whole journal even though its lines were fdatasynced.
                _fsync_dir(self.path.parent)
            elif os.fstat(self._fd).st_mode & 0o777 & ~FILE_MODE:
                # the user's own file, made with a looser mode (a `touch`, a link an
                # older release followed): no label goes where others may read it
                os.fchmod(self._fd, FILE_MODE)
        except OSError as exc:
            raise StoreWriteError(
                f"cannot open {self.path} for writing: {exc.strerror or exc}"
            ) from exc

    def append(self, body: dict[str, Any]) -> dict[str, Any]:
        """Chain, write and fdatasync one event; return it only once it is durable."""
        return self.append_many([body])[0]

    def append_many(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Chain several events and make them durable with one write, one fdatasync and
        one mark: all of them are acknowledged, or none (a crash or a failure leaves
        bytes past the mark at most, which are never replayed)."""
        events, lines, tail = [], [], self.tail
        for body in bodies:
            event = {
                **body,
                "seq": tail.seq + 1,
                "user": self.user,
                "ts": body.get("ts") or now_iso(),
                "prev": tail.hash,
                "v": FORMAT,
            }
            event["hash"], line = encode_event(event)
            tail = Tail(tail.offset + len(line), event["seq"], event["hash"])
            events.append(event)
            lines.append(line)
        try:
            if self._unclean or (self.ack is not None and self.ack.dirty):
                self._repair()
            self._unclean = True  # from the first byte written until acknowledged
            _write_all(self._fd, b"".join(lines))
            os.fdatasync(self._fd)
            if self.ack is not None:
                self.ack.advance(tail.seq, tail.offset, tail.hash)
        except OSError as exc:
            self._rollback()
            raise StoreWriteError(
                f"label not saved: cannot write {self.path}: {exc.strerror or exc}"
            ) from exc
        self._unclean = False
        self.tail = tail
        return events

    def _rollback(self) -> None:
        """Put the mark back and cut the partial (or unsynced) lines, so the journal
        stays a clean chain. If that fails too, the next append (or close) retries
        before writing anything: appending after stray lines would put a line that was
        never acknowledged inside the acknowledged part. Should the process die first,
        the stray bytes lie past the mark, and the next session moves them aside."""
        try:
            self._repair()
        except OSError:
            pass

    def _repair(self) -> None:
        """Both steps are tried even if the first fails; raises the first error."""
        error: OSError | None = None
        if self.ack is not None:
            try:
                self.ack.repair()
            except OSError as exc:
                error = exc
        try:
            self._restore_tail()
        except OSError as exc:
            error = error or exc
        if error is not None:
            raise error

    def _restore_tail(self) -> None:
        os.ftruncate(self._fd, self.tail.offset)
        if os.fstat(self._fd).st_size != self.tail.offset:
            raise OSError(5, "journal could not be cut back to its last saved line")
        os.fsync(self._fd)
        self._unclean = False

    def close(self) -> None:
        if self._fd >= 0:
            if self._unclean or (self.ack is not None and self.ack.dirty):
                self._rollback()  # a last try: the disk may be back
            os.close(self._fd)
            self._fd = -1
        if self.ack is not None:
            self.ack.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(5, "short write")
        view = view[n:]
