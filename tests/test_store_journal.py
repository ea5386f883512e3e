"""Journal and snapshot semantics on real files: torn tails, snapshot + tail replay,
readers of a growing journal, the folder fsync, the snapshot's coverage mark."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.errors import JournalCorrupt, StoreWriteError
from qclabel.store import Store, journal
from qclabel.store.audit import verify_journal
from qclabel.store.labels import load_state, snapshot_tail
from test_store_faults import FAILED_SAVES, die, inject


def label(n: int) -> Annotation:
    box = Box("dent", n, n + 1, 4, 4, "minor", id=f"b{n}")
    return edits.add_box(box)(edits.set_class("dent", "minor")(Annotation()))


def fill(store: Store, user: str, images: range) -> None:
    with store.open_session(user) as s:
        for n in images:
            img = f"img{n}"
            s.commit(edits.Change(img, s.annotation(img), label(n)))


def test_events_are_chained_and_replayed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    fill(store, "ann", range(3))
    lines = (tmp_path / "labels" / "ann.jsonl").read_bytes().splitlines()
    events = [json.loads(x) for x in lines]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[0]["prev"] == journal.genesis("ann")
    assert all(b["prev"] == a["hash"] for a, b in zip(events, events[1:]))
    assert events[1]["before"] == Annotation().to_dict()
    assert store.state("ann").annotation("img2") == label(2)


def test_torn_last_line_is_ignored_then_cut_off_and_kept_aside(tmp_path: Path) -> None:
    store = Store(tmp_path)
    fill(store, "ann", range(4))
    jpath = tmp_path / "labels" / "ann.jsonl"
    good = jpath.read_bytes()
    torn = b'{"after":{"verdict":"pass"},"before":null,"hash":"ab'
    jpath.write_bytes(good + torn)
    state = store.state("ann")  # a reader: ignores it, changes nothing on disk
    assert len(state) == 4 and state.torn.offset == len(good)
    assert jpath.read_bytes() == good + torn
    assert verify_journal(tmp_path / "labels", "ann").ok
    with store.open_session("ann") as s:  # the writer cuts it off before appending
        assert jpath.read_bytes() == good
        s.commit(edits.apply("img9", Annotation(), edits.set_verdict("pass")))
    aside = list((tmp_path / "labels").glob("ann.jsonl.torn-*"))
    assert [p.read_bytes() for p in aside] == [torn]
    assert store.users() == ["ann"]  # the kept-aside bytes are not a journal
    finding = verify_journal(tmp_path / "labels", "ann")
    assert finding.ok and finding.events == 5


def test_snapshot_plus_tail_equals_full_replay(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    fill(store, "ann", range(50))  # close() writes the snapshot
    with store.open_session("ann") as s:
        for n in range(30, 80):  # relabel some, add others
            s.commit(edits.Change(f"img{n}", s.annotation(f"img{n}"), label(n + 1000)))
        s.record("review", "img3", None, {"outcome": "ok", "of": "bob"})
        shutil.copytree(tmp_path / "a", tmp_path / "b")  # as a crash would leave it
    assert snapshot_tail(tmp_path / "b" / "labels", "ann").seq == 50
    with_snap = load_state(tmp_path / "b" / "labels", "ann")
    (tmp_path / "b" / "labels" / "ann.snapshot.json").unlink()
    full = load_state(tmp_path / "b" / "labels", "ann")
    assert with_snap.entries == full.entries and with_snap.tail == full.tail
    assert full.get("img40") == label(1040).to_dict()
    assert full.get("img3", "review") == {"outcome": "ok", "of": "bob"}


def test_reader_of_a_growing_journal(tmp_path: Path, monkeypatch) -> None:
    """A reader that runs while the writer is mid-commit (the line written and synced,
    or only half written, the mark not advanced yet) sees the acknowledged lines only,
    and no damage."""
    store = Store(tmp_path / "a")
    fill(store, "ann", range(3))
    jpath = tmp_path / "a" / "labels" / "ann.jsonl"
    seen = []
    real = journal.os.fdatasync

    def reader_in_between(fd: int) -> None:
        real(fd)
        if os.readlink(f"/proc/self/fd/{fd}") != str(jpath):
            return
        seen.append(store.state("ann"))
        shutil.copytree(tmp_path / "a", tmp_path / "b")  # a moment earlier: half a line
        half = tmp_path / "b" / "labels" / "ann.jsonl"
        with open(half, "r+b") as fh:
            fh.truncate(half.stat().st_size - 30)
        seen.append(Store(tmp_path / "b").state("ann"))

    with store.open_session("ann") as s:
        good = jpath.read_bytes()
        monkeypatch.setattr(journal.os, "fdatasync", reader_in_between)
        s.commit(edits.apply("img7", Annotation(), edits.set_verdict("fail")))
        monkeypatch.undo()
        line = jpath.read_bytes()[len(good) :]
    whole, half = seen
    for state, torn in ((whole, line), (half, line[:-30])):
        assert state.get("img7") is None and len(state) == 3 and not state.damage
        assert state.torn.offset == len(good) and state.torn.data == torn
    assert store.state("ann").get("img7")["verdict"] == "fail"  # acknowledged now


def test_new_journal_is_made_durable_in_its_folder(tmp_path: Path, monkeypatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(journal.os, "fsync", spy)
    Store(tmp_path).open_session("ann").close()
    assert str(tmp_path / "labels") in synced


def test_journal_cut_below_the_snapshot_is_refused(tmp_path: Path) -> None:
    """Readers report the cut (naming the first missing line) and keep working; the
    writer refuses to open on it, and leaves the journal as it is."""
    store = Store(tmp_path)
    fill(store, "ann", range(5))
    jpath = tmp_path / "labels" / "ann.jsonl"
    lines = jpath.read_bytes().splitlines(keepends=True)
    jpath.write_bytes(b"".join(lines[:3]))
    state = store.state("ann")
    assert [str(d) for d in state.damage] == [
        f"{jpath}:4: acknowledged lines missing from line 4 on: the journal ends after line 3 "
        f"({len(b''.join(lines[:3]))} bytes), but ann.ack records 5 acknowledged events "
        f"({len(b''.join(lines))} bytes)"
    ]
    assert len(state) == 3  # what could still be verified
    with pytest.raises(
        JournalCorrupt,
        match="ann.jsonl:4: acknowledged lines missing .*session cannot open: restore ann.jsonl",
    ):
        store.open_session("ann")
    assert jpath.read_bytes() == b"".join(lines[:3])


def test_journal_rewritten_under_the_snapshot_is_refused(tmp_path: Path) -> None:
    """A rewritten journal can carry a valid chain of its own; the mark (seq and hash
    of the last acknowledged line) and the snapshot's mark still catch it, at the line
    that holds that seq."""
    store = Store(tmp_path / "a")
    fill(store, "ann", range(5))
    other = Store(tmp_path / "b")
    with other.open_session("ann") as s:
        for n in range(12):  # longer than the original, so not simply "cut"
            s.commit(edits.apply(f"img{n}", Annotation(), edits.set_verdict("pass")))
    shutil.copy(tmp_path / "b" / "labels" / "ann.jsonl", tmp_path / "a" / "labels")
    [damage] = store.state("ann").damage
    assert str(damage).startswith(
        f"{tmp_path / 'a' / 'labels' / 'ann.jsonl'}:5: does not "
        "match ann.ack: the last acknowledged line (seq 5)"
    )
    with pytest.raises(JournalCorrupt, match=r"ann.jsonl:5: does not match ann.ack"):
        store.open_session("ann")
    (tmp_path / "a" / "labels" / "ann.ack").unlink()  # the snapshot's mark alone
    damage = [str(d) for d in store.state("ann").damage]
    assert damage[0].endswith(
        "ann.jsonl:5: does not match ann.snapshot.json: the line with "
        "seq 5, which the snapshot covers up to, was rewritten"
    )
    assert "ann.ack: missing, but ann.jsonl was written with acknowledgement marks" in damage[1]


@pytest.mark.parametrize("damage", ["other user", "not json", "wrong layout"])
def test_a_bad_snapshot_falls_back_to_the_journal(tmp_path: Path, damage: str) -> None:
    """The journal alone is complete: a damaged snapshot costs a full replay, not the
    annotator's work; the audit still reports it, and the next session rewrites it."""
    store = Store(tmp_path)
    fill(store, "ann", range(3))
    fill(store, "bob", range(2))
    labels = tmp_path / "labels"
    snap = labels / "ann.snapshot.json"
    if damage == "other user":
        shutil.copy(labels / "bob.snapshot.json", snap)
    elif damage == "not json":
        snap.write_bytes(snap.read_bytes()[:40])
    else:
        snap.write_text('{"meta": {"1": {"seq": 3}}, "state": []}')
    state = store.state("ann")
    assert len(state) == 3 and state.get("img2") == label(2).to_dict()
    finding = verify_journal(labels, "ann")
    assert not finding.ok and "ann.snapshot.json" in finding.message
    with store.open_session("ann") as s:
        s.commit(edits.apply("img7", Annotation(), edits.set_verdict("pass")))
    assert verify_journal(labels, "ann").ok  # rewritten at close


