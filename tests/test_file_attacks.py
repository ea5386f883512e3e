"""Nobody can replace another person's files: the six attacks, by real OS users.

The project is set up as the README's guarantees section says (as its owner qsadm:
`mkdir DIR && chgrp qsproj DIR && qclabel init DIR --privileged-group qspriv`). Each
step runs in a forked child that dropped root for one of these users (their own uid,
gid and groups), so the kernel's checks are the real ones:

    qsadm  owner and admin (qsproj, qspriv)     qsadj  adjudicator (qsproj, qspriv)
    qsbob  annotator (qsproj)                   qsann  annotator, not started yet
    qsmal  annotator, the attacker (qsproj)
"""

from __future__ import annotations

import fcntl

import os
import pickle
import pwd
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image

from qclabel.core import edits
from qclabel.errors import PermissionDenied
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.qa.final import final_labels
from qclabel.store import Store
from qclabel.store.audit import verify_project
from qclabel.store.folders import check_setup
from test_qa_support import write_images

USERS = {
    "qsadm": "qsproj,qspriv",
    "qsadj": "qsproj,qspriv",
    "qsbob": "qsproj",
    "qsann": "qsproj",
    "qsmal": "qsproj",
}
GROUPS = ("qsproj", "qspriv")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None,
    reason="needs root and useradd to create the OS users the attacks are made by",
)


@pytest.fixture(scope="module")
def users():
    # The users' names are fixed: under `pytest -n 2` another worker may run this
    # module's other tests at the same time, and would create and delete the same
    # users under them. One worker at a time holds them (a lock it waits for, held
    # only while its module fixture lives, so no worker waits holding it).
    with open("/tmp/qclabel-file-attack-users.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from _users()


def _users():
    from os_users import users_and_groups

    yield from users_and_groups(USERS, GROUPS, _warm_up)


def _warm_up() -> None:
    """The children cannot read this Python's standard library (it lives under /root):
    run every step once as root, so that each module they need is imported already."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        p = Project.init(root, "metal-stamping")
        p.add_role(_me(), "x", "annotator")
        ingest_paths(p, [write_images(Path(tmp) / "i", 2)], workers=1)
        _label(root, 0, "pass", "x")
        _finals(root), _audit(root), _status_counts(root), check_setup(root, None)
        _read_bob(root)
        try:
            p.store.open_session("x").close()
            p.store.open_session("x")
        except Exception:
            pass


def as_os(name: str, fn, *args):
    """Run fn(*args) in a child process as the OS user `name`; return its result, or
    re-raise its error in the test."""
    Image.init()  # Pillow's plugins, while root can still read them
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(r)
            pw = pwd.getpwnam(name)
            os.setgroups(os.getgrouplist(name, pw.pw_gid))
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            os.umask(0o022)
            out = ("ok", fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent
            out = ("err", exc)
        try:
            data = pickle.dumps(out)
        except Exception:
            data = pickle.dumps(("err", RuntimeError(repr(out))))
        os.write(w, data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "err":
        raise value
    return value


def _setup(base: Path, images: Path) -> str:
    root = base / "proj"
    root.mkdir()
    os.chown(root, -1, __import__("grp").getgrnam("qsproj").gr_gid)
    p = Project.init(root, "metal-stamping", privileged_group="qspriv")
    for user in ("qsbob", "qsann", "qsmal"):
        p.add_role("qsadm", user, "annotator")
    p.add_role("qsadm", "qsadj", "adjudicator")
    ingest_paths(p, [images], workers=1)
    return str(root)


@pytest.fixture
def proj(users, tmp_path):
    base = Path(tempfile.mkdtemp(prefix="qs-", dir="/tmp"))
    try:
        base.chmod(0o755)
        images = write_images(base / "images", 3)
        os.chown(base, pwd.getpwnam("qsadm").pw_uid, -1)
        root = Path(as_os("qsadm", _setup, base, images))
        as_os("qsbob", _label, root, 0, "pass")
        yield root
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _label(root: Path, n: int, verdict: str, user: str | None = None) -> str:
    p = Project.open(root)
    image = p.store.catalog.ids()[n]
    with p.store.open_session(user or _me()) as s:
        s.commit(edits.apply(image, s.annotation(image), edits.set_verdict(verdict)))
    return image


def _me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _finals(root: Path) -> dict:
    return {
        i: (f.annotation.verdict, f.annotators) for i, f in final_labels(Project.open(root)).items()
    }


def _audit(root: Path) -> list[str]:
    p = Project.open(root)
    return [x for f in verify_project(p.root, p.store.authority()) for x in f.problems]


def _try(fn, *args) -> str:
    try:
        fn(*args)
    except OSError as exc:
        return type(exc).__name__
    return "done"


# -- 1. deleting and rewriting another annotator's journal and snapshot ---------------
def _rewrite_bobs_files(root: Path) -> dict:
    labels = root / "labels"
    out = {
        "unlink": _try(os.unlink, labels / "qsbob.jsonl"),
        "unlink_snapshot": _try(os.unlink, labels / "qsbob.snapshot.json"),
    }
    (labels / "mine").write_text("x")
    out["rename"] = _try(os.rename, labels / "mine", labels / "qsbob.jsonl")
    return out


def forged_files(root: Path, user: str, n: int, verdict: str) -> dict[str, bytes]:
    """A well-formed journal, mark and snapshot of `user` (a fresh chain from genesis)
    labeling image n: what an attacker writes without qclabel's checks."""
    image = Project.open(root).store.catalog.ids()[n]
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp)).open_session(user) as s:
            s.commit(edits.apply(image, s.annotation(image), edits.set_verdict(verdict)))
        return {
            p.name: p.read_bytes()
            for p in (Path(tmp) / "labels").iterdir()
            if not p.name.endswith(".lock")
        }


