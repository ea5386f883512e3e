"""Damage that only the acknowledgement mark can tell apart, and what each kind does to
`audit verify` (the exact file and line), to readers, to `status` and to the next
session: a journal or snapshot deleted, lines removed or rewritten after a stale
snapshot mark, an acknowledged line cut in half, a whitespace edit, the mark deleted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Annotation
from qclabel.errors import JournalCorrupt
from qclabel.project import Project
from qclabel.store import journal
from qclabel.store.audit import verify_journal


def verdict(n: int) -> str:
    return "fail" if n % 2 else "pass"


def crashed(project: Project, user: str, snap_at: int, total: int) -> None:
    """`total` acknowledged labels, a snapshot after `snap_at` of them, and the files as
    a kill -9 leaves them (the killed session never wrote its closing snapshot)."""
    labels = project.root / "labels"
    session = project.store.open_session(user)
    for n in range(total):
        session.commit(edits.apply(f"img{n:02d}", Annotation(), edits.set_verdict(verdict(n))))
        if n + 1 == snap_at:
            session.snapshot()
    saved = {p.name: p.read_bytes() for p in labels.glob(f"{user}.*")}
    session.close()
    for p in labels.glob(f"{user}.*"):
        if p.name not in saved:
            p.unlink()
    for name, data in saved.items():
        (labels / name).write_bytes(data)


@pytest.fixture(autouse=True)
def _as_admin(as_user) -> None:
    """The CLI runs as the project's admin: others see no details of other journals."""
    as_user("admin")


@pytest.fixture
def proj(project: Project, as_user) -> Project:
    """ann: 20 acknowledged labels, snapshot at 10, killed; bob: 2 labels, closed."""
    as_user("admin")
    crashed(project, "ann", 10, 20)
    with project.store.open_session("bob") as s:
        for n in range(2):
            s.commit(edits.apply(f"img{n:02d}", Annotation(), edits.set_verdict("pass")))
    return project


def jpath(project: Project, user: str = "ann") -> Path:
    return project.root / "labels" / f"{user}.jsonl"


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def rechain(raw: list[bytes], first: int, user: str = "ann") -> list[bytes]:
    """Rewrite lines from index `first` on with flipped verdicts and a valid chain of
    their own, as someone who knows the format would."""
    out = raw[:first]
    prev = json.loads(out[-1])["hash"] if out else journal.genesis(user)
    for line in raw[first:]:
        event = json.loads(line)
        event["after"]["verdict"] = "pass" if event["after"]["verdict"] == "fail" else "fail"
        event["prev"] = prev
        event["hash"] = prev = journal.event_hash(event)
        out.append(journal.canonical(event) + b"\n")
    return out


