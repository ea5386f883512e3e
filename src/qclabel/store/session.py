"""The one writing session of one annotator on one project: lock, moving unacknowledged
bytes aside, durable commits, snapshots.

Opening refuses a journal or mark that reading found damaged (one line naming the file
and line): appending would bury the damage, and cutting it would lose acknowledged
labels. A damaged, deleted or stale snapshot only costs a full replay; the session
writes a fresh one at once."""

from __future__ import annotations

import hashlib
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

from ..core.edits import Change
from ..core.model import Annotation
from ..errors import InvalidGeometry, JournalCorrupt, StoreWriteError
from . import labels as _labels
from .ackmark import FILE_MODE, AckFile, AckRecord, ack_path
from .atomic import atomic_write_bytes
from .journal import JournalWriter
from .session_lock import acquire_lock, move_aside

SNAPSHOT_EVERY = 2000  # tail events after which opening a session rewrites the snapshot


class AnnotatorSession:
    """The one writing session of one user on one project.

    `commit` returns only when the event is on disk; until then the UI must not show
    the label as saved. A second session of the same user is refused (SessionLocked).
    """

    def __init__(self, labels_dir: Path, user: str, wait: bool = False):
        self.labels_dir, self.user = Path(labels_dir), _labels.check_user(user)
        move_aside(self.labels_dir, user)
        self._lock_fd = acquire_lock(self.labels_dir, user, wait)
        self._writer: JournalWriter | None = None
        try:
            self.state = _labels.load_state(self.labels_dir, user)
            self._refuse_damage()
            self._drop_torn_tail()
            self._drop_stale_temp_files()
            mark = self._open_mark()
            try:
                self._writer = JournalWriter(
                    _labels.journal_path(self.labels_dir, user), user, self.state.tail, mark
                )
            except BaseException:
                mark.close()
                raise
            if self.state.damage or (
                self.state.tail.seq - self.state.snapshot.seq > SNAPSHOT_EVERY
            ):
                self._try_snapshot()
        except BaseException:
            if self._writer is not None:
                self._writer.close()
            os.close(self._lock_fd)
            self._lock_fd = -1
            raise

    def _refuse_damage(self) -> None:
        planted = [d for d in self.state.damage if d.part == "owner"]
        if planted:
            raise JournalCorrupt(
                f"{planted[0]}; {self.user}'s labeling session does not open over another "
                "user's file (`qclabel permissions` lists every such file)"
            )
        fatal = [d for d in self.state.damage if d.part != "snapshot"]
        if fatal:
            raise JournalCorrupt(
                f"{fatal[0]}; {self.user}'s labeling session cannot open: restore "
                f"{self.user}.jsonl, {self.user}.ack and {self.user}.snapshot.json from one "
                "backup (`qclabel audit verify` lists every finding)"
            )

    def _open_mark(self) -> AckFile:
        """The acknowledgement mark; a journal from before marks existed (or a new one)
        gets one at its last complete line, which is all that was ever acknowledged."""
        path, tail = ack_path(self.labels_dir, self.user), self.state.tail
        try:
            if self.state.ack is not None:
                return AckFile(path, self.state.ack)
            snap = self.state.snapshot
            return AckFile.create(
                path, AckRecord(self.user, 0, tail.seq, tail.offset, tail.hash, snap.seq, snap.hash)
            )
        except OSError as exc:
            raise StoreWriteError(f"cannot open {path} for writing: {exc.strerror or exc}") from exc

    def _try_snapshot(self) -> None:
        try:
            self.snapshot()
            self.state.damage = []  # only snapshot damage gets this far: now repaired
        except StoreWriteError:
            pass  # best effort: the journal alone is complete

    def _drop_torn_tail(self) -> None:
        """Keep the unacknowledged bytes (a torn line, or lines past the mark) aside for
        forensics, then cut them off so the next append starts on a clean line."""
        torn = self.state.torn
        if torn is None:
            return
        jpath = _labels.journal_path(self.labels_dir, self.user)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        try:
            _keep_aside(jpath.with_name(f"{jpath.name}.torn-{stamp}-{torn.offset}"), torn.data)
            with open(jpath, "r+b") as fh:
                fh.truncate(torn.offset)
                os.fsync(fh.fileno())
        except OSError as exc:
            raise StoreWriteError(
                f"cannot cut the torn last line off {jpath}: {exc.strerror or exc}"
            ) from exc
        self.state.torn = None

    def _drop_stale_temp_files(self) -> None:
        """A session killed while writing its snapshot leaves the half-written temp
        file behind (the snapshot itself is intact); only this user's session writes
        those files, and it holds the lock."""
        snap = _labels.snapshot_path(self.labels_dir, self.user)
        for tmp in self.labels_dir.glob(f".{snap.name}.*.tmp"):
            tmp.unlink(missing_ok=True)
        mark = ack_path(self.labels_dir, self.user)
        mark.with_name(f".{mark.name}.new").unlink(missing_ok=True)

    def get(self, image: str, kind: str = "label") -> dict[str, Any] | None:
        return self.state.get(image, kind)

    def annotation(self, image: str) -> Annotation:
        return self.state.annotation(image)

    def commit(self, change: Change, note: str | None = None) -> dict[str, Any]:
        """Durably record an annotator's label change (kind `label`)."""
        return self.record(
            "label", change.image, change.before.to_dict(), change.after.to_dict(), note
        )

    def record(
        self, kind: str, image: str, before: Any, after: Any, note: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Durably append any event; the in-memory state changes only after fsync."""
        body = {"kind": kind, "image": image, "before": before, "after": after, **extra}
        if note is not None:
            body["note"] = note
        refuse_non_finite(body, f"{kind} event on {image}")
        return self._apply(self._writer.append_many([body]))[0]

    def commit_many(self, changes: list[Change], note: str | None = None) -> list[dict[str, Any]]:
        """Several label changes made durable together (e.g. accepting a page of
        suggestions): one fsync, and either all are saved or none."""
        bodies = [
            {
                "kind": "label",
                "image": c.image,
                "before": c.before.to_dict(),
                "after": c.after.to_dict(),
                **({"note": note} if note else {}),
            }
            for c in changes
        ]
        # No check for NaN here: Box, Keypoint and Mask refuse non-finite coordinates
        # when they are built, so an Annotation cannot hold one.
        return self._apply(self._writer.append_many(bodies))

    def _apply(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for event in events:
            self.state.entries[(event["kind"], event["image"])] = {
                "after": event["after"],
                "ts": event["ts"],
                "seq": event["seq"],
            }
        self.state.tail = self._writer.tail
        return events

    def snapshot(self) -> None:
        """Write the snapshot atomically; the mark records the hash of its bytes before
        the rename and its coverage after, so that editing or deleting it, or putting
        an old copy back, shows."""
        tail, ack = self.state.tail, self._writer.ack
        data = _labels.encode_snapshot(self.state)
        sha = hashlib.sha256(data).hexdigest()
        self._note(lambda: ack.note_pending(sha))
        atomic_write_bytes(_labels.snapshot_path(self.labels_dir, self.user), data, mode=FILE_MODE)
        self.state.snapshot = tail
        self._note(lambda: ack.note_snapshot(tail.seq, tail.hash, sha))
        self._keep_parsed(sha)

    def _keep_parsed(self, sha: str) -> None:
        """What reading the new snapshot would parse, into this user's own cache
        (snapshot_cache): this user's next app start or status skips the parse."""
        from . import snapshot_cache

        try:
            entries = snapshot_cache.as_parsed(self.state.entries)
        except (TypeError, ValueError):  # not what JSON and marshal both take
            return
        if entries is not None:
            snapshot_cache.store(sha, entries, _labels.snapshot_meta(self.state))

    def _note(self, write: Callable[[], None]) -> None:
        try:
            write()
        except OSError as exc:
            raise StoreWriteError(
                f"cannot write {self._writer.ack.path}: {exc.strerror or exc}"
            ) from exc

    def close(self) -> None:
        """Snapshot if anything changed (best effort: the journal alone is complete) and
        release the lock."""
        if self._lock_fd < 0:
            return
        try:
            if self.state.tail != self.state.snapshot:
                self.snapshot()
        except StoreWriteError:
            pass
        finally:
            self._writer.close()
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> "AnnotatorSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def refuse_non_finite(value: Any, what: str) -> None:
    """No event may carry NaN or inf: JSON writes them as bare `NaN`, readers disagree
    on them, and a NaN box is dropped silently by every export."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            raise InvalidGeometry(f"{what}: {v!r} is not a finite number; nothing saved")
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)


def _keep_aside(path: Path, data: bytes) -> None:
    """A new file of this user's (FILE_MODE, like the journal: these are unacknowledged
    labels), never opened through a link or over a file another user put under that
    name in the shared folder (then the name gets a random tail)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    name = path.name
    for _ in range(8):
        try:
            fd = os.open(path, flags, FILE_MODE)
            break
        except FileExistsError:
            path = path.with_name(f"{name}-{os.urandom(4).hex()}")
    else:
        fd = os.open(path, flags, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), FILE_MODE)  # whatever the umask
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