def _plant(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / "labels" / name).unlink(missing_ok=True)
        (root / "labels" / name).write_bytes(data)


def test_1_nobody_deletes_or_replaces_another_journal(proj):
    before = as_os("qsadj", _finals, proj)
    assert as_os("qsmal", _rewrite_bobs_files, proj) == {
        "unlink": "PermissionError",
        "unlink_snapshot": "PermissionError",
        "rename": "PermissionError",
    }
    assert as_os("qsadj", _finals, proj) == before
    # without the sticky bit (the old setup) the kernel lets it happen; qclabel does not
    (proj / "labels").chmod(0o2777)
    as_os("qsmal", _plant, proj, forged_files(proj, "qsbob", 0, "fail"))
    with pytest.raises(Exception, match="does not open over another user's file"):
        as_os("qsmal", _label, proj, 1, "pass", "qsbob")  # nor does qclabel write one
    assert as_os("qsadj", _finals, proj) == {}  # the forged fail is not qsbob's
    problems = as_os("qsadm", _audit, proj)
    assert any("qsbob.jsonl: owned by qsmal, not by qsbob" in p for p in problems)
    # qsbob labels on (under qsbob@TAG); what the plant deleted only a backup restores
    image = as_os("qsbob", _label, proj, 1, "pass")
    assert as_os("qsadj", _finals, proj) == {image: ("pass", ("qsbob",))}


# -- 2. pre-creating the journal of a user who has not started yet ---------------------
def _exportable(root: Path) -> bool:
    from qclabel.store.replay import refuse_damage

    refuse_damage(Project.open(root).store.all_states(), "an export")
    return True


def test_2_a_journal_planted_for_someone_else_is_not_theirs(proj):
    as_os("qsmal", _plant, proj, forged_files(proj, "qsann", 1, "fail"))
    finals = as_os("qsadj", _finals, proj)
    assert all("qsann" not in who for _, who in finals.values())
    assert as_os("qsadj", _exportable, proj)  # a plant does not stop every export
    problems = as_os("qsadm", _audit, proj)
    assert any("qsann.jsonl: owned by qsmal, not by qsann" in p for p in problems)
    # qsann is not locked out: the session keeps qsann's files under qsann@TAG
    image = as_os("qsann", _label, proj, 1, "pass")
    assert as_os("qsadj", _finals, proj)[image] == ("pass", ("qsann",))
    assert as_os("qsann", _label, proj, 1, "fail") == image
    assert as_os("qsadj", _finals, proj)[image] == ("fail", ("qsann",))
    own = [p.name for p in (proj / "labels").iterdir() if p.name.startswith("qsann@")]
    assert len([n for n in own if n.endswith(".jsonl")]) == 1
    assert all(
        p.stat().st_uid == pwd.getpwnam("qsann").pw_uid
        for p in (proj / "labels").iterdir()
        if p.name in own
    )
    problems = as_os("qsadm", _audit, proj)
    assert any("qsann.jsonl: owned by qsmal" in p for p in problems)  # still reported
    assert as_os("qsadm", lambda: any(not c.ok for c in check_setup(proj, "qspriv")))
    planted = as_os("qsadj", _status_counts, proj)["planted"]
    assert planted and all("owned by qsmal" in line for line in planted)


