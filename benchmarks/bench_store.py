"""The label store: durable commit latency at 1k/10k/100k labeled images beside a
sqlite3 WAL (synchronous=FULL) upsert of the same document, the cost of the
acknowledgement mark (the same commit without it, as commits were before marks,
timed interleaved on a copy of the same journal), and session startup (snapshot + tail
replay) beside json.loads of the same snapshot file.

The journal and snapshot are pre-built with batch commits (one fsync per batch); then
every timed `commit` is a real one: chain, append, fdatasync, advance the mark,
fdatasync. Files go to a temporary folder on the default temp disk (set TMPDIR to
measure another disk)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.store import Store
from qclabel.store.journal import JournalWriter
from qclabel.store.labels import load_state

from .common import Figure, p50, p95, timed

COMMITS = 300  # timed commits per size
TAIL = 1000  # events after the snapshot when timing startup
BATCH = 5000


def label(n: int) -> Annotation:
    """A typical defect label, about 450 bytes as JSON."""
    boxes = tuple(
        Box(
            "scratch" if k else "dent",
            10.0 + n % 800,
            20.0 + k * 40,
            35.5,
            12.25,
            "minor",
            id=f"{n:08x}{k:02d}",
        )
        for k in range(2)
    )
    return Annotation(verdict="fail", defect_class="scratch", severity="major", boxes=boxes)


def image(n: int) -> str:
    return f"{n:064x}"[-16:]


def prebuild(root: Path, n: int) -> None:
    with Store(root).open_session("ann") as session:
        for start in range(0, n, BATCH):
            session.commit_many(
                [
                    edits.Change(image(i), Annotation(), label(i))
                    for i in range(start, min(n, start + BATCH))
                ]
            )


def time_commits(root: Path, n: int) -> tuple[list[float], list[float]]:
    """Each real commit (journal + mark), then the same event appended and fdatasynced
    to a copy of the journal without a mark: both see the same load."""
    bare_dir = root / "without-mark"
    shutil.copytree(root / "labels", bare_dir)
    bare = JournalWriter(bare_dir / "ann.jsonl", "ann", load_state(bare_dir, "ann").tail)
    ours: list[float] = []
    theirs: list[float] = []
    with Store(root).open_session("ann") as session:
        for i in range(n, n + COMMITS):
            ours += timed(
                lambda i=i: session.commit(edits.Change(image(i), Annotation(), label(i))), 1
            )
            theirs += timed(
                lambda i=i: bare.append(
                    {
                        "kind": "label",
                        "image": image(i),
                        "before": Annotation().to_dict(),
                        "after": label(i).to_dict(),
                    }
                ),
                1,
            )
    bare.close()
    shutil.rmtree(bare_dir)
    return ours, theirs


def time_sqlite(root: Path, n: int) -> list[float]:
    db = sqlite3.connect(root / "labels.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE labels (image TEXT PRIMARY KEY, doc TEXT NOT NULL)")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO labels VALUES (?, ?)",
        ((image(i), json.dumps(label(i).to_dict())) for i in range(n)),
    )
    db.execute("COMMIT")
    counter = iter(range(n, n + COMMITS))

    def one() -> None:
        i = next(counter)
        db.execute(
            "INSERT INTO labels VALUES (?, ?) ON CONFLICT(image) DO UPDATE SET doc = excluded.doc",
            (image(i), json.dumps(label(i).to_dict())),
        )

    try:
        return timed(one, COMMITS)
    finally:
        db.close()


def commit_figures(n: int, base: Path) -> list[Figure]:
    root = base / f"store-{n}"
    prebuild(root, n)
    ours, unmarked = time_commits(root, n)
    (base / f"sqlite-{n}").mkdir()
    theirs = time_sqlite(base / f"sqlite-{n}", n)
    size = f"{n // 1000}k"
    target = "target < 10 ms" if n >= 100_000 else ""
    return [
        Figure(
            f"store commit p50 at {size} labeled images",
            p50(ours),
            "ms",
            "sqlite3 WAL FULL upsert p50",
            p50(theirs),
        ),
        Figure(
            f"store commit p95 at {size} labeled images",
            p95(ours),
            "ms",
            "sqlite3 WAL FULL upsert p95",
            p95(theirs),
            target,
        ),
        Figure(
            f"store commit p95 at {size}, with the mark",
            p95(ours),
            "ms",
            "the same commit without the mark p95",
            p95(unmarked),
            target,
        ),
    ]


def startup_figure(n: int, base: Path) -> Figure:
    """Open a session on n labels: load the snapshot, replay a TAIL-event tail (as after
    a crash, when the snapshot was not rewritten at close)."""
    root = base / f"store-{n}"
    snap, mark = root / "labels" / "ann.snapshot.json", root / "labels" / "ann.ack"
    old = snap.read_bytes()
    with Store(root).open_session("ann") as session:
        session.commit_many(
            [edits.Change(image(i), Annotation(), label(i + 1)) for i in range(TAIL)]
        )
        crashed = mark.read_bytes()  # the mark as a kill -9 here would leave it
    ours, theirs = [], []
    for _ in range(3):  # interleaved, so both see the same load on a shared machine
        snap.write_bytes(old)  # the snapshot from before the tail
        mark.write_bytes(crashed)
        t0 = time.perf_counter()
        session = Store(root).open_session("ann")
        ours.append((time.perf_counter() - t0) * 1000)
        assert session.state.tail.seq == n + COMMITS + TAIL, "tail not replayed"
        assert not session.state.damage, session.state.damage
        session.close()
        snap.write_bytes(old)
        theirs += timed(lambda: json.loads(snap.read_bytes()), 1)
    return Figure(
        f"session startup at {n // 1000}k (snapshot + {TAIL} tail)",
        min(ours),
        "ms",
        "json.loads of the snapshot file",
        min(theirs),
    )


def run(quick: bool) -> list[Figure]:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    base = Path(tempfile.mkdtemp(prefix="qclabel-bench-store-"))
    try:
        figures: list[Figure] = []
        for n in sizes:
            figures += commit_figures(n, base)
        figures.append(startup_figure(sizes[-1], base))
        return figures
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    t0 = time.perf_counter()
    for fig in run(quick=True):
        print(fig)
    print(f"{time.perf_counter() - t0:.1f} s")
