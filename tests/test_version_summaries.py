"""`version list` keeps what checking and summing up every manifest gave, per exact
bytes of versions.json (versions.all_summaries): the same rows warm and cold, nothing
checked again while the file is unchanged, and any change to it (one byte, a version
added) checked afresh, so a tampered manifest is refused with the cache warm."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel import versions
from qclabel.cli import main
from qclabel.project import Project
from test_formats_common import make_box_project


@pytest.fixture
def project(tmp_path, as_user, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    as_user("admin")
    p = make_box_project(tmp_path)
    versions.create_version(p, "v1", "admin")
    versions.create_version(p, "v2", "admin", ratios=(0.5, 0.5))
    return p


@pytest.fixture
def checks(monkeypatch):
    seen: list[str] = []
    real = versions._checked

    def counting(project, name, doc):
        seen.append(name)
        return real(project, name, doc)

    monkeypatch.setattr(versions, "_checked", counting)
    return seen


def listed(p: Project) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["version", "list", str(p.root), "--json"])
    return r.exit_code, r.stdout, r.stderr


def test_warm_rows_are_the_cold_ones_and_nothing_is_checked_again(project, checks):
    code, cold, _ = listed(project)
    assert code == 0 and checks == ["v1", "v2"]
    rows = json.loads(cold)
    assert [r["name"] for r in rows] == ["v1", "v2"] and rows[1]["splits"] == {"train": 2, "val": 1}
    want = [versions.summary(versions.get_version(project, n)) for n in ("v1", "v2")]
    assert json.loads(json.dumps(want)) == rows
    checks.clear()
    code, warm, _ = listed(project)
    assert code == 0 and warm == cold and checks == []
    versions.create_version(project, "v3", "admin")  # the file changed: all checked again
    code, out, _ = listed(project)
    assert code == 0 and checks == ["v1", "v2", "v3"] and len(json.loads(out)) == 3


def test_a_manifest_altered_after_a_warm_list_is_refused(project):
    assert listed(project)[0] == 0
    path = project.root / "versions.json"
    raw = path.read_bytes()
    data = json.loads(raw)
    doc = next(iter(data["docs"].values()))
    doc["created_by"] = "mallory"  # the seal covers it
    path.write_text(json.dumps(data, separators=(",", ":")))
    code, out, err = listed(project)
    assert code != 0 and "does not match its recorded hash" in err and "Traceback" not in err


def test_a_file_that_is_no_table_of_documents_is_one_line(project):
    (project.root / "versions.json").write_text('{"docs": {"1": 5}}')
    code, _, err = listed(project)
    assert code != 0 and "not a table of documents" in err and len(err.strip().splitlines()) == 1
