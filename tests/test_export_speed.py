"""Export does each expensive thing once: options checked before any work, every
journal read once per manifest, the QA evidence reused while no label changed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qclabel import version_evidence, versions
from qclabel.cli import main
from qclabel.core.model import Annotation
from qclabel.qa import report as qa_report
from qclabel.store import Store
from test_formats_common import by_name, label, make_box_project


@pytest.fixture
def project(tmp_path):
    return make_box_project(tmp_path)


def test_impossible_options_are_refused_before_any_manifest(project, tmp_path, monkeypatch,
                                                            as_user):
    as_user("admin")
    def no_manifest(*a, **k):
        raise AssertionError("a manifest was built for options that cannot work")
    monkeypatch.setattr(versions, "build_manifest", no_manifest)
    monkeypatch.setattr(versions, "build_manifest_and_labels", no_manifest)
    out = CliRunner().invoke(main, ["export", str(project.root), "--format", "tfrecord",
                                    "--images", "none", "--out", str(tmp_path / "x")])
    assert out.exit_code != 0 and "--images none is not possible" in out.output
    assert "Traceback" not in out.output and not (tmp_path / "x").exists()


def test_every_journal_is_read_once_per_manifest(project, monkeypatch):
    calls = []
    real = Store.all_states
    monkeypatch.setattr(Store, "all_states", lambda self: calls.append(1) or real(self))
    version_evidence._QA_CACHE.clear()
    m = versions.build_manifest(project)
    assert len(calls) == 1 and len(m["labels"]) == 3
    assert "all_states" not in vars(project.store)  # the pin is gone afterwards


def test_qa_evidence_is_reused_until_a_label_changes(project, monkeypatch):
    version_evidence._QA_CACHE.clear()
    reports = []
    real = qa_report.build_report
    monkeypatch.setattr(qa_report, "build_report", lambda p, *a, **k: reports.append(1)
                        or real(p, *a, **k))
    first = versions.build_manifest(project)
    again = versions.build_manifest(project)
    assert len(reports) == 1 and again == first  # same evidence, same hash
    label(project, "bob", by_name(project)["a.png"], Annotation(verdict="pass"))
    changed = versions.build_manifest(project)
    assert len(reports) == 2  # bob's new journal position: computed again
    version_evidence._QA_CACHE.clear()
    assert versions.build_manifest(project)["qa"] == changed["qa"]  # = a fresh computation
