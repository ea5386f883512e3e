"""`import --as USER`: all or nothing (one batch, one fsync), only into an annotator's
journal, and only by USER's own process or root (a journal is owned by its writer).
A read-only project refuses with one line before anything is read."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.formats import dataset_for, export_dataset, import_labels
from qclabel.project import Project
from qclabel.store import journal
from qclabel.store.audit import verify_journal
from os_users import effective, throwaway_users
from test_formats_common import make_box_project, tree_digest, write_images


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("atomic")
    project = make_box_project(tmp)
    return project, export_dataset(dataset_for(project), "coco", tmp / "coco", link="none").out


def one_line(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qclabel: error: "), result.stderr
    return lines[0]


def test_io_error_mid_import_leaves_no_label(exported, monkeypatch, as_user):
    """The write fails half-way through the second image's line: not one label of the
    import is acknowledged (per-label commits used to keep the first)."""
    as_user("admin")
    project, src = exported
    second = sorted(project.store.catalog.all(), key=lambda r: r.seq)[1].id
    real = journal._write_all

    def torn(fd: int, data: bytes) -> None:
        at = data.find(second.encode())
        if at < 0:
            return real(fd, data)
        os.write(fd, data[:at])  # part of the batch reaches the file, then EIO
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(journal, "_write_all", torn)
    result = CliRunner().invoke(
        main, ["import", str(project.root), str(src), "--format", "coco", "--as", "carol"]
    )
    assert "label not saved" in one_line(result, 5)
    monkeypatch.setattr(journal, "_write_all", real)
    state = Project.open(project.root).store.state("carol")
    assert state.annotations("label") == {}
    assert verify_journal(project.root / "labels", "carol").ok
    result = CliRunner().invoke(
        main, ["import", str(project.root), str(src), "--format", "coco", "--as", "carol"]
    )
    assert result.exit_code == 0 and "(3 changed)" in result.stdout, result.stderr


def test_import_is_one_write(exported, monkeypatch, as_user):
    as_user("admin")
    project, src = exported
    syncs = []
    real = journal.os.fdatasync
    monkeypatch.setattr(
        journal.os,
        "fdatasync",
        lambda fd: (syncs.append(os.readlink(f"/proc/self/fd/{fd}")), real(fd)),
    )
    import_labels(project, "coco", src, "admin", as_user="bob")
    assert sorted(Path(s).name for s in syncs if s.endswith(".jsonl")) == ["bob.jsonl"]
    assert len(Project.open(project.root).store.state("bob").annotations("label")) == 3


def test_import_as_needs_an_annotator(exported, as_user):
    as_user("admin")
    project, src = exported
    before = tree_digest(project.root)
    result = CliRunner().invoke(
        main, ["import", str(project.root), str(src), "--format", "coco", "--as", "zed"]
    )
    assert "zed does not hold the annotator role" in one_line(result, 3)
    assert tree_digest(project.root) == before


def test_read_only_project_refuses_the_session(tmp_path, as_user):
    as_user("admin")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    try:
        project = make_box_project(mnt)
        src = export_dataset(dataset_for(project), "coco", tmp_path / "coco", link="none").out
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        result = CliRunner().invoke(
            main, ["import", str(project.root), str(src), "--format", "coco", "--as", "bob"]
        )
        assert "Read-only file system" in one_line(result, 5)
        result = CliRunner().invoke(
            main, ["import", str(project.root), str(src), "--format", "coco", "--predictions", "m1"]
        )
        assert "suggestions.json: Read-only file system" in one_line(result, 5)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


# -- real OS users -----------------------------------------------------------------------
@pytest.fixture
def two_users():
    with throwaway_users("inq", 2) as found:
        yield found


def test_only_user_or_root_imports_as_user(two_users):
    """An admin who is another OS user cannot write USER's journal (it would be owned by
    the admin, not USER); USER importing as USER, or root, can."""
    (admin, other), shared = two_users
    from qclabel.ingest import ingest_paths

    write_images(shared / "src")
    for p in [shared / "src", *(shared / "src").iterdir()]:
        os.chown(p, admin.pw_uid, admin.pw_gid)
    with effective(admin):
        project = Project.init(shared / "p", "metal-stamping", user=admin.pw_name)
        project.add_role(admin.pw_name, other.pw_name, "annotator")
        ingest_paths(project, [shared / "src"], workers=1)
        labelme = shared / "a.json"
        labelme.write_text(
            '{"imagePath": "a.png", "shapes": [{"label": "scratch", '
            '"shape_type": "rectangle", "points": [[1, 2], [9, 9]]}]}'
        )
        before = tree_digest(project.root)
        result = CliRunner().invoke(
            main,
            [
                "import",
                str(project.root),
                str(labelme),
                "--format",
                "labelme",
                "--as",
                other.pw_name,
            ],
        )
        line = one_line(result, 3)
        assert f"{other.pw_name}'s journal is owned by {other.pw_name}" in line
        assert tree_digest(project.root) == before
        result = CliRunner().invoke(
            main,
            [
                "import",
                str(project.root),
                str(labelme),
                "--format",
                "labelme",
                "--as",
                admin.pw_name,
            ],
        )
        assert result.exit_code == 0, result.stderr
    assert (project.root / "labels" / f"{admin.pw_name}.jsonl").stat().st_uid == admin.pw_uid


def test_full_disk_at_session_open_is_one_line(tmp_path, as_user):
    """The disk fills up before the import's session can create its files: one line,
    exit code 5, and no label of the import is readable afterwards."""
    as_user("admin")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    try:
        project = make_box_project(mnt)
        src = export_dataset(dataset_for(project), "coco", tmp_path / "coco", link="none").out
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        result = CliRunner().invoke(
            main, ["import", str(project.root), str(src), "--format", "coco", "--as", "bob"]
        )
        assert "No space left on device" in one_line(result, 5)
        (mnt / "filler").unlink()
        assert Project.open(project.root).store.state("bob").annotations("label") == {}
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
