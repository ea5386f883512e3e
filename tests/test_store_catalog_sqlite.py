"""The SQLite catalog: migration from catalog.json, crash safety, indexed reads, and
what a reader may (not) do to the file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qclabel.core import naming
from qclabel.core.model import ImageRecord
from qclabel.errors import StoreWriteError
from qclabel.project import Project
from qclabel.store import Store

LEGACY = Path(__file__).parent / "golden" / "legacy_project"

KILLER = """
import os, signal, sys
from qclabel.core.model import ImageRecord
from qclabel.store import Store, catalog_migrate
where, when = sys.argv[1], sys.argv[2]
store = Store(sys.argv[3])
def records():
    for n in range(5000):
        if n == 4000 and when == "add":
            os.kill(os.getpid(), signal.SIGKILL)
        i = f"k{n:015d}"
        yield ImageRecord(i, i * 4, f"src/{i}.png", f"{i}.png", 64, 48)
if when == "add":
    store.catalog.add(records())
else:  # die inside the migration, at the step named
    real = getattr(catalog_migrate.os, where)
    def die(*a, **k):
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(catalog_migrate.os, where, die)
    len(store.catalog)
"""


def legacy_project(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    root.mkdir()
    for name in ("qclabel.toml", "catalog.json"):
        shutil.copy(LEGACY / name, root / name)
    return root


def legacy_docs() -> list[dict]:
    return list(json.loads((LEGACY / "catalog.json").read_text())["images"].values())


def record(i: str, **kw) -> ImageRecord:
    return ImageRecord(i, i * 4, f"src/{i}.png", f"{i}.png", 64, 48, **kw)


def test_a_round_one_project_migrates_on_first_open(tmp_path: Path) -> None:
    root = legacy_project(tmp_path)
    project = Project.open(root)
    docs = legacy_docs()
    catalog = project.store.catalog
    assert [r.to_dict() for r in catalog.all()] == docs  # every field, the same order
    assert (root / "catalog.sqlite").is_file() and not (root / "catalog.json").exists()
    assert (root / "catalog.json.migrated").read_bytes() == (LEGACY / "catalog.json").read_bytes()
    assert len(catalog) == 12 and catalog.find("3").id == docs[2]["id"]
    assert catalog.where("lot", "L07") == [d["id"] for d in docs if d["fields"]["lot"] == "L07"]
    assert catalog.where("serial", "0004") == [docs[3]["id"]]  # not indexed: json_extract
    # the migrated file is an ordinary SQLite database any tool reads
    con = sqlite3.connect(root / "catalog.sqlite")
    assert con.execute("SELECT COUNT(*) FROM images").fetchone() == (12,)
    # and a later ingest appends after the migrated images
    added = catalog.add([record("z" * 16)])
    assert added[0].seq == 13 and Store(root).catalog.ids()[-1] == "z" * 16


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_kill_9_during_migration_leaves_the_old_catalog_readable(tmp_path: Path, step) -> None:
    root = legacy_project(tmp_path)
    run = subprocess.run([sys.executable, "-c", KILLER, step, "migrate", str(root)])
    assert run.returncode == -signal.SIGKILL
    assert not (root / "catalog.sqlite").exists()  # never a half-built catalog in place
    assert (root / "catalog.json").read_bytes() == (LEGACY / "catalog.json").read_bytes()
    catalog = Store(root).catalog  # the next command starts over and finishes
    assert [r.to_dict() for r in catalog.all()] == legacy_docs()
    assert sorted(p.name for p in root.iterdir()) == [
        "catalog.json.lock",
        "catalog.json.migrated",
        "catalog.sqlite",
        "catalog.sqlite.lock",
        "qclabel.toml",
    ]


def test_kill_9_inside_a_batch_adds_nothing(tmp_path: Path) -> None:
    Store(tmp_path).catalog.add([record("a")])
    run = subprocess.run([sys.executable, "-c", KILLER, "-", "add", str(tmp_path)])
    assert run.returncode == -signal.SIGKILL
    assert Path(f"{tmp_path}/catalog.sqlite-journal").exists()  # the batch was under way
    catalog = Store(tmp_path).catalog
    assert catalog.ids() == ["a"]  # the reader had the writer roll the journal back
    assert catalog.add([record("b")])[0].seq == 2
    assert not Path(f"{tmp_path}/catalog.sqlite-journal").exists()


def test_a_planted_journal_is_never_rolled_back(tmp_path: Path) -> None:
    """A real hot journal (from a killed batch) that another user now owns: neither the
    writer nor a reader applies it; both name it."""
    Store(tmp_path).catalog.add([record("a")])
    subprocess.run([sys.executable, "-c", KILLER, "-", "add", str(tmp_path)])
    journal = tmp_path / "catalog.sqlite-journal"
    os.chown(journal, 4321, 4321)  # somebody else's file
    with pytest.raises(StoreWriteError, match="planted"):
        Store(tmp_path).catalog.add([record("b")])
    with pytest.raises(StoreWriteError, match="planted"):
        Store(tmp_path).catalog.ids()
    os.chown(journal, 0, 0)  # the owner's own journal after all: rolled back
    assert Store(tmp_path).catalog.ids() == ["a"]


def test_reading_creates_no_file(tmp_path: Path) -> None:
    Store(tmp_path).catalog.add([record("a"), record("b")])
    before = sorted(p.name for p in tmp_path.iterdir())
    catalog = Store(tmp_path).catalog
    assert catalog.ids() == ["a", "b"] and len(catalog) == 2 and "b" in catalog
    assert list(catalog.iter(batch=1)) == catalog.all()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    empty = Store(tmp_path / "new").catalog
    (tmp_path / "new").mkdir()
    assert empty.ids() == [] and len(empty) == 0 and "a" not in empty
    assert list((tmp_path / "new").iterdir()) == []


def test_indexed_lookups_agree_with_the_whole_list(tmp_path: Path) -> None:
    catalog = Store(tmp_path).catalog
    recs = [
        ImageRecord(
            f"{n:02d}ab{n:012d}",
            "0" * 64,
            f"/cam{n % 2}/{n % 3:04d}.png",
            f"c/{n}.png",
            8,
            8,
            fields={"lot": f"L{n % 4}", "camera": f"cam{n % 2}"},
            page=n % 5 == 4,
        )
        for n in range(30)
    ]
    catalog.add(recs)
    every = catalog.all()
    for ref in (
        "0001.png",
        "cam1/0001.png",
        "/cam0/0002.png",
        "0001.png (page 2)",
        "05ab",
        "05",
        "1",
        "nothing.png",
        "",
    ):
        assert catalog.named(ref) == naming.find(every, ref), ref
    assert catalog.find("0") is None and catalog.find("07a").id == recs[7].id  # prefix
    assert catalog.find("30").id == recs[29].id and catalog.at(31) is None
    assert catalog.position(recs[12].id) == 13 and catalog.position("nope") is None
    assert catalog.ids_after(27) == [r.id for r in recs[27:]]
    assert catalog.counts("lot") == {"L0": 8, "L1": 8, "L2": 7, "L3": 7}
    assert catalog.where("camera", "cam1") == [r.id for r in recs if r.fields["camera"] == "cam1"]
    assert list(catalog.get_many([recs[3].id, "nope", recs[1].id])) == [recs[3].id, recs[1].id]
    with pytest.raises(KeyError):
        catalog.get("nope")


def test_another_processes_commit_is_seen_without_reload(tmp_path: Path) -> None:
    reader = Store(tmp_path).catalog
    Store(tmp_path).catalog.add([record("a")])
    assert reader.ids() == ["a"]
    Store(tmp_path).catalog.update([ImageRecord("a", "a", "a", "a", 7, 7), record("b")])
    assert reader.ids() == ["a", "b"] and reader.get("a").width == 7 and len(reader) == 2


@pytest.fixture
def other_user():
    """A real second OS user (the test runs as root)."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd to create a user")
    name = f"sclrd{os.getpid() % 100000}"
    subprocess.run(["useradd", "-M", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def _as(user: str, root: Path) -> list:
    """What that user's catalog reader sees, read in a forked child that dropped root."""
    import pwd

    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            pw = pwd.getpwnam(user)
            os.setgroups([]), os.setgid(pw.pw_gid), os.setuid(pw.pw_uid)
            c = Store(root).catalog
            out = [len(c), c.ids()[:2], c.where("lot", "L07")[:1]]
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            out = [repr(exc)]
        os.write(wr, json.dumps(out).encode())
        os._exit(0)
    os.close(wr)
    os.waitpid(pid, 0)
    with os.fdopen(rd) as fh:
        return json.loads(fh.read())


def test_another_user_reads_without_creating_or_migrating(other_user) -> None:
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="qcl-cat-"))
    try:
        os.chmod(base, 0o755)
        root = legacy_project(base)
        os.chmod(root, 0o3777)  # a shared folder anybody may create files in
        docs = legacy_docs()
        before = sorted(p.name for p in root.iterdir())
        # not the catalog's owner: reads catalog.json in memory, migrates nothing
        assert _as(other_user, root) == [12, [docs[0]["id"], docs[1]["id"]], [docs[0]["id"]]]
        assert sorted(p.name for p in root.iterdir()) == before
        assert len(Store(root).catalog) == 12  # the owner's first command migrates
        before = sorted(p.name for p in root.iterdir())
        assert _as(other_user, root)[0] == 12  # a read-only reader of the SQLite file...
        assert sorted(p.name for p in root.iterdir()) == before  # ...made no -wal, -shm
    finally:
        shutil.rmtree(base)


def test_dual_images_by_index_are_the_plans(tmp_path: Path) -> None:
    from qclabel.qa.plan import build_plan, dual_image_ids, settings

    project = Project.init(tmp_path / "p", "metal-stamping", user="admin")
    for user in ("ann", "bob"):
        project.add_role("admin", user, "annotator")
    tasks = [{"task": "a"}, {}, {"task": ""}, {"task": "b"}, {"lot": "L1"}]
    project.store.catalog.add([record(f"i{n:04d}", fields=tasks[n % 5]) for n in range(2000)])
    project = Project.open(project.root)
    plan = build_plan(project)
    assert sorted(dual_image_ids(project)) == sorted(plan.dual_images())
    assert len(plan.dual_images()) == 3 * settings(project)["dual_first_n"]  # a, "", b
