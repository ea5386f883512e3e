"""The kept snapshot entries' form: repeated words one string each, and a header that
names what wrote the file (store.snapshot_cache)."""

from __future__ import annotations

import pytest

from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.store import labels as store_labels
from qclabel.store import snapshot_cache
from qclabel.store.labels import snapshot_path
from qclabel.store.replay import load_state

from test_qa_support import qa_project


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "qclabel" / "snapshots"


@pytest.fixture
def parses(monkeypatch):
    """How many snapshots were parsed from their JSON."""
    counts: list[str] = []
    real = store_labels._parse_snapshot

    def counting(path, user, raw):
        counts.append(user)
        return real(path, user, raw)

    monkeypatch.setattr(store_labels, "_parse_snapshot", counting)
    return counts


def test_repeated_words_are_one_string_parsed_and_kept(tmp_path, cache, parses):
    """Distinct boxes of a few classes: each class, severity and verdict is one string
    object after the parse and after the kept file's load (marshal writes it once),
    and the entries are equal to what parsing gives."""
    p = qa_project(tmp_path, 60, annotators=("ann",), reviewers=(), dual_first_n=0)
    ids = p.store.catalog.ids()
    with p.store.open_session("ann") as s:
        s.commit_many(
            [
                edits.Change(
                    i,
                    Annotation(),
                    Annotation(
                        verdict="fail",
                        boxes=(Box("dent", n, 1, 3, 3, "minor"), Box("crack", 1, n, 2, 2)),
                    ),
                )
                for n, i in enumerate(ids)
            ]
        )
    raw = snapshot_path(p.store.labels_dir, "ann").read_bytes()
    reference = store_labels._parse_snapshot(snapshot_path(p.store.labels_dir, "ann"), "ann", raw)
    for _ in range(2):  # parsed (and kept), then loaded from what was kept
        entries = load_state(p.store.labels_dir, "ann").entries
        assert entries == reference[0]
        boxes = [b for e in entries.values() for b in e["after"]["boxes"]]
        assert len({id(b["cls"]) for b in boxes}) == 2 == len({b["cls"] for b in boxes})
        assert len({id(b["severity"]) for b in boxes if b["severity"]}) == 1
        assert len({id(e["after"]["verdict"]) for e in entries.values()}) == 1
    assert parses.count("ann") == 2  # the reference and the first read; then the cache


def test_a_file_another_release_or_python_wrote_is_never_loaded(cache, monkeypatch):
    """The header names the layout, the release and the interpreter's marshal: entries
    kept by any other are parsed afresh (marshal's format may change between versions)."""
    entries = {("label", "a"): {"after": {"verdict": "pass"}, "ts": "t", "seq": 1}}
    sha = "ab" * 32
    assert b"py3." in snapshot_cache.MAGIC and b"marshal" in snapshot_cache.MAGIC
    with monkeypatch.context() as m:
        m.setattr(snapshot_cache, "MAGIC", snapshot_cache.MAGIC.replace(b"py3.", b"py3.99"))
        snapshot_cache.store(sha, entries, {"offset": 0})
    assert (cache / f"{sha}.bin").exists()
    assert snapshot_cache.load(sha) is None
    snapshot_cache.store(sha, entries, {"offset": 0})
    assert snapshot_cache.load(sha) == (entries, {"offset": 0})
