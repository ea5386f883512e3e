"""init, status, role and project opening through the CLI: CliRunner for the details,
and the installed `qclabel` console script as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.errors import PermissionDenied
from qclabel.ingest import ingest_paths
from qclabel.project import CONFIG_NAME, Project

QCLABEL = Path(sys.executable).parent / "qclabel"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_init_creates_a_readable_project(tmp_path: Path, as_user) -> None:
    as_user("qe")
    code, out = run("init", tmp_path / "p", "--taxonomy", "pcb-solder", "--name", "line 4")
    assert code == 0 and "created project 'line 4'" in out and "admin qe" in out
    config = (tmp_path / "p" / CONFIG_NAME).read_text()
    assert "format_version = 1" in config and 'admin = [\n    "qe",\n]' in config
    assert "[[taxonomy.classes]]" in config and 'name = "bridged"' in config
    assert (tmp_path / "p" / "labels").is_dir()
    code, out = run("init", tmp_path / "p")
    assert code == 2 and "a project exists here" in out


def test_init_on_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    code, out = run("init", tmp_path / "f")
    assert code == 2 and "is a file" in out
    with pytest.raises(Exception, match="exists and is not a folder"):
        Project.init(tmp_path / "f", user="qe")
    assert (tmp_path / "f").read_text() == "x"


def test_role_add_remove_list(project: Project, as_user) -> None:
    as_user("admin")
    root = project.root
    assert run("role", "add", root, "ann", "annotator") == (0, "ann is now annotator\n")
    assert run("role", "add", root, "rev", "reviewer")[0] == 0
    code, out = run("role", "list", root)
    assert code == 0
    assert out.splitlines()[:3] == ["admin        admin", "annotator    ann", "reviewer     rev"]
    assert run("role", "remove", root, "ann", "annotator") == (0, "ann is no longer annotator\n")
    code, out = run("role", "list", root, "--json")
    assert json.loads(out) == {
        "admin": ["admin"],
        "annotator": [],
        "reviewer": ["rev"],
        "adjudicator": [],
    }
    assert Project.open(root).roles_of("rev") == {"reviewer"}


def test_role_changes_need_an_admin(project: Project, as_user) -> None:
    as_user("mallory")
    code, out = run("role", "add", project.root, "mallory", "admin")
    assert code == PermissionDenied.exit_code
    assert "mallory may not change roles: it needs the admin role" in out
    assert "mallory" not in Project.open(project.root).role_table()["admin"]


def test_the_last_admin_cannot_be_removed(project: Project, as_user) -> None:
    as_user("admin")
    code, out = run("role", "remove", project.root, "admin", "admin")
    assert code == PermissionDenied.exit_code and "admin is the last admin" in out
    assert run("role", "add", project.root, "boss", "admin")[0] == 0
    assert run("role", "remove", project.root, "admin", "admin")[0] == 0
    assert Project.open(project.root).role_table()["admin"] == ["boss"]


def test_unknown_role_or_bad_user_name(project: Project, as_user) -> None:
    as_user("admin")
    code, out = run("role", "add", project.root, "ann", "boss")
    assert code == 2 and "'boss' is not one of" in out
    code, out = run("role", "add", project.root, "../ann", "annotator")
    assert code == 2 and "roles.annotator = '../ann': not an operating-system user name" in out


def make_images(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (64 + i, 48), (i * 40, 90, 120)).save(folder / f"part{i}.png")
    return folder


def test_status_counts_images_labels_classes_annotators(
    project: Project, tmp_path: Path, as_user
) -> None:
    as_user("admin")
    report = ingest_paths(project, [make_images(tmp_path / "imgs", 4)])
    ids = [r.id for r in report.added]
    with project.store.open_session("ann") as s:
        s.commit(edits.apply(ids[0], Annotation(), edits.set_verdict("pass")))
        s.commit(
            edits.apply(
                ids[1],
                Annotation(),
                edits.set_class("dent", "minor"),
                edits.add_box(Box("scratch", 1, 1, 9, 9)),
            )
        )
        s.commit(edits.apply(ids[2], Annotation(), edits.set_flag("glare?")))
    with project.store.open_session("bob") as s:
        s.commit(edits.apply(ids[3], Annotation(), edits.skip()))
    code, out = run("status", project.root, "--json")
    assert code == 0
    s = json.loads(out)
    assert s["images"] == 4
    assert s["states"] == {"unlabeled": 0, "labeled": 2, "flagged": 1, "skipped": 1}
    assert s["classes"]["dent"] == 1 and s["classes"]["scratch"] == 1 and s["classes"]["crack"] == 0
    assert s["verdicts"] == {"pass": 1, "fail": 1}
    assert s["annotators"] == {
        "ann": {"labeled": 2, "flagged": 1, "skipped": 0},
        "bob": {"labeled": 0, "flagged": 0, "skipped": 1},
    }
    code, text = run("status", project.root)
    assert code == 0 and "images    4" in text and "ann: labeled 2  flagged 1" in text


def test_not_a_project(tmp_path: Path) -> None:
    for folder in (tmp_path, tmp_path / "missing"):
        for cmd in (["status"], ["role", "list"], ["audit", "verify"], ["audit", "log"]):
            code, out = run(*cmd, folder)
            assert code == 2, cmd
            assert f"qclabel: error: {folder} is not a qclabel project" in out


def test_config_of_another_version(project: Project) -> None:
    cfg = project.config_path
    cfg.write_text(cfg.read_text().replace("format_version = 1", "format_version = 2"))
    code, out = run("status", project.root)
    assert code == 2
    assert f"{cfg}: qclabel.format_version = 2, but this qclabel reads version 1" in out


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("[roles]", "[roles\n"), "not valid TOML"),
        (
            lambda t: t.replace("[roles]", '[roles]\nboss = ["x"]'),
            "roles.boss = 'boss': unknown role",
        ),
        (
            lambda t: t.replace('admin = [\n    "admin",\n]', "admin = []"),
            "roles.admin = []: needs",
        ),
        (lambda t: t.replace('name = "scratch"', 'name = "Scratch!"'), "taxonomy.classes[0].name"),
    ],
)
def test_broken_config_names_file_and_field(project: Project, edit, message: str) -> None:
    cfg = project.config_path
    cfg.write_text(edit(cfg.read_text()))
    code, out = run("status", project.root)
    assert code == 2 and str(cfg) in out and message in out


def test_installed_console_script(tmp_path: Path) -> None:
    """The real `qclabel` entry point, as an operator runs it."""

    def env_run(*a: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(QCLABEL), *map(str, a)], capture_output=True, text=True, timeout=120
        )

    done = env_run("init", tmp_path / "p", "--taxonomy", "assembly-keypoints")
    assert done.returncode == 0, done.stderr
    done = env_run("status", tmp_path / "p", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["taxonomy"] == "assembly-keypoints"
    done = env_run("status", tmp_path / "nothing")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("qclabel: error: ") and "Traceback" not in done.stderr
    done = env_run("role", "--help")
    assert done.returncode == 0 and "admin only" in done.stdout


@pytest.mark.parametrize(
    "cmd",
    [
        ["init"],
        ["status"],
        ["role"],
        ["role", "add"],
        ["role", "remove"],
        ["role", "list"],
        ["audit"],
        ["audit", "verify"],
        ["audit", "log"],
    ],
)
def test_help(cmd: list[str]) -> None:
    code, out = run(*cmd, "--help")
    assert code == 0 and out.startswith("Usage: main " + " ".join(cmd))
    assert len(out.splitlines()) > 3
