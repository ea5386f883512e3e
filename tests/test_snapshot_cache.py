"""The parsed label snapshots kept in the reading user's cache (store.snapshot_cache):
what a reader gets is what parsing the snapshot gives, whether the cache is warm, cold,
damaged, planted, in a folder others can write, or left from an older snapshot; status,
checks, blindness and damage findings come out the same with and without it."""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager

import pytest

from qclabel.check import project_findings
from qclabel.core import edits
from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
from qclabel.project import Project
from qclabel.status import project_status
from qclabel.store import labels as store_labels
from qclabel.store import snapshot_cache
from qclabel.store.labels import snapshot_path
from qclabel.store.replay import load_state
from qclabel.tui.labeling import queue_ids

from test_qa_support import qa_project

VIEWERS = (None, "ann1", "ann2", "adj", "rev")


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


@contextmanager
def uncached(monkeypatch):
    """Readers that parse every snapshot and keep nothing: the reference."""
    with monkeypatch.context() as m:
        m.setattr(snapshot_cache, "load", lambda sha: None)
        m.setattr(snapshot_cache, "store", lambda sha, entries, meta: None)
        yield


def varied_project(tmp_path) -> Project:
    """Two annotators on dual images (blind), equal and distinct labels of every kind,
    a final label by the adjudicator; every session closed, so each wrote its snapshot."""
    p = qa_project(tmp_path, 14, annotators=("ann1", "ann2"), reviewers=("rev",), dual_first_n=4)
    ids = p.store.catalog.ids()
    kp = KeypointSet("fixture", (Keypoint("a", 3.5, 4.0, 2), Keypoint("b", 1, 2, 1)), id="k1")
    labels = {
        "ann1": [
            Annotation(verdict="pass"),
            Annotation(verdict="fail", defect_class="dent", severity="minor"),
            Annotation(verdict="fail", defect_class="crack", boxes=(Box("crack", 1, 2, 5, 6),)),
            Annotation(verdict="pass"),
            Annotation(flag="unsure"),
            Annotation(skipped=True),
            Annotation(verdict="pass", boxes=(Box("dent", 2, 2, 3, 3),)),  # a finding
            Annotation(verdict="pass"),
        ],
        "ann2": [
            Annotation(verdict="fail", defect_class="dent", severity="minor"),
            Annotation(verdict="pass"),
            Annotation(verdict="fail", defect_class="scratch", keypoints=(kp,)),
            Annotation(verdict="fail", defect_class="nosuchclass"),  # a finding
        ],
    }
    for user, anns in labels.items():
        with p.store.open_session(user) as s:
            for image, ann in zip(ids, anns):
                s.commit(edits.Change(image, Annotation(), ann))
    with p.store.open_session("adj") as s:
        s.record(
            "final",
            ids[0],
            None,
            {"annotation": Annotation(verdict="pass").to_dict(), "source": "A", "annotators": []},
            "agreed",
        )
    return Project.open(p.root)


def boxed_project(tmp_path, n: int, label_of) -> Project:
    """`n` images labeled by one annotator, the nth with `label_of(n)` (distinct boxes),
    in one commit; the session closed, so it wrote its snapshot."""
    p = qa_project(tmp_path, n, annotators=("ann",), reviewers=(), dual_first_n=0)
    ids = p.store.catalog.ids()
    with p.store.open_session("ann") as s:
        s.commit_many([edits.Change(i, Annotation(), label_of(k)) for k, i in enumerate(ids)])
    return p


def everything(p: Project, queues: bool = True) -> dict:
    """What status, checks and the labeling queues show, for every viewer (the queues
    open a session, which repairs a damaged snapshot: not with `queues=False`)."""
    out: dict = {}
    for viewer in VIEWERS:
        out[f"status {viewer}"] = project_status(p, viewer)
        out[f"check {viewer}"] = [f.to_dict() for f in project_findings(p, viewer)]
    for user in ("ann1", "ann2"):
        state = load_state(p.store.labels_dir, user)
        out[f"state {user}"] = (state.entries, state.tail, [str(d) for d in state.damage])
        if not queues:
            continue
        with p.store.open_session(user) as s:
            for name in ("unlabeled", "mine", "flagged", "all"):
                out[f"queue {user} {name}"] = list(queue_ids(p, s, name))
    return out


