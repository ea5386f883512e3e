"""A labeling process for the durability tests.

    python label_writer.py LABELS_DIR USER FIRST COUNT [--snapshot-every N] [--hold]
                           [--read-others]

Opens USER's session, prints "READY", then labels images FIRST..FIRST+COUNT-1 and
prints "ACK <image>" only after `commit` returned (the label is durable). The parent
may SIGKILL it at any moment. --snapshot-every N rewrites the snapshot after every N
commits (so kills also land mid-snapshot). --hold keeps the session open until stdin
closes. --die-in {fsync,rename} SIGKILLs the process itself inside the first snapshot
write, after the temp file is written (before its fsync, or before the rename).
--read-others replays every other user's journal between commits, as QA does
while annotators write. Exit code 4 with the message on stderr when the session is
locked by another process.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.errors import SessionLocked
from qclabel.store import Store


def label_for(user: str, n: int) -> Annotation:
    """A deterministic label, so the parent can check what was saved."""
    if n % 3 == 0:
        return edits.set_verdict("pass")(Annotation())
    box = Box("scratch", float(n), float(n % 97), 5.0 + n % 7, 3.0, "minor", id=f"{user}-{n}")
    return edits.add_box(box)(edits.set_class("scratch", "minor")(Annotation()))


def image_name(n: int) -> str:
    return f"img{n:06d}"


def _die_in(step: str) -> None:
    """Make the atomic writer's fsync or rename kill this process, as a power cut would."""
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
    ap.add_argument("--die-in", choices=["fsync", "rename"])
    args = ap.parse_args()
    if args.die_in:
        _die_in(args.die_in)
    store = Store(args.root)
    try:
        session = store.open_session(args.user)
    except SessionLocked as exc:
        print(exc, file=sys.stderr, flush=True)
        return exc.exit_code
    os.write(1, b"READY\n")
    for n in range(args.first, args.first + args.count):
        image = image_name(n)
        session.commit(edits.Change(image, session.annotation(image), label_for(args.user, n)))
        os.write(1, f"ACK {image}\n".encode())  # one small write: atomic on a pipe
        if args.snapshot_every and n % args.snapshot_every == 0:
            session.snapshot()
        if args.read_others:
            for other in store.users():
                if other != args.user:
                    store.state(other)
    if args.hold:
        sys.stdin.read()
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
