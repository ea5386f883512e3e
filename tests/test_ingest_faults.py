"""Ingest when the disk or the permissions say no: a read-only project is one line with
exit code 5; a catalog write that fails lists every file that did not enter and leaves
no canonical file behind; an unreadable folder is reported (not taken for an empty
one); an unreadable file named on the command line does not stop the others.

Permissions are real: the unreadable cases run with the effective uid of a throwaway
OS user (`useradd`, root only; skipped with the reason otherwise)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from qclabel.cli import main
from qclabel.ingest import ingest_paths, runner
from qclabel.project import Project
from qclabel.store import catalog_db
from os_users import effective, throwaway_users
from test_formats_common import tree_digest


def rgba_images(folder: Path, n: int) -> list[Path]:
    """RGBA PNGs: alpha is converted, so each gets a canonical file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        arr = np.full((12, 16, 4), (i * 17) % 256, np.uint8)
        arr[..., 3] = 200
        out.append(folder / f"img{i}.png")
        Image.fromarray(arr).save(out[-1])
    return out


def one_line(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qclabel: error: "), result.stderr
    return lines[0]


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_read_only_project_is_one_line(small_disk, tmp_path, as_user):
    as_user("admin")
    project = Project.init(small_disk / "p", "metal-stamping", user="admin")
    src = rgba_images(tmp_path / "src", 2)
    before = tree_digest(project.root)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result = CliRunner().invoke(
        main, ["ingest", str(project.root), *map(str, src), "--workers", "1"]
    )
    line = one_line(result, 5)
    assert ".ingest.lock" in line and "Read-only file system" in line
    assert tree_digest(project.root) == before


@pytest.mark.parametrize("fail_at", [1, 2])
def test_failed_catalog_write_leaves_no_orphans(tmp_path, monkeypatch, as_user, fail_at):
    """The catalog write fails (full disk) at its first or second batch: the images
    of earlier batches stay, every other one is listed and has no canonical file."""
    as_user("admin")
    project = Project.init(tmp_path / "p", "metal-stamping", user="admin")
    src = rgba_images(tmp_path / "src", 5)
    monkeypatch.setattr(runner, "BATCH", 2)
    real_open, calls = catalog_db.open_writer, []

    def open_writer(path):  # the catalog's writer, at the start of each batch
        calls.append(1)
        if len(calls) >= fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path)

    monkeypatch.setattr(catalog_db, "open_writer", open_writer)
    result = CliRunner().invoke(
        main, ["ingest", str(project.root), str(tmp_path / "src"), "--workers", "1"]
    )
    line = one_line(result, 5)
    assert "cannot write the catalog" in line and "No space left on device" in line
    kept = 2 * (fail_at - 1)
    assert f"{kept} added, 0 duplicates, {5 - kept} failed" in result.stdout
    for p in src[kept:]:
        assert f"{p}: not added: the catalog could not be written" in result.stdout
    monkeypatch.setattr(catalog_db, "open_writer", real_open)
    records = Project.open(project.root).store.catalog.all()
    assert len(records) == kept
    canonical = sorted(p.name for p in (project.root / "canonical").glob("*"))
    assert canonical == sorted(Path(r.file).name for r in records)


# -- real permissions --------------------------------------------------------------------
@pytest.fixture
def os_user():
    with throwaway_users("inp") as (users, shared):
        yield users[0], shared


def test_unreadable_folder_and_file_are_reported_and_the_rest_ingested(os_user):
    user, shared = os_user
    src = shared / "src"
    good = rgba_images(src, 2)
    locked_dir = src / "locked"
    rgba_images(locked_dir, 1)
    locked_file = src / "secret.png"
    shutil.copy(good[0], locked_file)
    with open(locked_file, "ab") as fh:  # other bytes: not a duplicate of good[0]
        fh.write(b"x")
    other = shared / "other.png"
    Image.fromarray(np.full((9, 9, 4), 99, np.uint8)).save(other)
    locked_dir.chmod(0o000)
    locked_file.chmod(0o000)
    for p in (src, *good, other):
        os.chown(p, user.pw_uid, user.pw_gid)
    project_dir = shared / "p"
    with effective(user):
        project = Project.init(project_dir, "metal-stamping", user=user.pw_name)
        report = ingest_paths(project, [src, locked_file, other], workers=1)
    failed = dict(report.failed)
    assert failed[str(locked_dir)] == "cannot read folder: Permission denied"
    assert "Permission denied" in failed[str(locked_file)]
    assert sorted(Path(r.source).name for r in report.added) == [
        "img0.png",
        "img1.png",
        "other.png",
    ]