def test_readers_get_what_parsing_gives_and_skip_the_parse(tmp_path, cache, parses, monkeypatch):
    p = varied_project(tmp_path)
    # each session kept what parsing its snapshot gives, in a folder only its user writes
    files = sorted(cache.iterdir())
    for user in ("ann1", "ann2", "adj"):
        raw = snapshot_path(p.store.labels_dir, user).read_bytes()
        assert cache / f"{hashlib.sha256(raw).hexdigest()}.bin" in files
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert all(oct(f.stat().st_mode & 0o777) == "0o600" for f in files)
    with uncached(monkeypatch):
        want = everything(p)
    parses.clear()
    got = everything(p)
    assert got == want
    assert parses == []  # nothing parsed: every snapshot came from the cache
    s = want["status None"]
    assert s["states"]["flagged"] == 1 and s["consistency"]["unknown-class"] == 1
    # blind: ann1 does not see ann2's labels of the dual images, the adjudicator does
    assert s["annotators"]["ann2"]["labeled"] == 4
    assert "ann2" not in want["status ann1"]["annotators"]
    assert want["status ann1"]["classes"]["scratch"] == 0
    assert want["status adj"]["classes"]["scratch"] == 1


def test_the_session_keeps_exactly_what_parsing_its_snapshot_gives(tmp_path, cache):
    p = varied_project(tmp_path)
    for user in ("ann1", "ann2", "adj"):
        raw = snapshot_path(p.store.labels_dir, user).read_bytes()
        kept = snapshot_cache.load(hashlib.sha256(raw).hexdigest())
        entries, meta = store_labels._parse_snapshot(snapshot_path(p.root, user), user, raw)
        assert kept is not None
        # == tells a tuple from a list: the kept boxes and keypoints are what JSON gives
        assert kept == (entries, meta), user
        assert repr(kept[0]) == repr(entries)


def test_equal_labels_are_one_dict_and_one_annotation(tmp_path, cache):
    p = varied_project(tmp_path)
    ids = p.store.catalog.ids()
    state = load_state(p.store.labels_dir, "ann1")
    passes = [state.entries[("label", ids[n])]["after"] for n in (0, 3, 7)]
    assert passes[0] is passes[1] is passes[2]
    anns = state.annotations("label")
    assert anns[ids[0]] is anns[ids[3]] is anns[ids[7]]
    assert anns[ids[6]] is not anns[ids[0]] and anns[ids[6]].boxes


def _only_file(cache, user_snapshot: bytes):
    sha = hashlib.sha256(user_snapshot).hexdigest()
    path = cache / f"{sha}.bin"
    assert path.exists()
    return sha, path


def _planted_body(sha: str, entries: dict, meta: dict) -> bytes:
    """A well-formed cache file for snapshot `sha` that says something else."""
    body = snapshot_cache.encode(entries, meta)
    return snapshot_cache.MAGIC + bytes.fromhex(sha) + hashlib.sha256(body).digest() + body