# -- 3. pre-creating (and holding) the lock of a user who has not started yet ----------
def _hold_lock(root: Path, w: int) -> None:
    import fcntl

    fd = os.open(root / "labels" / "qsann.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(w, b"1")
    time.sleep(60)


def test_3_a_planted_lock_locks_nobody_out(proj):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            pw = pwd.getpwnam("qsmal")
            os.setgroups(os.getgrouplist("qsmal", pw.pw_gid))
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            _hold_lock(proj, w)
        finally:
            os._exit(0)
    try:
        assert os.read(r, 1) == b"1"
        image = as_os("qsann", _label, proj, 2, "fail")
        assert as_os("qsadj", _finals, proj)[image] == ("fail", ("qsann",))
        problems = as_os("qsadm", _audit, proj)
        assert any("qsann.lock: owned by qsmal" in p for p in problems)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
        os.close(w)


# -- 4. replacing qclabel.toml (making oneself admin) by rename ------------------------
def _replace_config(root: Path) -> str:
    text = (root / "qclabel.toml").read_text().replace('"qsadm",', '"qsadm",\n    "qsmal",')
    (root / ".evil.toml").write_text(text)
    return _try(os.rename, root / ".evil.toml", root / "qclabel.toml")


def _open(root: Path) -> bool:
    return Project.open(root).has_role("qsmal", "admin")


def test_4_nobody_replaces_the_config(proj):
    assert as_os("qsmal", _replace_config, proj) == "PermissionError"
    assert as_os("qsadm", _open, proj) is False
    with pytest.raises(PermissionDenied, match="only the project owner qsadm"):
        as_os("qsmal", Project.open(proj).save_config)
    proj.chmod(0o2770)  # no sticky bit: the rename goes through, and is refused on open
    assert as_os("qsmal", _replace_config, proj) == "done"
    with pytest.raises(
        PermissionDenied, match="qclabel.toml: owned by qsmal, not by the project owner qsadm"
    ):
        as_os("qsadm", _open, proj)


# -- 5. replacing catalog.sqlite by rename ----------------------------------------------
def _replace_catalog(root: Path) -> str:
    import sqlite3

    sqlite3.connect(root / ".cat.sqlite").execute(
        "CREATE TABLE IF NOT EXISTS images (x)"
    ).connection.close()
    return _try(os.rename, root / ".cat.sqlite", root / "catalog.sqlite")


def test_5_nobody_replaces_the_catalog(proj):
    assert as_os("qsmal", _replace_catalog, proj) == "PermissionError"
    assert len(as_os("qsadj", lambda: Project.open(proj).store.catalog.ids())) == 3
    proj.chmod(0o2770)
    assert as_os("qsmal", _replace_catalog, proj) == "done"
    with pytest.raises(PermissionDenied, match="catalog.sqlite: owned by qsmal"):
        as_os("qsadj", Project.open, proj)


# -- 6. reading another annotator's labels (blind dual annotation) ----------------------
def _read_bob(root: Path) -> dict:
    labels = root / "labels"
    return {
        "journal": _try((labels / "qsbob.jsonl").read_bytes),
        "snapshot": _try((labels / "qsbob.snapshot.json").read_bytes),
        "mark": _try((labels / "qsbob.ack").read_bytes),
        "list": _try(os.listdir, labels),
    }


def _status_counts(root: Path) -> dict:
    from qclabel.status import project_status

    s = project_status(Project.open(root), viewer=_me())
    return {
        "annotators": s["annotators"],
        "findings": s["audit_findings"],
        "planted": s["planted_files"],
    }


def test_6_journals_are_readable_by_their_writer_and_the_privileged_group(proj):
    assert as_os("qsann", _read_bob, proj) == {
        "journal": "PermissionError",
        "snapshot": "PermissionError",
        "mark": "PermissionError",
        "list": "done",
    }
    assert set(as_os("qsadj", _read_bob, proj).values()) == {"done"}
    assert set(as_os("qsbob", _read_bob, proj).values()) == {"done"}
    as_os("qsann", _label, proj, 1, "fail")
    # the annotator's own commands keep working and show only their own labels
    assert as_os("qsann", _status_counts, proj) == {
        "annotators": {"qsann": {"labeled": 1, "flagged": 0, "skipped": 0}},
        "findings": [],
        "planted": [],
    }
    assert sorted(as_os("qsadm", _status_counts, proj)["annotators"]) == ["qsann", "qsbob"]
    modes = {
        p.name: oct(p.stat().st_mode & 0o777)
        for p in (proj / "labels").iterdir()
        if p.name.startswith("qsbob")
    }
    assert set(modes.values()) == {"0o640"}, modes
    assert as_os("qsadm", lambda: [c.line for c in check_setup(proj, "qspriv") if not c.ok]) == []
