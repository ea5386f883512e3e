"""Export does each expensive thing once: options checked before any work, every
journal read once per manifest, the QA evidence reused while no label changed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel import version_evidence, version_hash, versions
from qclabel.cli import main
from qclabel.core.model import Annotation
from qclabel.qa import report as qa_report
from qclabel.store import Store
from test_formats_common import by_name, label, make_box_project


@pytest.fixture
def project(tmp_path):
    return make_box_project(tmp_path)


def test_impossible_options_are_refused_before_any_manifest(
    project, tmp_path, monkeypatch, as_user
):
    as_user("admin")

    def no_manifest(*a, **k):
        raise AssertionError("a manifest was built for options that cannot work")

    monkeypatch.setattr(versions, "build_manifest", no_manifest)
    monkeypatch.setattr(versions, "build_manifest_and_labels", no_manifest)
    out = CliRunner().invoke(
        main,
        [
            "export",
            str(project.root),
            "--format",
            "tfrecord",
            "--images",
            "none",
            "--out",
            str(tmp_path / "x"),
        ],
    )
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
    monkeypatch.setattr(
        qa_report, "build_report", lambda p, *a, **k: reports.append(1) or real(p, *a, **k)
    )
    first = versions.build_manifest(project)
    again = versions.build_manifest(project)
    assert len(reports) == 1 and again == first  # same evidence, same hash
    label(project, "bob", by_name(project)["a.png"], Annotation(verdict="pass"))
    changed = versions.build_manifest(project)
    assert len(reports) == 2  # bob's new journal position: computed again
    version_evidence._QA_CACHE.clear()
    assert versions.build_manifest(project)["qa"] == changed["qa"]  # = a fresh computation


def test_streamed_content_hash_is_the_hash_of_the_whole_body(project):
    """The content hash is fed to SHA-256 a chunk at a time: it must stay the hash of
    the one JSON body it always was (version hashes keep their meaning)."""
    m = versions.build_manifest(project)
    body = {
        "taxonomy": m["taxonomy"],
        "images": [{k: e.get(k) for k in versions.IMAGE_IDENTITY} for e in m["images"]],
        "labels": {
            i: version_hash._label_content(lab["annotation"]) for i, lab in m["labels"].items()
        },
        "splits": m["splits"],
    }
    assert m["hash"] == version_hash._sha(body)
    version_hash._CHUNK, saved = 1, version_hash._CHUNK  # every image its own chunk
    try:
        assert versions.content_hash(m) == m["hash"]
    finally:
        version_hash._CHUNK = saved


def test_qa_evidence_survives_the_process_in_the_users_cache(project, monkeypatch, tmp_path):
    """A second `qclabel export` (a new process: the in-memory cache is empty) of an
    unchanged project reads the evidence from the user's cache folder; a new label
    makes it compute again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    version_evidence._QA_CACHE.clear()
    reports = []
    real = qa_report.build_report
    monkeypatch.setattr(
        qa_report, "build_report", lambda p, *a, **k: reports.append(1) or real(p, *a, **k)
    )
    first = versions.build_manifest(project)
    assert len(list((tmp_path / "cache" / "qclabel" / "qa-evidence").iterdir())) == 1
    version_evidence._QA_CACHE.clear()  # as in a new process
    again = versions.build_manifest(project)
    assert len(reports) == 1 and again["qa"] == first["qa"]
    label(project, "bob", by_name(project)["a.png"], Annotation(verdict="pass"))
    version_evidence._QA_CACHE.clear()
    versions.build_manifest(project)
    assert len(reports) == 2


def test_label_dict_is_to_dict(project):
    """The manifest's label dicts are written without dataclasses.asdict: the same dict,
    key order too (the content hash and the stored versions depend on it)."""
    from qclabel.core.model import Box, Keypoint, KeypointSet
    from qclabel.versions import label_dict

    kps = KeypointSet("t", (Keypoint("a", 1.0, 2.0, 2), Keypoint("b")), "dent")
    for ann in (
        Annotation(verdict="pass"),
        Annotation(
            verdict="fail",
            boxes=(Box("dent", 1, 2.5, 3, 4, "minor"), Box("crack", 0.0, 0, 10.25, 1e-3)),
        ),
        Annotation(
            verdict="fail",
            boxes=(Box("dent", 1, 2, 3, 4),),
            keypoints=(kps,),
            checks=(("a", "ok"),),
            flag="look",
        ),
        Annotation(verdict="fail", defect_class="dent", severity="major", also=("crack",)),
    ):
        assert json.dumps(label_dict(ann)) == json.dumps(ann.to_dict())  # order too
