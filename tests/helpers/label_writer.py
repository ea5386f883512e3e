"""A labeling process for the durability tests.

    python label_writer.py LABELS_DIR USER FIRST COUNT [--snapshot-every N] [--hold]
                           [--read-others] [--batch] [--die-in STEP] [--fail-at N:PLAN]
                           [--flaky SEED]

Opens USER's session, prints "READY", then labels images FIRST..FIRST+COUNT-1 and
prints "ACK <image>" only after `commit` returned (the label is durable), or
"FAIL <image>" when the commit raised StoreWriteError (the label was not saved). The
parent may SIGKILL it at any moment. --snapshot-every N rewrites the snapshot after
every N commits (so kills also land mid-snapshot). --hold keeps the session open until
stdin closes. --read-others replays every other user's journal between commits, as QA
does while annotators write. --batch commits all COUNT labels with one commit_many
and prints "ACK BATCH" (or "FAIL BATCH").

--die-in STEP SIGKILLs the process itself: `fsync` / `rename` inside the first snapshot
write, after the temp file is written (before its fsync, or before the rename); `ack`
in the first commit after the journal line is durable, before the mark is written;
`write` in the first commit after half of its bytes reached the journal.

Injected I/O errors (EIO; the disk "recovers" when the process ends): --fail-at N:PLAN
fails the N-th commit (0-based), --flaky SEED fails commits at random with random plans.
A PLAN names what fails, joined by "+": `sync` (the journal's fdatasync, before it
syncs), `cut` (every ftruncate, so the failed line stays in the file), `ack` (the
mark's fdatasync, after its bytes were written), `undo` (every later write to the mark,
so it cannot be put back).
Exit code 4 with the message on stderr when the session is locked by another process.
"""

from __future__ import annotations

import argparse
import errno
import os
import random
import signal
import sys
from pathlib import Path

from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.errors import SessionLocked, StoreWriteError
from qclabel.store import Store


def label_for(user: str, n: int) -> Annotation:
    """A deterministic label, so the parent can check what was saved."""
    if n % 3 == 0:
        return edits.set_verdict("pass")(Annotation())
    box = Box("scratch", float(n), float(n % 97), 5.0 + n % 7, 3.0, "minor", id=f"{user}-{n}")
    return edits.add_box(box)(edits.set_class("scratch", "minor")(Annotation()))


def image_name(n: int) -> str:
    return f"img{n:06d}"