def test_a_damaged_planted_or_exposed_cache_is_ignored(tmp_path, cache, parses, monkeypatch):
    p = varied_project(tmp_path)
    with uncached(monkeypatch):
        want = project_status(p, None)
    raw = snapshot_path(p.store.labels_dir, "ann1").read_bytes()
    sha, path = _only_file(cache, raw)
    good = path.read_bytes()
    entries, meta = snapshot_cache.load(sha)  # type: ignore[misc]
    lie = {
        k: {**e, "after": {"verdict": "fail", "defect_class": "burr"}} for k, e in entries.items()
    }
    planted = _planted_body(sha, lie, meta)

    def status_parses() -> int:
        parses.clear()
        assert project_status(Project.open(p.root), None) == want
        return parses.count("ann1")

    # the body changed where it still loads (every "pass" a "fail"): its own hash no
    # longer matches; and a byte flipped where it would not load
    assert good.count(b"pass") >= 1
    path.write_bytes(good.replace(b"pass", b"fail"))
    assert status_parses() == 1
    damaged = bytearray(good)
    damaged[-5] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert status_parses() == 1
    # the file of another snapshot under this one's name
    other = hashlib.sha256(snapshot_path(p.store.labels_dir, "ann2").read_bytes()).hexdigest()
    path.write_bytes((cache / f"{other}.bin").read_bytes())
    assert status_parses() == 1
    # cut short
    path.write_bytes(good[: len(good) // 2])
    assert status_parses() == 1
    # a well-formed file that says something else, writable by others, or in a folder
    # others can write, or a symbolic link: none of it is read
    path.write_bytes(planted)
    path.chmod(0o666)
    assert status_parses() == 1
    path.write_bytes(planted)
    path.chmod(0o600)
    cache.chmod(0o777)
    assert status_parses() == 1
    cache.chmod(0o700)
    path.unlink()
    elsewhere = tmp_path / "planted.bin"
    elsewhere.write_bytes(planted)
    elsewhere.chmod(0o600)
    path.symlink_to(elsewhere)
    assert status_parses() == 1
    path.unlink()
    if os.geteuid() == 0:  # a file of another user's in the folder
        path.write_bytes(planted)
        os.chown(path, 12345, 12345)
        assert status_parses() == 1
        path.unlink()
    # the same planted file where only the user can write would be read: the checks
    # above, not luck, kept it out
    path.write_bytes(planted)
    path.chmod(0o600)
    parses.clear()
    assert project_status(Project.open(p.root), None)["classes"]["burr"] > 0
    assert parses.count("ann1") == 0


def test_a_new_snapshot_is_never_answered_from_the_old_one(tmp_path, cache, parses, monkeypatch):
    p = varied_project(tmp_path)
    ids = p.store.catalog.ids()
    old_raw = snapshot_path(p.store.labels_dir, "ann1").read_bytes()
    before = project_status(p, None)
    with p.store.open_session("ann1") as s:
        s.commit(edits.Change(ids[10], Annotation(), Annotation(verdict="pass")))
    with uncached(monkeypatch):
        want = everything(Project.open(p.root))
    assert want["status None"]["states"]["labeled"] == before["states"]["labeled"] + 1
    assert everything(Project.open(p.root)) == want
    # an old copy of the snapshot put back: the finding is the same with the cache
    # holding that old snapshot's entries (the mark vouches for the new bytes only)
    snap = snapshot_path(p.store.labels_dir, "ann1")
    snap.write_bytes(old_raw)
    assert (cache / f"{hashlib.sha256(old_raw).hexdigest()}.bin").exists()
    with uncached(monkeypatch):
        want = everything(Project.open(p.root), queues=False)
    got = everything(Project.open(p.root), queues=False)
    assert got == want
    findings = want["status None"]["audit_findings"]
    assert any("not the last snapshot written" in f for f in findings), findings


def test_no_cache_folder_only_means_parsing(tmp_path, monkeypatch, parses):
    p = varied_project(tmp_path)  # XDG_CACHE_HOME as the test runner has it
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # nothing can be kept under it
    with uncached(monkeypatch):
        want = project_status(p, None)
    parses.clear()
    assert project_status(Project.open(p.root), None) == want
    assert project_status(Project.open(p.root), None) == want
    assert parses.count("ann1") == 2


def test_mostly_distinct_labels_are_kept_as_they_are(tmp_path, cache, parses, monkeypatch):
    """Boxes drawn one by one make every label distinct: the session keeps no cache (it
    would have to put every label through JSON), a reader keeps what it parsed (marshal
    loads it twice as fast), unmerged, and the next reader gets exactly that."""
    p = boxed_project(
        tmp_path,
        80,
        lambda n: Annotation(verdict="fail", defect_class="dent", boxes=(Box("dent", n, 1, 3, 3),)),
    )
    raw = snapshot_path(p.store.labels_dir, "ann").read_bytes()
    kept = cache / f"{hashlib.sha256(raw).hexdigest()}.bin"
    assert not kept.exists()
    with uncached(monkeypatch):
        want = project_status(p, None)
        parsed = load_state(p.store.labels_dir, "ann").entries
    parses.clear()
    assert project_status(Project.open(p.root), None) == want
    assert kept.exists()
    assert project_status(Project.open(p.root), None) == want
    assert parses.count("ann") == 1  # parsed the first time only
    assert load_state(p.store.labels_dir, "ann").entries == parsed


def test_distinct_labels_are_given_up_on_early(monkeypatch):
    """Boxes drawn one by one: kept as they are, and the search for equal labels stops
    once it cannot pay (a quarter of the labels marshalled, not every one); equal labels
    merged."""
    calls = []
    real = snapshot_cache.marshal.dumps

    def counting(value):
        calls.append(1)
        return real(value)

    monkeypatch.setattr(snapshot_cache.marshal, "dumps", counting)
    distinct = {
        ("label", f"i{n}"): {"after": {"boxes": [n]}, "ts": "", "seq": n} for n in range(4000)
    }
    assert snapshot_cache.shared(distinct) is distinct
    assert len(calls) == 4000 // 4 + 17
    calls.clear()
    mixed = dict(distinct)
    for n in range(4000, 20000):
        mixed[("label", f"i{n}")] = {"after": {"verdict": "pass"}, "ts": "", "seq": n}
    merged = snapshot_cache.shared(mixed)
    assert merged is not None and len(calls) == 20000
    passes = [e["after"] for e in merged.values() if e["after"] == {"verdict": "pass"}]
    assert len(passes) == 16000 and all(a is passes[0] for a in passes)


def test_the_cache_keeps_the_newest_within_its_budget(cache):
    entries = {
        ("label", f"i{n}"): {"after": {"boxes": [n]}, "ts": "", "seq": n} for n in range(100)
    }
    shas = [hashlib.sha256(bytes([n])).hexdigest() for n in range(5)]
    for n, sha in enumerate(shas[:4]):
        snapshot_cache.store(sha, entries, {"seq": n})
        os.utime(cache / f"{sha}.bin", ns=(n * 10**9, n * 10**9))
    assert len(list(cache.iterdir())) == 4
    size = (cache / f"{shas[0]}.bin").stat().st_size
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(snapshot_cache, "BUDGET", size * 5 // 2)  # two fit, not three
        snapshot_cache.store(shas[4], entries, {"seq": 4})
        assert sorted(p.name for p in cache.iterdir()) == sorted(f"{s}.bin" for s in shas[3:])
        assert snapshot_cache.load(shas[4]) == (entries, {"seq": 4})
        mp.setattr(snapshot_cache, "BUDGET", 10)
        snapshot_cache.store(shas[0], entries, {"seq": 9})  # the newest stays, over budget
        assert [p.name for p in cache.iterdir()] == [f"{shas[0]}.bin"]


def test_repeated_words_are_one_string_parsed_and_kept(tmp_path, cache, parses):
    """Distinct boxes of a few classes: each class, severity and verdict is one string
    object after the parse and after the kept file's load (marshal writes it once),
    and the entries are equal to what parsing gives."""
    p = boxed_project(
        tmp_path,
        60,
        lambda n: Annotation(
            verdict="fail", boxes=(Box("dent", n, 1, 3, 3, "minor"), Box("crack", 1, n, 2, 2))
        ),
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
