"""The plan's catalog columns (store.catalog_columns) against a catalog changed behind
the cache's back: rewritten in place with its old stamps put back, or replaced while a
long-running process (the labeling app) still has the old file open. Whatever the
cache holds, a plan prints what reading the catalog afresh gives."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from qclabel.project import Project
from qclabel.qa.plan import build_plan
from qclabel.store import catalog_columns
from qclabel.store.catalog import Catalog

from test_qa_support import qa_project, set_fields
from test_scale_columns import reference_plan

GROUP = "lot"


def fresh(path: Path) -> tuple[list, ...]:
    rows = Catalog(path).select(f"SELECT id, task, {GROUP} FROM images ORDER BY seq")
    return tuple(list(c) for c in zip(*rows))


def lotted(tmp_path: Path, n: int = 30) -> Project:
    p = qa_project(tmp_path, n, annotators=("a", "b"), reviewers=("rev",), spot_check_rate=0.25)
    p.config["qa"]["spot_check_by"] = GROUP
    p.save_config()
    ids = p.store.catalog.ids()
    return set_fields(p, {i: {GROUP: f"L{k % 3}"} for k, i in enumerate(ids)})


def relot(path: Path, ids: list[str], lot: str) -> None:
    """One commit of qclabel's writer giving `ids` another lot (an in-place edit)."""
    cat = Catalog(path)
    cat.update(replace(r, fields={**r.fields, GROUP: lot}) for r in cat.get_many(ids).values())


def header(path: Path) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(100)
    return head[24:28] + head[92:96]  # SQLite's change counter and its version-valid-for


def test_an_in_place_copy_with_the_old_stamps_put_back_is_read_again(tmp_path):
    """`cp other catalog.sqlite` (same inode), then `touch -d` to the old time: same
    device, inode, size, mtime and change counter, other rows."""
    p = lotted(tmp_path / "one")
    path = p.store.catalog.path
    ids = p.store.catalog.ids()
    backup = tmp_path / "backup.sqlite"
    shutil.copy2(path, backup)
    relot(path, ids[10:13], "LX")  # the state the cache keeps
    p = Project.open(p.root)
    assert reference_plan(p) == {
        i: (a.task, a.phase, a.annotators, a.reviewer) for i, a in build_plan(p).assignments.items()
    }
    kept = os.stat(path)
    other = tmp_path / "other" / "catalog.sqlite"  # the backup with another edit
    other.parent.mkdir()
    shutil.copy2(backup, other)
    relot(other, ids[13:30:3] + ids[14:30:3], "L0")
    data = other.read_bytes()
    assert header(other) == header(path) and len(data) == kept.st_size
    with open(path, "r+b") as fh:  # what `cp` does to an existing file
        fh.write(data)
        fh.truncate()
    os.utime(path, ns=(kept.st_atime_ns, kept.st_mtime_ns))  # what `touch -d` does
    now = os.stat(path)
    assert (now.st_ino, now.st_size, now.st_mtime_ns) == (
        kept.st_ino,
        kept.st_size,
        kept.st_mtime_ns,
    )
    assert catalog_columns.order_columns(Catalog(path), GROUP) == fresh(path)
    p = Project.open(p.root)
    got = {
        i: (a.task, a.phase, a.annotators, a.reviewer) for i, a in build_plan(p).assignments.items()
    }
    assert got == reference_plan(p)


def test_a_process_reading_a_replaced_catalog_keeps_nothing_of_the_old_file(tmp_path):
    """The app has the catalog open; a backup is put in its place by rename. What the
    app plans next, and what any later command plans, is the new file's."""
    p = lotted(tmp_path / "one", 30)
    q = lotted(tmp_path / "two", 30)
    relot(q.store.catalog.path, q.store.catalog.ids()[:20], "L1")
    path = p.store.catalog.path
    app = Catalog(path)
    old = catalog_columns.order_columns(app, GROUP)  # the app's connection is open
    shutil.copy2(q.store.catalog.path, path.with_suffix(".new"))
    os.replace(path.with_suffix(".new"), path)
    want = fresh(path)
    assert want != old and want[0] == old[0]  # the same images, in other lots
    assert catalog_columns.order_columns(app, GROUP) == want  # the app plans again
    assert app.ids() == want[0]
    assert catalog_columns.order_columns(Catalog(path), GROUP) == want  # the next command


def test_a_reader_of_the_legacy_file_follows_its_migration(tmp_path, monkeypatch):
    """A reader who may not migrate `catalog.json` reads it in memory (not its owner);
    once the owner's command migrated it and ingested more, that reader plans the
    SQLite file's images, and keeps nothing of the legacy file under its state."""
    from qclabel.store import catalog_migrate

    from test_store_catalog_sqlite import legacy_project, record

    root = legacy_project(tmp_path)
    path = root / "catalog.sqlite"
    with monkeypatch.context() as m:
        m.setattr(catalog_migrate, "may_migrate", lambda legacy: False)
        app = Catalog(path)
        old = catalog_columns.order_columns(app, GROUP)
        assert len(old[0]) == 12 and not path.exists()  # in memory
        catalog_migrate.migrate(path)  # the owner's next command
        Catalog(path).add([record(f"n{k:03d}") for k in range(3)])
        want = fresh(path)
        assert len(want[0]) == 15
        assert catalog_columns.order_columns(app, GROUP) == want
    assert catalog_columns.order_columns(Catalog(path), GROUP) == want