def _target(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def _die_in_commit(step: str) -> None:
    """Kill this process in the middle of the first commit, as a power cut would."""
    if step == "ack":
        real_pwrite = os.pwrite

        def dying_pwrite(fd, data, offset):
            if _target(fd).endswith(".ack"):
                os.kill(os.getpid(), signal.SIGKILL)
            return real_pwrite(fd, data, offset)

        os.pwrite = dying_pwrite
        return
    real_write = os.write

    def dying_write(fd, data):
        if _target(fd).endswith(".jsonl"):
            real_write(fd, bytes(data[: len(data) // 2]))
            os.kill(os.getpid(), signal.SIGKILL)
        return real_write(fd, data)

    os.write = dying_write


class Faults:
    """EIO from chosen os calls during the commits given a plan."""

    def __init__(self) -> None:
        self.plan: set[str] = set()
        self.sync_failed = False
        real = {n: getattr(os, n) for n in ("fdatasync", "ftruncate", "pwrite")}

        def fdatasync(fd):
            name = _target(fd)
            if name.endswith(".jsonl") and "sync" in self.plan and not self.sync_failed:
                self.sync_failed = True
                raise OSError(errno.EIO, "Input/output error")
            real["fdatasync"](fd)
            if name.endswith(".ack") and ("ack" in self.plan or "undo" in self.plan):
                self.plan.discard("ack")  # the bytes went out; only the sync "failed"
                raise OSError(errno.EIO, "Input/output error")

        def ftruncate(fd, length):
            if "cut" in self.plan:
                raise OSError(errno.EIO, "Input/output error")
            return real["ftruncate"](fd, length)

        def pwrite(fd, data, offset):
            if "undo" in self.plan and "ack" not in self.plan and _target(fd).endswith(".ack"):
                raise OSError(errno.EIO, "Input/output error")
            return real["pwrite"](fd, data, offset)

        os.fdatasync, os.ftruncate, os.pwrite = fdatasync, ftruncate, pwrite

    def arm(self, plan: str) -> None:
        self.plan, self.sync_failed = set(plan.split("+")) if plan else set(), False


def _die_in(step: str) -> None:
    """Make the atomic writer's fsync or rename kill this process, as a power cut would."""
    if step in ("ack", "write"):
        _die_in_commit(step)
        return
    name = {"fsync": "fsync", "rename": "replace"}[step]
    original = getattr(os, name)

    def dying(*a, **kw):
        target = a[0] if step == "rename" else os.readlink(f"/proc/self/fd/{a[0]}")
        if str(target).endswith(".tmp"):  # the snapshot's temp file, nothing else
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*a, **kw)

    setattr(os, name, dying)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("user")
    ap.add_argument("first", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--snapshot-every", type=int, default=0)
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--read-others", action="store_true")
    ap.add_argument("--die-in", choices=["fsync", "rename", "ack", "write"])
    ap.add_argument("--batch", action="store_true")
    ap.add_argument("--fail-at", default="")
    ap.add_argument("--flaky", type=int)
    args = ap.parse_args()
    if args.die_in in ("fsync", "rename"):
        _die_in(args.die_in)
    store = Store(args.root)
    try:
        session = store.open_session(args.user)
    except SessionLocked as exc:
        print(exc, file=sys.stderr, flush=True)
        return exc.exit_code
    if args.die_in in ("ack", "write"):
        _die_in(args.die_in)
    faults = Faults() if args.fail_at or args.flaky is not None else None
    say = os.write  # before any fault patches it; one small write: atomic on a pipe
    say(1, b"READY\n")
    if args.batch:
        _batch(session, args, faults, say)
    else:
        _one_by_one(store, session, args, faults, say)
    if args.hold:
        sys.stdin.read()
    if faults:
        faults.arm("")
    session.close()
    return 0


def _plan_for(k: int, args, rng: random.Random | None) -> str:
    at, _, plan = args.fail_at.partition(":")
    if at and int(at) == k:
        return plan
    if rng is not None and rng.random() < 0.3:
        # not `undo`: a mark that cannot be put back is only repaired by the next
        # commit, and a kill before it is a case of its own (tests/test_store_faults.py)
        return rng.choice(["sync", "sync+cut", "ack", "ack+cut"])
    return ""


def _one_by_one(store, session, args, faults, say) -> None:
    rng = random.Random(args.flaky) if args.flaky is not None else None
    for k, n in enumerate(range(args.first, args.first + args.count)):
        image = image_name(n)
        if faults:
            faults.arm(_plan_for(k, args, rng))
        try:
            session.commit(edits.Change(image, session.annotation(image), label_for(args.user, n)))
            say(1, f"ACK {image}\n".encode())
        except StoreWriteError:
            say(1, f"FAIL {image}\n".encode())
        if faults:
            faults.arm("")
        if args.snapshot_every and n % args.snapshot_every == 0:
            session.snapshot()
        if args.read_others:
            for other in store.users():
                if other != args.user:
                    store.state(other)


def _batch(session, args, faults, say) -> None:
    changes = [
        edits.Change(image_name(n), Annotation(), label_for(args.user, n))
        for n in range(args.first, args.first + args.count)
    ]
    if faults:
        faults.arm(_plan_for(0, args, None))
    try:
        session.commit_many(changes)
        say(1, b"ACK BATCH\n")
    except StoreWriteError:
        say(1, b"FAIL BATCH\n")


if __name__ == "__main__":
    sys.exit(main())
