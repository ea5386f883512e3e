"""Reading a journal takes a line as written by qclabel when its bytes hash to its
`hash` (lineformat.is_written_form, which spares encoding every line again). A
tampering annotator controls those bytes: a line spelled otherwise than canonical
JSON (`\\u` escapes: a lone surrogate no qclabel line can hold) and hashed as spelled
passed that shortcut, and its label then stopped every export and version with a
traceback. Such a line is what the full check finds it to be: a finding naming the
file and line, and exports are refused with one line, as for any altered journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.errors import JournalCorrupt, QclabelError
from qclabel.formats import export_project
from qclabel.project import Project
from qclabel.store import lineformat
from qclabel.store.replay import load_state

from test_qa_support import qa_project


def _label(severity: str) -> dict[str, Any]:
    box = {"cls": "dent", "x": 1.5, "y": 2.0, "w": 4.0, "h": 3.0, "severity": severity, "id": "b"}
    return {"verdict": "fail", "boxes": [box], "keypoints": [], "checks": [], "skipped": False}


def _ascii(obj: Any) -> bytes:  # JSON as a tamperer may spell it: every non-ASCII escaped
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _written(tmp_path: Path, severity: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    p = qa_project(tmp_path, 2, dual_first_n=0, spot_check_rate=0.0)
    image = p.store.catalog.ids()[0]
    with p.store.open_session("ann1") as s:
        s.record("label", p.store.catalog.ids()[1], None, _label("minor"))
    with monkeypatch.context() as m:  # the tamperer's own writer, hashing what it writes
        m.setattr(lineformat, "canonical", _ascii)
        s = p.store.open_session("ann1")
        s.record("label", image, None, _label(severity))
        s.snapshot = lambda: None  # type: ignore[method-assign]  # readers replay the line
        s.close()
    return Project.open(p.root)


@pytest.mark.parametrize("severity", ["\ud800", "\udcff tail", "mi\u00f1or"], ids=range(3))
def test_a_line_not_spelled_canonically_is_a_finding(
    tmp_path: Path, severity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _written(tmp_path, severity, monkeypatch)
    state = load_state(p.store.labels_dir, "ann1")
    assert [d.part for d in state.damage] == ["journal"]
    assert "ann1.jsonl:2:" in str(state.damage[0])
    with pytest.raises(JournalCorrupt, match=r"ann1\.jsonl:2:"):
        export_project(p, "coco", tmp_path / "out", link="none")
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(main, ["audit", "verify", str(p.root)])
    assert result.exit_code == 1 and "FAIL" in result.output and "ann1.jsonl" in result.output


def test_a_canonical_line_with_escapes_still_reads(tmp_path: Path) -> None:
    """Canonical JSON escapes control characters (\\u0001): those lines take the full
    check, and pass it."""
    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    image = p.store.catalog.ids()[0]
    with p.store.open_session("ann1") as s:
        s.record("label", image, None, _label("minor"), note="a\x01b é 😀 \\u0041")
    state = load_state(p.store.labels_dir, "ann1")
    assert state.damage == [] and state.annotation(image).boxes[0].severity == "minor"
    raw = (p.store.labels_dir / "ann1.jsonl").read_bytes()
    assert b"\\u0001" in raw and "é 😀".encode() in raw


def test_a_snapshot_holding_a_lone_surrogate_stops_exports_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot is JSON with every non-ASCII character escaped, so it can hold a
    lone surrogate, and its owner can write one with a mark that vouches for it (the
    chains are not signed). No export or version can write that text: one line naming
    the image, where the content hash's UTF-8 stopped with a traceback."""
    from qclabel.store import labels as store_labels
    from qclabel.version_manifest import build_manifest

    p = qa_project(tmp_path, 2, dual_first_n=0, spot_check_rate=0.0)
    image = p.store.catalog.ids()[0]
    real = store_labels.encode_snapshot
    with monkeypatch.context() as m:
        m.setattr(store_labels, "encode_snapshot", lambda s: real(s).replace(b"SEVX", b"\\ud800"))
        m.setenv("XDG_CACHE_HOME", str(tmp_path / "writer-cache"))  # readers parse it
        with p.store.open_session("ann1") as s:
            s.record("label", image, None, _label("SEVX"))
    p = Project.open(p.root)
    state = load_state(p.store.labels_dir, "ann1")
    assert state.damage == [] and state.annotation(image).boxes[0].severity == "\ud800"
    for make in (
        lambda: export_project(p, "coco", tmp_path / "out", link="none"),
        lambda: build_manifest(p),
    ):
        with pytest.raises(QclabelError, match=rf"image {image}: .*lone surrogate"):
            make()
    assert not (tmp_path / "out").exists()