def test_opening_rewrites_an_old_snapshot(tmp_path: Path, monkeypatch) -> None:
    from qclabel.store import session as session_mod

    monkeypatch.setattr(session_mod, "SNAPSHOT_EVERY", 10)
    store = Store(tmp_path)
    fill(store, "ann", range(3))
    shutil.copy(tmp_path / "labels" / "ann.snapshot.json", tmp_path / "old.json")
    fill(store, "ann", range(3, 20))
    shutil.copy(tmp_path / "old.json", tmp_path / "labels" / "ann.snapshot.json")
    s = store.open_session("ann")  # 17 events past the snapshot: rewritten at once
    assert snapshot_tail(tmp_path / "labels", "ann").seq == 20
    s.close()


def test_user_names_that_cannot_name_a_file_are_refused(tmp_path: Path) -> None:
    from qclabel.errors import QclabelError

    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(QclabelError, match="cannot name a journal file"):
            Store(tmp_path).open_session(bad)


def test_files_that_cannot_be_journals_are_not_users(tmp_path: Path) -> None:
    store = Store(tmp_path)
    fill(store, "ann", range(1))
    (tmp_path / "labels" / "ann (copy).jsonl").write_bytes(b"")
    assert store.users() == ["ann"]
    assert list(store.all_states()) == ["ann"]


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("commit"), st.integers(0, 5), st.sampled_from(["pass", "fail"])),
        st.tuples(st.just("batch"), st.integers(0, 5), st.sampled_from(["pass", "fail"])),
        st.tuples(st.just("failed"), st.integers(0, 5), st.sampled_from(FAILED_SAVES)),
        st.just(("snapshot",)),
        st.just(("reopen",)),
        st.just(("tear",)),
        st.just(("die",)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(OPS)
def test_any_mix_of_commits_snapshots_reopens_and_tears(ops) -> None:
    """Whatever happens (saves that fail in any way, kills without cleanup, torn
    lines), a reader and a new session see exactly the acknowledged labels."""
    with tempfile.TemporaryDirectory() as tmp:
        store, model = Store(Path(tmp)), {}
        session = store.open_session("ann")
        for op in ops:
            if op[0] == "failed":  # the save fails; the model does not change
                img = f"img{op[1]}"
                change = edits.apply(img, session.annotation(img), edits.set_flag("ghost"))
                with pytest.MonkeyPatch.context() as mp, pytest.raises(StoreWriteError):
                    inject(mp, op[2])
                    session.commit(change)
            elif op[0] == "die":
                die(session)
                session = store.open_session("ann")
            elif op[0] in ("commit", "batch"):
                img = f"img{op[1]}"
                change = edits.apply(img, session.annotation(img), edits.set_verdict(op[2]))
                if op[0] == "commit":
                    session.commit(change)
                else:
                    session.commit_many(
                        [change, edits.apply("extra", Annotation(), edits.set_verdict(op[2]))]
                    )
                    model["extra"] = (op[2], None)
                model[img] = (op[2], None)
            elif op[0] == "snapshot":
                session.snapshot()
            elif op[0] == "reopen":
                session.close()
                session = store.open_session("ann")
            else:  # a crash mid-append: unacknowledged bytes at the end
                with open(Path(tmp) / "labels" / "ann.jsonl", "ab") as fh:
                    fh.write(b'{"kind":"label","image":"ghost"')
                session.close()
                session = store.open_session("ann")
            seen = {
                i: (a["verdict"], a["flag"])
                for i, a in ((i, e["after"]) for i, e in store.state("ann").items("label"))
            }
            assert seen == model
        session.close()
        assert verify_journal(Path(tmp) / "labels", "ann").ok


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8).filter(lambda k: k != "hash"), JSON, max_size=6), JSON)
def test_a_line_is_the_canonical_json_of_its_event(extra, after) -> None:
    """encode_event encodes the body once; the line must be exactly the canonical JSON
    of the event with its hash, whatever the keys, and reading it back accepts it."""
    body = {
        **extra,
        "after": after,
        "image": "img1",
        "kind": "label",
        "seq": 1,
        "prev": journal.genesis("ann"),
        "user": "ann",
        "ts": "t",
    }
    digest, line = journal.encode_event(body)
    assert digest == journal.event_hash(body)
    assert line == journal.canonical({**body, "hash": digest}) + b"\n"
    event = json.loads(line)
    journal._check_link(Path("j"), 0, line, event, 0, journal.genesis("ann"), "ann")


