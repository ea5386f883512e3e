"""Label state per annotator: TinyDB snapshot + journal replay.

State is a dict keyed by (kind, image) holding the latest `after` of that key. Kinds:
`label` (an annotator's own labels) and whatever QA adds (`review`, `final`, ...).
The snapshot (`<user>.snapshot.json`, TinyDB layout, written atomically) records the
journal offset it covers; opening loads it and replays the rest of the journal.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import time
from pathlib import Path
from typing import Any, Iterator

from tinydb import TinyDB

from ..core.edits import Change
from ..core.model import Annotation
from ..errors import QclabelError, SessionLocked, StoreWriteError
from .atomic import AtomicJSONStorage
from .journal import JournalWriter, Tail, Torn, genesis, read_events

Key = tuple[str, str]
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
SNAPSHOT_EVERY = 2000  # tail events after which opening a session rewrites the snapshot


def check_user(user: str) -> str:
    if not _USER.match(user or ""):
        raise QclabelError(f"user name {user!r} cannot name a journal file")
    return user


class LabelState:
    """One annotator's replayed state (read-only view)."""

    def __init__(self, user: str, entries: dict[Key, dict[str, Any]], tail: Tail,
                 torn: Torn | None = None):
        self.user, self.entries, self.tail, self.torn = user, entries, tail, torn

    def get(self, image: str, kind: str = "label") -> dict[str, Any] | None:
        entry = self.entries.get((kind, image))
        return entry["after"] if entry else None

    def annotation(self, image: str) -> Annotation:
        return Annotation.from_dict(self.get(image, "label"))

    def annotations(self, kind: str = "label") -> dict[str, Annotation]:
        return {img: Annotation.from_dict(e["after"])
                for (k, img), e in self.entries.items() if k == kind and e["after"] is not None}

    def items(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for (k, img), e in self.entries.items():
            if k == kind and e["after"] is not None:
                yield img, e

    def __len__(self) -> int:
        return len(self.entries)


def journal_path(labels_dir: Path, user: str) -> Path:
    return labels_dir / f"{check_user(user)}.jsonl"


def snapshot_path(labels_dir: Path, user: str) -> Path:
    return labels_dir / f"{check_user(user)}.snapshot.json"


def load_state(labels_dir: Path, user: str, verify: bool = True) -> LabelState:
    """Snapshot + journal tail. Readers call this without any lock."""
    entries, tail = _load_snapshot(snapshot_path(labels_dir, user), user)
    jpath = journal_path(labels_dir, user)
    torn = None
    if jpath.exists():
        for item in read_events(jpath, tail, user, verify=verify):
            if isinstance(item, Torn):
                torn = item
                break
            tail, event = item
            entries[(event["kind"], event["image"])] = {
                "after": event.get("after"), "ts": event["ts"], "seq": event["seq"]}
    return LabelState(user, entries, tail, torn)


def _load_snapshot(path: Path, user: str) -> tuple[dict[Key, dict[str, Any]], Tail]:
    empty = Tail(0, 0, genesis(user))
    if not path.exists():
        return {}, empty
    db = TinyDB(path, storage=AtomicJSONStorage, read_only=True)
    meta = db.table("meta").all()
    if not meta:
        return {}, empty
    m = meta[0]
    entries = {(d["k"], d["i"]): {"after": d["a"], "ts": d["t"], "seq": d["s"]}
               for d in db.table("state").all()}
    return entries, Tail(m["offset"], m["seq"], m["hash"])


def write_snapshot(labels_dir: Path, state: LabelState) -> None:
    """Write the snapshot in TinyDB's own file layout in one atomic write (TinyDB's
    table API would rewrite a 100k-document file once per call)."""
    docs = {str(n): {"k": k, "i": i, "a": e["after"], "t": e["ts"], "s": e["seq"]}
            for n, ((k, i), e) in enumerate(state.entries.items(), start=1)}
    meta = {"1": {"offset": state.tail.offset, "seq": state.tail.seq,
                  "hash": state.tail.hash, "user": state.user}}
    storage = AtomicJSONStorage(snapshot_path(labels_dir, state.user))
    storage.write({"state": docs, "meta": meta})


def users(labels_dir: Path) -> list[str]:
    if not labels_dir.exists():
        return []
    return sorted(p.name[:-6] for p in labels_dir.glob("*.jsonl"))


class AnnotatorSession:
    """The one writing session of one user on one project.

    `commit` returns only when the event is on disk; until then the UI must not show
    the label as saved. A second session of the same user is refused (SessionLocked).
    """

    def __init__(self, labels_dir: Path, user: str):
        self.labels_dir, self.user = Path(labels_dir), check_user(user)
        self._lock_fd = _acquire_lock(self.labels_dir, user)
        try:
            self.state = load_state(self.labels_dir, user)
            self._drop_torn_tail()
            self._writer = JournalWriter(journal_path(self.labels_dir, user), user,
                                         self.state.tail)
            if self.state.tail.seq - self._snapshot_seq() > SNAPSHOT_EVERY:
                self.snapshot()
        except BaseException:
            os.close(self._lock_fd)
            raise

    def _snapshot_seq(self) -> int:
        return _load_snapshot(snapshot_path(self.labels_dir, self.user), self.user)[1].seq

    def _drop_torn_tail(self) -> None:
        """Keep the unacknowledged torn bytes aside for forensics, then cut them off so
        the next append starts on a clean line."""
        torn = self.state.torn
        if torn is None:
            return
        jpath = journal_path(self.labels_dir, self.user)
        aside = jpath.with_name(f"{jpath.name}.torn-{int(time.time())}")
        aside.write_bytes(torn.data)
        with open(jpath, "r+b") as fh:
            fh.truncate(torn.offset)
            os.fsync(fh.fileno())
        self.state.torn = None

    def get(self, image: str, kind: str = "label") -> dict[str, Any] | None:
        return self.state.get(image, kind)

    def annotation(self, image: str) -> Annotation:
        return self.state.annotation(image)

    def commit(self, change: Change, note: str | None = None) -> dict[str, Any]:
        """Durably record an annotator's label change (kind `label`)."""
        return self.record("label", change.image, change.before.to_dict(),
                           change.after.to_dict(), note)

    def record(self, kind: str, image: str, before: Any, after: Any,
               note: str | None = None, **extra: Any) -> dict[str, Any]:
        """Durably append any event; the in-memory state changes only after fsync."""
        body = {"kind": kind, "image": image, "before": before, "after": after, **extra}
        if note is not None:
            body["note"] = note
        event = self._writer.append(body)
        self.state.entries[(kind, image)] = {"after": after, "ts": event["ts"],
                                             "seq": event["seq"]}
        self.state.tail = self._writer.tail
        return event

    def snapshot(self) -> None:
        write_snapshot(self.labels_dir, self.state)

    def close(self) -> None:
        """Snapshot (best effort: the journal alone is complete) and release the lock."""
        try:
            self.snapshot()
        except StoreWriteError:
            pass
        finally:
            self._writer.close()
            os.close(self._lock_fd)

    def __enter__(self) -> "AnnotatorSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _acquire_lock(labels_dir: Path, user: str) -> int:
    """flock on labels/<user>.lock; the kernel drops it when the process dies, so a
    killed session never leaves a stale lock behind."""
    try:
        labels_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(labels_dir / f"{user}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreWriteError(f"cannot open a labeling session in {labels_dir}: "
                              f"{exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise SessionLocked(f"{user} already has a labeling session open on this project "
                            f"({holder}); close it first") from None
    info = f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}"
    os.ftruncate(fd, 0)
    os.pwrite(fd, info.encode(), 0)
    return fd
