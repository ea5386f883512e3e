"""A bad-input corpus, one file per kind: each is reported with its file and reason,
the run goes on, the good files enter, and nothing is half-entered."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from qclabel.cli import main
from qclabel.ingest import ingest_paths, load_canonical_array

from test_ingest_helpers import make_project, save, texture

# The last one is not UTF-8 (a Latin-1 byte): Python hands it over surrogate-escaped.
ODD_NAMES = (
    "with space.png",
    "ünïcødé ß.png",
    "new\nline.png",
    "tab\there.jpg",
    os.fsdecode(b"caf\xe9.png"),
)


def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height 1-bit pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def build_corpus(folder: Path) -> dict[str, str]:
    """Write the corpus; returns {file name: expected reason fragment} for bad files."""
    folder.mkdir(parents=True)
    jpeg = io.BytesIO()
    Image.fromarray(texture(64, 64)).save(jpeg, format="JPEG")
    png = _png_bytes(texture(64, 64, seed=1))
    pages = [Image.fromarray(texture(64, 64, seed=s, channels=1)) for s in range(2)]
    tif = io.BytesIO()
    pages[0].save(tif, format="TIFF", save_all=True, append_images=pages[1:])
    files = {
        "zero.jpg": b"",
        "truncated.jpg": jpeg.getvalue()[: len(jpeg.getvalue()) // 2],
        "truncated.png": png[: len(png) // 2],
        "corrupt.png": png[:100] + bytes(range(256)) + png[356:],  # damaged pixel data
        "text.jpg": b"this is a shift report, not an image\n",
        "bomb.png": _bomb(60000, 60000),
        "over-limit.png": _bomb(3000, 3000),
        "gif.png": _gif(),
        "page2-cut.tif": tif.getvalue()[:-100],
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    Image.fromarray(np.full((8, 8), 0.5, np.float32)).save(folder / "float.tif")
    Image.fromarray(np.full((8, 8), 1 << 20, np.int32)).save(folder / "int32.tif")
    os.symlink(folder / "gone.png", folder / "broken-link.png")
    os.symlink(folder / "loop.png", folder / "loop.png")
    os.mkfifo(folder / "fifo.png")
    return {
        "zero.jpg": "empty file (0 bytes)",
        "truncated.jpg": "truncated or corrupt image data",
        "truncated.png": "truncated or corrupt image data",
        "corrupt.png": "truncated or corrupt image data",
        "text.jpg": "not a readable image",
        "bomb.png": "image too large",
        "over-limit.png": "3000x3000 = 9000000 pixels exceeds limits.max_pixels = 4000000",
        "gif.png": "format GIF is not supported",
        "page2-cut.tif": "truncated or corrupt image data",
        "float.tif": "colour mode F is not supported",
        "int32.tif": "values outside 0..65535 is not supported",
        "broken-link.png": "broken symbolic link",
        "loop.png": "Too many levels of symbolic links",
        "fifo.png": "not a regular file",
    }


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(texture(8, 8)).save(buf, format="GIF")
    return buf.getvalue()


def good_files(folder: Path) -> list[Path]:
    out = [save(folder / name, texture(16, 16, seed=i)) for i, name in enumerate(ODD_NAMES)]
    cmyk = folder / "cmyk.jpg"
    Image.fromarray(texture(16, 16, seed=9)).convert("CMYK").save(cmyk)
    return out + [cmyk]


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, dict[str, str], list[Path]]:
    folder = tmp_path / "corpus"
    expected = build_corpus(folder)
    return folder, expected, good_files(folder)


def test_every_bad_file_is_reported_and_the_rest_enter(tmp_path, corpus):
    folder, expected, good = corpus
    project = make_project(tmp_path / "p", limits={"max_pixels": 4_000_000})
    report = ingest_paths(project, [folder], workers=1)
    failed = {Path(p).name: reason for p, reason in report.failed}
    assert set(failed) == set(expected)
    for name, fragment in expected.items():
        assert fragment in failed[name], (name, failed[name])
    assert sorted(r.source for r in report.added) == sorted(map(str, good))
    for rec in report.added:  # the odd names really decode
        assert load_canonical_array(rec, project.root).shape[:2] == (16, 16)


def test_nothing_is_half_entered(tmp_path, corpus):
    folder, expected, good = corpus
    project = make_project(tmp_path / "p", limits={"max_pixels": 4_000_000})
    ingest_paths(project, [folder], workers=1)
    catalog = project.store.catalog.all()
    assert len(catalog) == len(good)
    canonical = sorted(p.name for p in (project.root / "canonical").iterdir())
    derived = [Path(r.file).name for r in catalog if r.file.startswith("canonical/")]
    assert canonical == sorted(derived)
    assert all(not name.startswith(".") for name in canonical)  # no temp files left
    # a second run changes nothing and reports the same failures
    again = ingest_paths(project, [folder], workers=1)
    assert again.added == [] and len(again.duplicates) == len(good)
    assert {Path(p).name for p, _ in again.failed} == set(expected)


def _ingest_as_nobody(project_root: Path, paths: list[Path], conn) -> None:
    """Child process: drop root (root reads any file), ingest, send the failures."""
    from qclabel.project import Project

    Image.init()  # load Pillow's format plugins while their files are still readable
    from os_users import preload

    preload()  # and qclabel's modules and data files (the checkout may be private)
    os.setgid(65534)
    os.setuid(65534)
    report = ingest_paths(Project.open(project_root), paths, workers=1)
    conn.send((report.failed, [r.source for r in report.added]))


def test_unreadable_file_is_reported():
    import multiprocessing
    import shutil
    import tempfile

    # pytest's tmp_path is private to root; an unprivileged reader needs a shared folder
    top = Path(tempfile.mkdtemp(prefix="qclabel-perm-"))
    try:
        top.chmod(0o777)
        locked = save(top / "locked.png", texture(8, 8))
        readable = save(top / "ok.png", texture(8, 8, seed=1))
        locked.chmod(0)
        readable.chmod(0o644)
        project = make_project(top / "p")
        for path in [top / "p", *(top / "p").rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        if os.geteuid() != 0:
            report = ingest_paths(project, [locked, readable], workers=1)
            failed, added = report.failed, [r.source for r in report.added]
        else:
            parent, child = multiprocessing.get_context("forkserver").Pipe()
            proc = multiprocessing.get_context("forkserver").Process(
                target=_ingest_as_nobody, args=(project.root, [locked, readable], child)
            )
            proc.start()
            assert parent.poll(120), "the unprivileged ingest did not answer"
            failed, added = parent.recv()
            proc.join()
            assert proc.exitcode == 0
        assert failed == [(str(locked), "cannot read: Permission denied")]
        assert added == [str(readable)]
    finally:
        shutil.rmtree(top)


def test_missing_path_is_reported_not_fatal(tmp_path, project):
    good = save(tmp_path / "a.png", texture(8, 8))
    report = ingest_paths(project, [tmp_path / "nope", good], workers=1)
    assert report.failed == [(str(tmp_path / "nope"), "no such file or directory")]
    assert len(report.added) == 1


def test_cli_reports_each_failure_on_one_line_and_exits_1(tmp_path, corpus):
    folder, expected, good = corpus
    project = make_project(tmp_path / "p", limits={"max_pixels": 4_000_000})
    result = CliRunner().invoke(main, ["ingest", str(project.root), str(folder), "--workers", "1"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{len(good)} added, 0 duplicates, {len(expected)} failed")
    failure_lines = lines[2:]
    assert len(failure_lines) == len(expected)  # the newline in a name is escaped
    assert any("new\\nline.png" in line for line in lines) is False  # it was good
    assert all(line.startswith(f"  {folder}/") for line in failure_lines)
    data = json.loads(
        CliRunner()
        .invoke(main, ["ingest", str(project.root), str(folder), "--json", "--workers", "1"])
        .output
    )
    assert len(data["failed"]) == len(expected) and data["added"] == []
    assert sorted(d["path"] for d in data["duplicates"]) == sorted(map(str, good))


def test_cli_escapes_odd_names_in_reports(tmp_path):
    project = make_project(tmp_path / "p")
    bad = tmp_path / "bad\nname.jpg"
    bad.write_text("not an image")
    result = CliRunner().invoke(main, ["ingest", str(project.root), str(bad)])
    assert result.exit_code == 1
    assert f"  {tmp_path}/bad\\nname.jpg: not a readable image" in result.output
