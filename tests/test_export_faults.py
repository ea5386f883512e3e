"""Export onto a full disk, a read-only filesystem or through a symlinked --out, for
every format: one `qclabel: error:` line, exit code 5, the previous export untouched
and no hidden build folder left. The disk is real: a tiny tmpfs mounted for the test
(root only; skipped with the reason otherwise)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from test_formats_common import make_box_project, tree_digest

FORMATS = ("yolo", "coco", "voc", "tfrecord", "csv", "jsonl")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_box_project(tmp_path_factory.mktemp("faults"))


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KB tmpfs; remounted read-only or filled by the tests."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def export(project, fmt: str, out: Path):
    return CliRunner().invoke(
        main, ["export", str(project.root), "--format", fmt, "--out", str(out)]
    )


def fill(mnt: Path) -> None:
    fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def one_line(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qclabel: error: "), result.stderr
    return lines[0]


def hidden(mnt: Path) -> list[str]:
    """Build folders left behind (the export's own, or a symlink's stray)."""
    return [p.name for p in mnt.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_full_disk_keeps_the_previous_export(project, small_disk, fmt, as_user):
    as_user("admin")
    out = small_disk / "out"
    assert export(project, fmt, out).exit_code == 0
    before = tree_digest(out)
    fill(small_disk)
    line = one_line(export(project, fmt, out), 5)
    assert "No space left on device" in line and str(out) in line
    assert tree_digest(out) == before
    assert hidden(small_disk) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_only_folder_is_one_line(project, small_disk, fmt, as_user):
    as_user("admin")
    out = small_disk / "out"
    assert export(project, fmt, out).exit_code == 0
    before = tree_digest(out)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    line = one_line(export(project, fmt, out), 5)
    assert "Read-only file system" in line
    assert one_line(export(project, fmt, small_disk / "new" / "out"), 5)
    assert tree_digest(out) == before


def test_symlinked_out_is_followed(project, tmp_path, as_user):
    as_user("admin")
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)  # dangling at first
    for _ in range(2):  # a new export, then replacing an earlier one
        result = export(project, "coco", link)
        assert result.exit_code == 0, result.stderr
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert (real / "qclabel_version.json").is_file()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_unwritable_folder_as_a_plain_user():
    """The report's repro: an admin who is an ordinary OS user exports into a folder
    they may not write (root's): one line, exit 5, not a traceback."""
    from os_users import effective, throwaway_users
    from qclabel.ingest import ingest_paths
    from qclabel.project import Project
    from test_formats_common import write_images

    with throwaway_users("inx") as ([user], shared):
        forbidden = shared / "root-only"
        forbidden.mkdir(mode=0o755)
        write_images(shared / "src")
        for p in [shared / "src", *(shared / "src").iterdir()]:
            os.chown(p, user.pw_uid, user.pw_gid)
        with effective(user):
            project = Project.init(shared / "p", "metal-stamping", user=user.pw_name)
            ingest_paths(project, [shared / "src"], workers=1)
            for out in (forbidden / "out", forbidden / "deeper" / "out"):
                res = CliRunner().invoke(
                    main, ["export", str(project.root), "--format", "yolo", "--out", str(out)]
                )
                assert "Permission denied" in one_line(res, 5)
        assert list(forbidden.iterdir()) == []