@pytest.mark.parametrize("where", [0, 3, 4])
def test_moving_the_hash_key_is_an_edit(tmp_path: Path, where: int) -> None:
    """Same content, other bytes: the hash moved to the front, or after "image" (the
    bytes without it are still the canonical body and hash right)."""
    store = Store(tmp_path)
    fill(store, "ann", range(3))
    jpath = tmp_path / "labels" / "ann.jsonl"
    raw = jpath.read_bytes().splitlines(keepends=True)
    event = json.loads(raw[1])
    digest = event.pop("hash")
    items = sorted(event.items())
    assert [k for k, _ in items[2:4]] == ["image", "kind"]
    items.insert(where, ("hash", digest))
    raw[1] = json.dumps(dict(items), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    jpath.write_bytes(b"".join(raw))
    finding = verify_journal(tmp_path / "labels", "ann")
    assert not finding.ok and finding.message.startswith(f"{jpath}:2: edited")


def test_a_journal_from_before_marks_gets_one(tmp_path: Path) -> None:
    """A journal written before acknowledgement marks existed (no "v" in its lines, no
    .ack file, a snapshot without the flag) reads as before: every complete line counts,
    a torn last line does not. Its user's next session gives it a mark; from then on a
    deleted mark is damage."""
    labels = tmp_path / "labels"
    labels.mkdir()
    prev, lines = journal.genesis("ann"), []
    for n in range(4):
        body = {
            "kind": "label",
            "image": f"img{n}",
            "before": None,
            "after": label(n).to_dict(),
            "seq": n + 1,
            "user": "ann",
            "ts": "t",
            "prev": prev,
        }
        prev, line = journal.encode_event(body)
        lines.append(line)
    (labels / "ann.jsonl").write_bytes(b"".join(lines) + b'{"kind":"lab')
    store = Store(tmp_path)
    state = store.state("ann")
    assert len(state) == 4 and not state.damage and state.torn.data == b'{"kind":"lab'
    finding = verify_journal(labels, "ann")
    assert finding.ok and "has no acknowledgement mark yet" in finding.message
    with store.open_session("ann") as s:
        assert (labels / "ann.ack").exists() and len(s.state) == 4
        s.commit(edits.apply("img9", Annotation(), edits.set_verdict("pass")))
    assert verify_journal(labels, "ann").ok
    (labels / "ann.ack").unlink()
    assert "ann.ack: missing" in str(store.state("ann").damage[0])
