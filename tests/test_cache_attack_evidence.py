"""The QA evidence an export carries (version_evidence, evidence_cache) against a catalog
changed behind the cache's back: edited while the evidence is computed, rewritten in
place with its old stamps put back, or edited by another process while the labeling
app keeps its evidence in memory. The evidence is always what computing it afresh from
the project as it is gives."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from qclabel import version_evidence
from qclabel.project import Project
from qclabel.qa import plan as qa_plan
from qclabel.store.catalog import Catalog

from test_qa_support import aql_lots_project


@pytest.fixture
def lots(tmp_path: Path) -> Project:
    """Two lots of 20 single-labeled images, sampled by AQL: the evidence lists them."""
    return Project.open(aql_lots_project(tmp_path, 20).root)


def relot(path: Path, ids: list[str], lot: str) -> None:
    """One commit of qclabel's writer giving `ids` another lot (an in-place edit)."""
    cat = Catalog(path)
    cat.update(replace(r, fields={**r.fields, "lot": lot}) for r in cat.get_many(ids).values())


def evidence(root: Path) -> dict:
    """The evidence as a new process gets it (the in-memory cache empty)."""
    version_evidence._QA_CACHE.clear()
    return version_evidence._qa_evidence(Project.open(root), None)


def computed(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The evidence computed afresh: an empty cache folder, an empty memory."""
    with monkeypatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(tmp_path / f"empty-{len(os.listdir(tmp_path))}"))
        return evidence(root)


def sizes(ev: dict) -> dict[str, int]:
    return {lot["lot"]: lot["size"] for lot in ev["evidence"]["lots"]}


def test_a_catalog_edited_while_the_evidence_is_computed_is_not_kept_as_its_state(
    lots, tmp_path, monkeypatch
):
    path, ids = lots.store.catalog.path, lots.store.catalog.ids()
    real = qa_plan.build_plan

    def plan_then_edit(p: Project):  # another process commits right after the plan
        out = real(p)
        relot(path, ids[:10], "L2")
        return out

    with monkeypatch.context() as m:
        m.setattr(qa_plan, "build_plan", plan_then_edit)
        assert sizes(evidence(lots.root)) == {"L1": 20, "L2": 20}  # what it read
    want = computed(lots.root, tmp_path, monkeypatch)
    assert sizes(want) == {"L1": 10, "L2": 30}
    assert evidence(lots.root) == want  # the next export


def test_an_in_place_rewrite_with_the_old_stamps_put_back_is_computed_again(
    lots, tmp_path, monkeypatch
):
    path, ids = lots.store.catalog.path, lots.store.catalog.ids()
    backup = tmp_path / "backup.sqlite"
    shutil.copy2(path, backup)
    relot(path, ids[:2], "L1")  # a commit, so that the other file's counter is the same
    assert sizes(evidence(lots.root)) == {"L1": 20, "L2": 20}  # kept in the cache
    kept = os.stat(path)
    other = tmp_path / "other" / "catalog.sqlite"
    other.parent.mkdir()
    shutil.copy2(backup, other)
    relot(other, ids[:10], "L2")
    data = other.read_bytes()
    assert len(data) == kept.st_size
    with open(path, "r+b") as fh:  # `cp other catalog.sqlite`: the same inode
        fh.write(data)
        fh.truncate()
    os.utime(path, ns=(kept.st_atime_ns, kept.st_mtime_ns))  # `touch -d`
    want = computed(lots.root, tmp_path, monkeypatch)
    assert sizes(want) == {"L1": 10, "L2": 30}
    assert evidence(lots.root) == want


def test_the_app_s_evidence_in_memory_follows_an_edit_by_another_process(
    lots, tmp_path, monkeypatch
):
    path, ids = lots.store.catalog.path, lots.store.catalog.ids()
    app = Project.open(lots.root)
    version_evidence._QA_CACHE.clear()
    first = version_evidence._qa_evidence(app, None)  # the app's first export
    assert sizes(first) == {"L1": 20, "L2": 20}
    relot(path, ids[:10], "L2")  # another process edits the lots in place
    memory = dict(version_evidence._QA_CACHE)
    want = computed(lots.root, tmp_path, monkeypatch)
    assert sizes(want) == {"L1": 10, "L2": 30}
    version_evidence._QA_CACHE.update(memory)  # the app's memory, as it was
    assert version_evidence._qa_evidence(app, None) == want  # the app's next export


def test_evidence_kept_by_another_release_is_computed_again(lots, monkeypatch):
    """What an earlier release computed (its gates, its metrics) is not what this one
    computes: after an upgrade the evidence is computed afresh, as for version lists."""
    import qclabel

    from qclabel.qa import report as qa_report

    reports = []
    real = qa_report.build_report
    monkeypatch.setattr(qa_report, "build_report", lambda p: reports.append(1) or real(p))
    first = evidence(lots.root)
    assert evidence(lots.root) == first and len(reports) == 1  # kept
    monkeypatch.setattr(qclabel, "__version__", qclabel.__version__ + ".post1")  # upgraded
    assert evidence(lots.root) == first and len(reports) == 2
