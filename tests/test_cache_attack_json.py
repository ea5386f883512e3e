"""The JSON entries of the user's cache (usercache.load_json: version summaries, QA
evidence) with their value changed under an intact key: one flipped bit of a count, as
a failing disk or a hand edit leaves it. `version list` prints what checking the
versions afresh gives, never the changed figure."""

from __future__ import annotations

import json

import pytest

from qclabel import usercache, versions
from qclabel.core import edits
from qclabel.project import Project

from test_qa_support import label, qa_project


@pytest.fixture
def released(tmp_path):
    p = qa_project(tmp_path, 6, annotators=("ann1",), dual_first_n=0)
    for i in p.store.catalog.ids()[:4]:
        label(p, "ann1", i, edits.set_verdict("pass"))
    versions.create_version(p, "v1", "admin")
    return Project.open(p.root)


def test_a_changed_summary_under_its_key_is_checked_afresh(released):
    want = versions.all_summaries(released)
    assert want[0]["images"] == 4
    (entry,) = usercache.folder("version-summaries").iterdir()
    data = entry.read_bytes()
    at = data.index(b'"images": 4')
    changed = data[:at] + b'"images": 5' + data[at + len(b'"images": 4') :]  # 4 ^ 1
    entry.write_bytes(changed)
    assert versions.all_summaries(Project.open(released.root)) == want


def test_a_value_changed_under_its_key_is_not_used(tmp_path, monkeypatch):
    path = usercache.folder("part") / "entry.json"
    usercache.store_json(path, "k", {"agreed": 97})
    assert usercache.load_json(path, "k") == {"agreed": 97}
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"97", b"96"))
    assert usercache.load_json(path, "k") is None
    path.write_bytes(json.dumps({"key": "k", "value": {"agreed": 97}}).encode())
    assert usercache.load_json(path, "k") is None  # an earlier release's layout
    usercache.store_json(path, "k", {"agreed": 97})
    assert usercache.load_json(path, "k") == {"agreed": 97}
