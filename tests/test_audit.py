"""`qclabel audit verify` finds every kind of tampering and names file:line;
`qclabel audit log` prints the history, filtered and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.project import Project


@pytest.fixture
def labeled(project: Project, as_user) -> Project:
    """Two annotators; ann labels six images, bob two; ann's journal is snapshotted.
    The CLI runs as the project's admin."""
    as_user("admin")
    with project.store.open_session("ann") as s:
        for n in range(6):
            s.commit(edits.apply(f"img{n}", Annotation(), edits.set_verdict("pass")))
        s.commit(
            edits.apply("img1", s.annotation("img1"), edits.set_class("dent", "major")),
            note="looked again",
        )
    with project.store.open_session("bob") as s:
        s.commit(
            edits.apply("img1", Annotation(), edits.add_box(Box("scratch", 1, 2, 30, 4, "minor")))
        )
        s.commit(edits.apply("img2", Annotation(), edits.set_verdict("fail")))
    return project


def journal(project: Project, user: str) -> Path:
    return project.root / "labels" / f"{user}.jsonl"


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def verify(project: Project) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify", str(project.root)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_intact_journals_verify(labeled: Project) -> None:
    code, out = verify(labeled)
    assert code == 0
    assert "ann.jsonl: OK, 7 events, chain intact" in out
    assert "bob.jsonl: OK, 2 events, chain intact" in out


def test_altered_content(labeled: Project) -> None:
    path = journal(labeled, "ann")
    ls = lines(path)
    ls[2] = ls[2].replace(b'"verdict":"pass"', b'"verdict":"fail"', 1)
    path.write_bytes(b"".join(ls))
    code, out = verify(labeled)
    assert code == 1
    assert f"FAIL {path}:3: content altered" in out
    assert "bob.jsonl: OK" in out  # the other journal is still reported


def test_reordered_lines(labeled: Project) -> None:
    path = journal(labeled, "ann")
    ls = lines(path)
    ls[3], ls[4] = ls[4], ls[3]
    path.write_bytes(b"".join(ls))
    code, out = verify(labeled)
    assert code == 1
    assert f"{path}:4: chain broken: expected seq 4" in out


def test_line_cut_in_the_middle(labeled: Project) -> None:
    path = journal(labeled, "ann")
    ls = lines(path)
    ls[1] = ls[1][: len(ls[1]) // 2] + b"\n"
    path.write_bytes(b"".join(ls))
    code, out = verify(labeled)
    assert code == 1
    assert f"{path}:2: not a complete JSON event" in out


def test_line_removed_in_the_middle(labeled: Project) -> None:
    path = journal(labeled, "ann")
    ls = lines(path)
    del ls[2]
    path.write_bytes(b"".join(ls))
    code, out = verify(labeled)
    assert code == 1 and f"{path}:3: chain broken" in out


def test_lines_removed_from_the_end_are_caught_by_the_mark(labeled: Project) -> None:
    path = journal(labeled, "ann")
    path.write_bytes(b"".join(lines(path)[:5]))  # still a valid chain on its own
    code, out = verify(labeled)
    assert code == 1
    assert (
        f"FAIL {path}:6: acknowledged lines missing from line 6 on: the journal ends "
        "after line 5" in out
    )


def test_another_users_line_spliced_in(labeled: Project) -> None:
    """bob's first line has a valid hash, seq 1 and the genesis prev of bob, so the
    chain check names the wrong owner or the wrong link."""
    path = journal(labeled, "ann")
    ls = lines(path)
    ls.insert(3, lines(journal(labeled, "bob"))[1])
    path.write_bytes(b"".join(ls))
    code, out = verify(labeled)
    assert code == 1 and f"{path}:4: chain broken" in out


def test_other_users_journal_renamed_as_mine(labeled: Project) -> None:
    path = journal(labeled, "carl")
    path.write_bytes(journal(labeled, "bob").read_bytes())
    code, out = verify(labeled)
    assert code == 1 and f"{path}:1: chain broken" in out


def test_altered_snapshot(labeled: Project) -> None:
    snap = labeled.root / "labels" / "ann.snapshot.json"
    data = json.loads(snap.read_text())
    doc = next(d for d in data["state"].values() if d["i"] == "img4")
    doc["after"]["verdict"] = "fail"
    snap.write_text(json.dumps(data))
    code, out = verify(labeled)
    assert code == 1
    assert "ann.snapshot.json: label of image img4 differs from the journal" in out


def test_torn_last_line_is_reported_but_ok(labeled: Project) -> None:
    path = journal(labeled, "bob")
    with open(path, "ab") as fh:
        fh.write(b'{"kind":"label","ima')
    code, out = verify(labeled)
    assert code == 0 and "bytes from line 3 on were never acknowledged" in out


def test_no_journals_yet(project: Project) -> None:
    code, out = verify(project)
    assert code == 0 and "no journals yet" in out


def log(project: Project, *args: str) -> list[str]:
    """The log as the project's admin sees it (admins see every label)."""
    result = CliRunner().invoke(main, ["audit", "log", str(project.root), *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_log_prints_history(labeled: Project) -> None:
    out = log(labeled)
    assert len(out) == 9
    assert any(
        "ann" in ln
        and "img1" in ln
        and "pass -> fail, dent, major" in ln
        and "note: looked again" in ln
        for ln in out
    )
    assert any("bob" in ln and "- -> 1 box(es)" in ln for ln in out)


def test_log_filters_by_image_and_user(labeled: Project) -> None:
    img1 = log(labeled, "--image", "img1")
    assert len(img1) == 3 and all("img1" in ln for ln in img1)
    both = log(labeled, "--image", "img1", "--user", "bob")
    assert len(both) == 1 and "bob" in both[0]
    assert len(log(labeled, "--user", "ann")) == 7
    assert log(labeled, "--user", "nobody") == []


def test_log_json(labeled: Project) -> None:
    events = [json.loads(ln) for ln in log(labeled, "--json", "--user", "bob")]
    assert [e["seq"] for e in events] == [1, 2]
    assert events[1]["after"]["verdict"] == "fail"
    assert events[0]["after"]["boxes"][0]["cls"] == "scratch"
    assert all(e["user"] == "bob" and e["hash"] for e in events)


def test_status_on_a_tampered_journal_still_works_and_names_file_and_line(labeled: Project) -> None:
    """Reading replays the chain from the snapshot on (the whole chain without one):
    status keeps working, says there are findings, and its JSON names file and line;
    lines under the snapshot are checked in full by `audit verify`."""
    (labeled.root / "labels" / "bob.snapshot.json").unlink()
    path = journal(labeled, "bob")
    ls = lines(path)
    ls[0] = ls[0].replace(b'"cls":"scratch"', b'"cls":"crack"', 1)
    path.write_bytes(b"".join(ls))
    result = CliRunner().invoke(main, ["status", str(labeled.root)])
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert (
        f"audit     the project has audit findings (2): run `qclabel audit verify {labeled.root}`"
    ) in result.output
    assert "  ann: labeled 6" in result.output
    out = CliRunner().invoke(main, ["status", str(labeled.root), "--json"]).output
    findings = json.loads(out)["audit_findings"]
    assert f"{path}:1: content altered (hash does not match)" in findings
    assert any("bob.snapshot.json: missing" in f for f in findings)
