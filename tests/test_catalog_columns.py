"""The plan's catalog columns kept per catalog state (store.catalog_columns): a kept
entry gives exactly what the catalog holds, any write or replaced file reads the catalog
again, and a damaged, foreign or mismatched entry is never used."""

from __future__ import annotations

import os
import shutil

import pytest

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.store import catalog_columns
from qclabel.store.catalog import Catalog

from test_qa_support import qa_project, write_images
from test_scale_columns import reference_plan

GROUP = "lot"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "qclabel" / "catalog-columns"


def fresh(p: Project):
    rows = p.store.catalog.select(f"SELECT id, task, {GROUP} FROM images ORDER BY seq")
    return tuple(list(c) for c in zip(*rows))


def columns(p: Project):
    return catalog_columns.order_columns(Catalog(p.store.catalog.path), GROUP)


def no_reads(monkeypatch):
    def refuse(self, sql, args=()):
        raise AssertionError("the catalog was read")

    monkeypatch.setattr(Catalog, "select", refuse)


def test_a_kept_entry_gives_the_catalog_s_columns_without_reading_it(tmp_path, folder, monkeypatch):
    p = qa_project(tmp_path, 30, annotators=("a", "b"), reviewers=("rev",))
    want = fresh(p)
    assert columns(p) == want and len(want[0]) == 30
    (entry,) = folder.iterdir()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    with monkeypatch.context() as m:
        no_reads(m)
        assert columns(p) == want
        assert reference_plan(Project.open(p.root)) == reference_plan(p)


def test_a_write_to_the_catalog_reads_it_again(tmp_path, folder):
    p = qa_project(tmp_path, 20, annotators=("a", "b"))
    before = columns(p)
    ingest_paths(p, [write_images(tmp_path / "more", 5, size=(33, 24))])
    p = Project.open(p.root)
    got = columns(p)
    assert got == fresh(p) and len(got[0]) == 25 and got[0][:20] == before[0]


def test_a_catalog_put_in_its_place_is_read_again(tmp_path, folder):
    p = qa_project(tmp_path / "one", 20, annotators=("a", "b"))
    q = qa_project(tmp_path / "two", 12, annotators=("a", "b"))
    columns(p)
    path = p.store.catalog.path
    shutil.copy2(q.store.catalog.path, path.with_suffix(".new"))
    os.replace(path.with_suffix(".new"), path)
    got = columns(Project.open(p.root))
    assert got == fresh(q) and len(got[0]) == 12


@pytest.mark.parametrize(
    "damage", ["truncated", "garbage", "other token", "group writable", "symlink", "folder 0777"]
)
def test_a_damaged_foreign_or_mismatched_entry_is_not_used(tmp_path, folder, damage):
    p = qa_project(tmp_path, 20, annotators=("a", "b"))
    want = columns(p)
    (entry,) = folder.iterdir()
    data = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        entry.write_bytes(os.urandom(len(data)))
    elif damage == "other token":  # an entry kept for another state of the catalog
        other = qa_project(tmp_path / "other", 20, annotators=("a", "b"))
        catalog_columns._store(
            entry, catalog_columns.state(p.store.catalog.path) or b"", *fresh(other)
        )
        other_entry = catalog_columns._file(p.store.catalog.path, GROUP)
        assert other_entry == entry
        os.utime(p.store.catalog.path, ns=(1, 1))  # and the catalog's state moved on
    elif damage == "group writable":
        entry.chmod(0o660)
    elif damage == "symlink":
        entry.rename(entry.with_name("x"))
        entry.symlink_to(entry.with_name("x"))
    elif damage == "folder 0777":
        folder.chmod(0o777)
    calls = []
    real = Catalog.select

    def counting(self, sql, args=()):
        calls.append(sql)
        return real(self, sql, args)

    Catalog.select = counting  # type: ignore[method-assign]
    try:
        assert columns(Project.open(p.root)) == want == fresh(p)
    finally:
        Catalog.select = real  # type: ignore[method-assign]
    assert calls, "the catalog was read again"
