"""CLI conventions: --json for scripts, one error style with documented exit codes,
contradictory options refused, shell completion that a real bash uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.versions import list_names
from test_formats_common import make_box_project
from test_qa_support import label, qa_project

BIN = Path(sys.executable).parent
QCLABEL = BIN / "qclabel"
SCRIPTED = (
    ("export",),
    ("import",),
    ("version", "create"),
    ("version", "list"),
    ("version", "diff"),
    ("audit", "verify"),
    ("audit", "log"),
    ("adjudicate",),
    ("review",),
    ("status",),
    ("check",),
    ("ingest",),
    ("qa", "plan"),
)


def run(*args: object) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a shell script would run it."""
    return subprocess.run(
        [str(QCLABEL), *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def project(tmp_path, as_user):
    as_user("admin")
    return make_box_project(tmp_path)


def _command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = main
    for name in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[name]
    return cmd


def test_every_command_a_script_drives_has_json():
    for path in SCRIPTED:
        names = {p.name for p in _command(path).params}
        assert "as_json" in names, " ".join(path)


def test_usage_errors_are_one_line_in_the_qclabel_style(tmp_path):
    cases = [
        (["export"], "Missing argument 'DIR'"),
        (
            ["export", tmp_path, "--format", "parquet", "--out", tmp_path / "o"],
            "'parquet' is not one of",
        ),
        (["status", tmp_path, "--colour"], "No such option '--colour'"),
        (["exprot"], "No such command 'exprot'"),
        (["completion", "tcsh"], "'tcsh' is not one of"),
    ]
    for args, message in cases:
        code, out, err = run(*args)
        assert code == 2 and out == "", (args, err)
        [line] = err.splitlines()
        assert line.startswith("qclabel: error: ") and message in line, line
        assert "--help)" in line and "Usage:" not in line
    # The installed console script (as a shell script runs it) says the same.
    res = cli("export", tmp_path, "--out", tmp_path / "o")
    assert (res.returncode, res.stdout) == (2, "")
    assert res.stderr == (
        "qclabel: error: Missing option '--format'. Choose from: yolo, "
        "coco, voc, tfrecord, csv, jsonl, cvat, labelstudio (see: qclabel export --help)\n"
    )
    # qclabel's own errors keep their style and codes
    code, _, err = run("status", tmp_path / "nothing")
    assert code == 2 and err.startswith("qclabel: error: ") and "not a qclabel project" in err
    assert run("--version")[0] == 0 and run("export", "-h")[0] == 0


def test_export_import_and_version_create_in_json(project, tmp_path):
    code, out, err = run(
        "export", project.root, "--format", "coco", "--out", tmp_path / "coco", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["out"] == str(tmp_path / "coco") and doc["images"] == 3
    assert doc["format"] == "coco" and doc["task"] is None and len(doc["hash"]) == 64
    written = json.loads((tmp_path / "coco" / "qclabel_version.json").read_text())
    assert written["content_hash"] == doc["hash"]
    code, out, err = run(
        "import",
        project.root,
        tmp_path / "coco",
        "--format",
        "coco",
        "--predictions",
        "gt",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == {
        "source": str(tmp_path / "coco"),
        "format": "coco",
        "target": "predictions 'gt'",
        "images": 3,
        "changed": 3,
    }
    code, out, err = run("version", "create", project.root, "v1", "--split", "0.5,0.5", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["name"] == "v1" and doc["images"] == 3 and doc["settings"]["split"] == [0.5, 0.5]
    code, out, _ = run("version", "list", project.root, "--json")
    assert json.loads(out)[0]["hash"] == doc["hash"]


def test_audit_verify_in_json_hides_other_journals_details(project, as_user):
    def labels_entries(out: str) -> list[dict]:  # the role journals are checked too
        return [d for d in json.loads(out) if "/labels/" in d["file"]]

    code, out, _ = run("audit", "verify", project.root, "--json")
    assert code == 0
    [alice] = labels_entries(out)
    assert alice["ok"] and alice["file"].endswith("alice.jsonl") and alice["events"] == 3
    assert any("/roles/" in d["file"] for d in json.loads(out))
    journal = project.root / "labels" / "alice.jsonl"
    journal.write_bytes(journal.read_bytes().replace(b'"pass"', b'"fail"', 1))
    code, out, _ = run("audit", "verify", project.root, "--json")
    [alice] = labels_entries(out)
    assert code == 1 and not alice["ok"] and alice["problems"]
    as_user("bob")
    code, out, _ = run("audit", "verify", project.root, "--json")
    assert code == 1 and labels_entries(out) == [{"file": alice["file"], "ok": False}]


@pytest.fixture
def dual(tmp_path, as_user):
    p = qa_project(tmp_path / "dual", 4, dual_first_n=2, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    label(p, "ann1", ids[0], edits.set_class("dent", "minor"))
    label(p, "ann2", ids[0], edits.set_class("scratch", "minor"))
    label(p, "ann1", ids[3], edits.set_verdict("pass"))
    return p, ids


def test_adjudicate_list_and_review_in_json(dual, as_user):
    p, ids = dual
    as_user("adj")
    code, out, err = run("adjudicate", p.root, "--list", "--json")
    assert code == 0, err
    [item] = json.loads(out)
    assert item["image"] == ids[0] and item["kind"] == "class"
    assert item["annotators"] == ["ann1", "ann2"] and "dent" in item["detail"]
    as_user("rev")
    code, out, err = run("review", p.root, ids[3][:8], "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["image"], doc["outcome"], doc["of"], doc["by"]) == (ids[3], "ok", "ann1", "rev")
    events = [json.loads(x) for x in (p.root / "labels" / "rev.jsonl").read_text().split()]
    assert events[-1]["hash"] == doc["event"]


def test_contradictory_options_are_refused_and_change_nothing(project, tmp_path, dual, as_user):
    as_user("admin")
    code, _, err = run(
        "export", project.root, "--format", "coco", "--task", "pose", "--out", tmp_path / "o"
    )
    assert code == 2 and "--task pose is a YOLO layout" in err
    assert not (tmp_path / "o").exists()
    for split, total in (("8,1,1", "10"), ("0.5,0.3", "0.8"), ("0.6,0.3,0.3", "1.2")):
        code, _, err = run(
            "export", project.root, "--format", "yolo", "--split", split, "--out", tmp_path / "o"
        )
        assert code == 2 and f"add up to {total}, not 1" in err, err
        code, _, err = run("version", "create", project.root, "v9", "--split", split)
        assert code == 2 and f"add up to {total}, not 1" in err
    code, _, err = run("version", "create", project.root, "v9", "--note", "why")
    assert code == 2 and "--note is recorded only with --override" in err
    assert list_names(project) == [] and not (tmp_path / "o").exists()
    p, ids = dual
    as_user("adj")
    for args, message in (
        (["--list", "--image", ids[0], "--take", "A"], "takes no --image"),
        (["--verdict", "pass"], "give --image and --take"),
        (["--image", ids[0]], "give --image and --take"),
        (["--json"], "--json goes with --list"),
        (["--list", "--graphics", "sixel"], "--graphics is for the app"),
    ):
        code, _, err = run("adjudicate", p.root, *args)
        assert code == 2 and err.startswith("qclabel: error: ") and message in err, err
    assert not (p.root / "labels" / "adj.jsonl").exists()
    code, _, err = run("qa", "analytics", p.root, "--json", "--format", "md")
    assert code == 2 and "contradicts --format md" in err
    code, _, err = run(
        "ingest", p.root, tmp_path, "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"
    )
    assert code == 2 and "--workers sizes a local process pool" in err


def _bash_complete(tmp_path: Path, *lines: str) -> list[list[str]]:
    """What a real bash offers after each line, with qclabel's completion loaded."""
    code, source, _ = run("completion", "bash")
    assert code == 0
    (tmp_path / "qclabel.bash").write_text(source)
    script = [f"source {tmp_path / 'qclabel.bash'}"]
    for line in lines:
        words = line.split(" ")
        script += [
            f"COMP_WORDS=({' '.join(repr(w) for w in words)}); "
            f"COMP_CWORD={len(words) - 1}; COMPREPLY=()",
            "_qclabel_completion qclabel",
            'printf "%s\\n" "${COMPREPLY[@]}" ---',
        ]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    res = subprocess.run(
        ["bash", "--norc", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return [block.split() for block in res.stdout.split("---")[:-1]]


def test_bash_completion_completes_commands_options_and_choices(tmp_path):
    commands, options, choices = _bash_complete(
        tmp_path, "qclabel exp", "qclabel export --for", "qclabel export d --format yo"
    )
    assert "export" in commands and "import" not in commands
    assert "--format" in options
    assert choices == ["yolo"]


def test_zsh_and_fish_scripts_name_qclabel():
    code, out, _ = run("completion", "zsh")
    assert code == 0 and out.startswith("#compdef qclabel") and "_QCLABEL_COMPLETE" in out
    code, out, _ = run("completion", "fish")
    assert code == 0 and "complete --no-files --command qclabel" in out
