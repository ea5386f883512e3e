"""The export, import and version commands, and killing an export half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from test_formats_common import make_box_project, tree_digest

TESTS = Path(__file__).parent


@pytest.fixture
def project(tmp_path, as_user):
    as_user("admin")
    return make_box_project(tmp_path)


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


def test_every_command_has_help():
    for cmd in (
        ["export"],
        ["import"],
        ["version"],
        ["version", "create"],
        ["version", "list"],
        ["version", "show"],
        ["version", "diff"],
    ):
        code, out, _ = run(*cmd, "--help")
        assert code == 0 and "Usage:" in out and len(out.splitlines()) > 3


def test_export_split_and_version_commands(project, tmp_path):
    code, out, err = run(
        "export",
        project.root,
        "--format",
        "coco",
        "--out",
        tmp_path / "c",
        "--split",
        "0.5,0.5",
        "--seed",
        "1",
    )
    assert code == 0, err
    assert "exported 3 images (current final labels" in out
    assert {p.name for p in (tmp_path / "c" / "annotations").iterdir()} == {
        "instances_train.json",
        "instances_val.json",
    }
    code, out, err = run("version", "create", project.root, "v1", "--split", "0.5,0.5")
    assert code == 0 and "created dataset version v1: 3 images" in out
    code, out, _ = run("version", "create", project.root, "v1")
    assert code != 0
    code, out, _ = run("version", "list", project.root, "--json")
    assert [v["name"] for v in json.loads(out)] == ["v1"]
    code, out, _ = run("version", "show", project.root, "v1")
    assert json.loads(out)["images"] == 3
    code, out, _ = run("version", "diff", project.root, "v1", "v1")
    assert code == 0 and "no label differences" in out
    code, out, err = run(
        "export",
        project.root,
        "--format",
        "yolo",
        "--out",
        tmp_path / "y",
        "--version",
        "v1",
        "--images",
        "hardlink",
    )
    assert code == 0 and "version v1" in out
    info = json.loads((tmp_path / "y" / "qclabel_version.json").read_text())
    assert info["version"] == "v1" and info["images"]["train"] + info["images"]["val"] == 3


def test_errors_are_one_line_without_traceback(project, tmp_path):
    code, out, err = run(
        "export", project.root, "--format", "coco", "--out", tmp_path / "o", "--version", "nope"
    )
    assert code == 2 and err.startswith("qclabel: error: no dataset version 'nope'")
    assert "Traceback" not in err
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, out, err = run("import", project.root, bad, "--format", "coco", "--as", "bob")
    assert code == 2 and "bad.json: not valid JSON" in err


def test_import_command(project, tmp_path):
    run("export", project.root, "--format", "voc", "--out", tmp_path / "v")
    code, out, err = run("import", project.root, tmp_path / "v", "--format", "voc", "--as", "bob")
    assert code == 0, err
    assert "imported 3 images as labels of bob (3 changed)" in out
    code, out, err = run(
        "import", project.root, tmp_path / "v", "--format", "voc", "--predictions", "m1"
    )
    assert code == 0 and "predictions 'm1'" in out


def test_non_admin_may_not_create_versions(project, as_user):
    as_user("eve")
    code, _, err = run("version", "create", project.root, "v1")
    assert code == 3 and "eve may not create a dataset version" in err


# -- killing an export half-way -----------------------------------------------------------
CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from qclabel.cli.export_cmds import terminate_cleanly
    from qclabel.formats import export_project
    from qclabel.project import Project

    def progress(done, total):
        if done == 2:              # half-way: tell the parent, then wait to be killed
            print("HALFWAY", flush=True)
            signal.pause()

    with terminate_cleanly():
        export_project(Project.open(Path({root!r})), "coco", Path({out!r}),
                       progress=progress)
""")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_export_leaves_previous_output_intact(project, tmp_path, sig):
    out = tmp_path / "dataset"
    run("export", project.root, "--format", "coco", "--out", out)
    before = tree_digest(out)
    # A later label change makes the interrupted export different from the first.
    from qclabel.core.model import Annotation
    from test_formats_common import by_name, label

    label(project, "alice", by_name(project)["d.png"], Annotation(verdict="pass"))
    code = CHILD.format(tests=str(TESTS), root=str(project.root), out=str(out))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "HALFWAY"
    partials = list(tmp_path.glob(".dataset.partial-*"))
    assert len(partials) == 1 and any(partials[0].rglob("*.png"))  # really half-way
    os.kill(child.pid, sig)
    child.wait()
    assert tree_digest(out) == before  # the previous export, untouched
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("dataset")) == ["dataset"]
    if sig == signal.SIGTERM:
        assert not list(tmp_path.glob(".dataset.partial-*"))  # cleaned up on the way out
    # The next export removes what a kill -9 had to leave, and completes.
    code, out_text, err = run("export", project.root, "--format", "coco", "--out", out)
    assert code == 0, err
    assert not list(tmp_path.glob(".dataset.*"))
    assert tree_digest(out) != before and "images/train/d.png" in tree_digest(out)