def audit(project: Project) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["audit", "verify", str(project.root)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def fails(project: Project) -> list[str]:
    code, out = audit(project)
    assert code == 1
    assert any(ln.startswith("OK   ") and "bob.jsonl" in ln for ln in out)  # bob unaffected
    return [ln.removeprefix("FAIL ") for ln in out if ln.startswith("FAIL ")]


def refused(project: Project, where: str) -> None:
    """The session refuses with one line naming the damage and the way out, and
    changes nothing on disk."""
    labels = project.root / "labels"
    before = {p.name: p.read_bytes() for p in labels.iterdir() if not p.name.endswith(".lock")}
    with pytest.raises(JournalCorrupt) as exc:
        project.store.open_session("ann")
    message = str(exc.value)
    assert message.startswith(where) and "\n" not in message
    assert message.endswith(
        "ann's labeling session cannot open: restore ann.jsonl, ann.ack "
        "and ann.snapshot.json from one backup (`qclabel audit verify` "
        "lists every finding)"
    )
    after = {p.name: p.read_bytes() for p in labels.iterdir() if not p.name.endswith(".lock")}
    assert after == before


# -- an acknowledged line cut in half: never mistaken for a torn, unacknowledged one ----


def test_acknowledged_last_line_cut_in_half_is_reported_and_kept(proj: Project) -> None:
    path = jpath(proj)
    raw = lines(path)
    cut = raw[:19] + [raw[19][: len(raw[19]) // 2]]
    path.write_bytes(b"".join(cut))
    size = len(b"".join(cut))
    expected = (
        f"{path}:20: acknowledged line cut in half: the journal ends inside line 20 "
        f"(at byte {size}), but ann.ack records 20 acknowledged events "
        f"({len(b''.join(raw))} bytes)"
    )
    assert fails(proj) == [expected]
    state = proj.store.state("ann")  # a reader: reports it, keeps the 19 verified labels
    assert [str(d) for d in state.damage] == [expected]
    assert len(state) == 19 and state.torn is None
    refused(proj, f"{path}:20: acknowledged line cut in half")
    assert not list((proj.root / "labels").glob("ann.jsonl.torn-*"))


def test_acknowledged_lines_removed_after_a_stale_snapshot_mark(proj: Project) -> None:
    path = jpath(proj)
    raw = lines(path)
    path.write_bytes(b"".join(raw[:15]))  # a valid chain, past the snapshot's line
    assert fails(proj) == [
        f"{path}:16: acknowledged lines missing from line 16 on: the journal ends after line "
        f"15 ({path.stat().st_size} bytes), but ann.ack records 20 acknowledged events "
        f"({len(b''.join(raw))} bytes)"
    ]
    refused(proj, f"{path}:16: acknowledged lines missing")


@pytest.mark.parametrize("first", [15, 19])
def test_lines_rewritten_after_a_stale_snapshot_mark(proj: Project, first: int) -> None:
    """Lines after the snapshot rewritten with a valid chain of their own (flipped
    verdicts keep every line's length): the mark's hash no longer matches line 20."""
    path = jpath(proj)
    path.write_bytes(b"".join(rechain(lines(path), first)))
    assert fails(proj) == [
        f"{path}:20: does not match ann.ack: the last acknowledged line "
        "(seq 20) is not the line found here: it, or lines before it, "
        "were rewritten or removed"
    ]
    refused(proj, f"{path}:20: does not match ann.ack")


def test_rewritten_lines_of_another_length(proj: Project) -> None:
    path = jpath(proj)
    raw = rechain(lines(path), 17)
    event = json.loads(raw[17])
    event["note"] = "x" * 40  # longer: line 18 now runs past where line 20 ended
    event["hash"] = journal.event_hash(event)
    raw[17] = journal.canonical(event) + b"\n"
    path.write_bytes(b"".join(rechain(raw, 18)))
    found = fails(proj)
    assert len(found) == 1 and found[0].startswith(f"{path}:20: does not match ann.ack")


# -- files deleted ----------------------------------------------------------------------


def test_journal_deleted_while_its_snapshot_remains(proj: Project) -> None:
    path = jpath(proj)
    path.unlink()
    assert fails(proj) == [
        f"{path}: missing, but ann.ack records 20 acknowledged events: the journal was deleted"
    ]
    refused(proj, f"{path}: missing")
    (proj.root / "labels" / "ann.ack").unlink()  # the snapshot alone still remembers
    assert fails(proj) == [
        f"{path}: missing, but ann.snapshot.json covers 10 events: the journal was deleted"
    ]
    state = proj.store.state("ann")
    assert len(state) == 10 and "missing" in str(state.damage[0])


def test_snapshot_deleted(proj: Project) -> None:
    snap = proj.root / "labels" / "ann.snapshot.json"
    snap.unlink()
    assert fails(proj) == [
        f"{snap}: missing, but ann.ack records a snapshot up to seq 10: it "
        "was deleted (the journal alone is complete)"
    ]
    assert len(proj.store.state("ann")) == 20  # the journal alone is replayed
    with proj.store.open_session("ann") as s:  # nothing lost: the session writes a new one
        assert len(s.state) == 20 and s.get("img19")["verdict"] == "fail"
    assert snap.exists() and verify_journal(proj.root / "labels", "ann").ok


def test_old_snapshot_put_back(proj: Project) -> None:
    snap = proj.root / "labels" / "ann.snapshot.json"
    old = snap.read_bytes()
    with proj.store.open_session("ann") as s:
        s.snapshot()  # now at seq 20
    snap.write_bytes(old)
    assert fails(proj) == [
        f"{snap}: not the last snapshot written (it covers seq 10, ann.ack "
        "records seq 20): an old or foreign copy was put back"
    ]
    assert len(proj.store.state("ann")) == 20


def test_edited_snapshot_is_not_used(proj: Project) -> None:
    """Readers hold the snapshot's bytes against the hash the mark records: an edited
    label in it is reported and not shown; the next session writes a true one."""
    snap = proj.root / "labels" / "ann.snapshot.json"
    data = json.loads(snap.read_text())
    doc = next(d for d in data["state"].values() if d["i"] == "img04")
    doc["after"]["verdict"] = "fail"
    snap.write_text(json.dumps(data, separators=(",", ":")))
    expected = (
        f"{snap}: altered: its bytes are not those of the snapshot last written "
        "(ann.ack records their SHA-256); it is ignored"
    )
    state = proj.store.state("ann")
    assert [str(d) for d in state.damage] == [expected]
    assert state.get("img04")["verdict"] == "pass" and len(state) == 20  # from the journal
    found = fails(proj)
    assert found[0] == expected
    assert (
        found[1] == f"{snap}: label of image img04 differs from the journal (1 entries "
        "differ): the snapshot was altered"
    )
    with proj.store.open_session("ann") as s:
        assert s.get("img04")["verdict"] == "pass" and not s.state.damage
    assert verify_journal(proj.root / "labels", "ann").ok


def test_mark_deleted(proj: Project) -> None:
    ack = proj.root / "labels" / "ann.ack"
    ack.unlink()
    assert fails(proj) == [
        f"{ack}: missing, but ann.jsonl was written with acknowledgement marks: it was deleted"
    ]
    refused(proj, f"{ack}: missing")


def test_mark_unreadable(proj: Project) -> None:
    ack = proj.root / "labels" / "ann.ack"
    ack.write_bytes(b"\0" * 1024)
    assert fails(proj) == [
        f"{ack}: unreadable acknowledgement mark (no valid record); restore it from a backup"
    ]
    refused(proj, f"{ack}: unreadable")


def test_mark_of_another_user(proj: Project) -> None:
    ack = proj.root / "labels" / "ann.ack"
    ack.write_bytes((proj.root / "labels" / "bob.ack").read_bytes())
    assert fails(proj) == [f"{ack}: the acknowledgement mark of 'bob', not of 'ann'"]


# -- exact lines ------------------------------------------------------------------------


def test_whitespace_edit_is_reported_at_its_line(project: Project) -> None:
    """The content still hashes the same, so only the bytes show it; it used to be
    reported at line 20, where the snapshot ends."""
    with project.store.open_session("ann") as s:
        for n in range(20):
            s.commit(edits.apply(f"img{n:02d}", Annotation(), edits.set_verdict("pass")))
    path = jpath(project)
    raw = lines(path)
    raw[3] = raw[3].replace(b'"kind":', b'"kind": ', 1)
    path.write_bytes(b"".join(raw))
    expected = (
        f"{path}:4: edited (the content still hashes the same, but the bytes are not "
        "the ones qclabel wrote, e.g. spacing changed)"
    )
    code, out = audit(project)
    assert code == 1 and out == [f"FAIL {expected}"]
    assert [str(d) for d in project.store.state("ann").damage] == [expected]


# -- status and the labeling app keep working -------------------------------------------


def _cut_half(p: Project) -> None:
    raw = lines(jpath(p))
    jpath(p).write_bytes(b"".join(raw[:19]) + raw[19][:30])


def _drop_tail(p: Project) -> None:
    jpath(p).write_bytes(b"".join(lines(jpath(p))[:15]))


def _rewrite(p: Project) -> None:
    jpath(p).write_bytes(b"".join(rechain(lines(jpath(p)), 15)))


def _edit_snapshot(p: Project) -> None:
    snap = p.root / "labels" / "ann.snapshot.json"
    snap.write_bytes(snap.read_bytes().replace(b'"verdict":"pass"', b'"verdict":"fail"', 1))


TAMPER: dict[str, Callable[[Project], None]] = {
    "acknowledged line cut": _cut_half,
    "lines removed after the snapshot": _drop_tail,
    "lines rewritten after the snapshot": _rewrite,
    "journal deleted": lambda p: jpath(p).unlink(),
    "snapshot deleted": lambda p: (p.root / "labels" / "ann.snapshot.json").unlink(),
    "snapshot edited": lambda p: _edit_snapshot(p),
    "mark deleted": lambda p: (p.root / "labels" / "ann.ack").unlink(),
}


@pytest.mark.parametrize("kind", list(TAMPER))
def test_status_says_the_project_has_audit_findings(proj: Project, kind: str) -> None:
    TAMPER[kind](proj)
    result = CliRunner().invoke(main, ["status", str(proj.root)])
    assert result.exit_code == 0 and "Traceback" not in result.output
    audit_lines = [ln for ln in result.output.splitlines() if ln.startswith("audit")]
    assert audit_lines == [
        f"audit     the project has audit findings (1): run `qclabel audit verify {proj.root}`"
    ]
    assert "  bob: labeled 2" in result.output
    as_json = CliRunner().invoke(main, ["status", str(proj.root), "--json"])
    findings = json.loads(as_json.output)["audit_findings"]
    assert len(findings) == 1 and "ann." in findings[0]
    assert findings[0] in fails(proj)  # the same line `audit verify` prints


def test_status_of_an_intact_project_has_no_audit_line(proj: Project) -> None:
    result = CliRunner().invoke(main, ["status", str(proj.root)])
    assert result.exit_code == 0 and "audit" not in result.output
    assert (
        json.loads(CliRunner().invoke(main, ["status", str(proj.root), "--json"]).output)[
            "audit_findings"
        ]
        == []
    )


def test_export_and_version_refuse_while_a_journal_has_findings(
    proj: Project, tmp_path: Path
) -> None:
    """Readers keep working on damage, but frozen data is not built on it."""
    _cut_half(proj)
    for args in (
        ["export", str(proj.root), "--format", "coco", "--out", str(tmp_path / "o")],
        ["version", "create", str(proj.root), "v1"],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert result.output.startswith(
            f"qclabel: error: {jpath(proj)}:20: acknowledged line cut in half"
        )
        assert "is not built while a journal has audit findings" in result.output
    assert not (tmp_path / "o").exists()
