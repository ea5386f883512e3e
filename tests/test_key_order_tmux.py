"""Key bursts through a real terminal: the app runs in tmux, `send-keys` hands it
several keys in one write (as a coalesced SSH packet does), and the journal on disk says
which image each label went to."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qclabel import identity
from qclabel.project import Project
from test_tui_support import make_project

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


class Tmux:
    def __init__(self, name: str) -> None:
        self.sock = f"qclabel-test-{name}-{os.getpid()}"

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.sock, *args], capture_output=True, text=True, timeout=30
        ).stdout

    def start(self, command: str) -> None:
        self("new-session", "-d", "-x", "160", "-y", "45", command)

    def screen(self) -> str:
        return self("capture-pane", "-p")

    def wait_for(self, predicate, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")

    def stop(self) -> None:
        path = self("display-message", "-p", "#{socket_path}").strip()
        self("kill-server")
        if path:
            Path(path).unlink(missing_ok=True)  # tmux leaves the socket file behind


@pytest.fixture
def term(request):
    t = Tmux(request.node.name[:20].replace("[", "-").replace("]", ""))
    yield t
    t.stop()


def _label_cmd(root: Path, *extra: str) -> str:
    args = [
        sys.executable,
        "-c",
        "from qclabel.cli import main; main()",
        "label",
        str(root),
        "--graphics",
        "halfcell",
        *extra,
    ]
    return f"cd {shlex.quote(str(REPO))} && exec {' '.join(map(shlex.quote, args))}"


def _journal(root: Path, user: str) -> list[dict]:
    path = root / "labels" / f"{user}.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def proj(tmp_path):
    user = identity.current_user()
    project = make_project(tmp_path, n_rgb=6)
    project.add_role("admin", user, "annotator")
    return project, user


def test_burst_in_classify_labels_the_next_image(proj, term):
    project, user = proj
    ids = Project.open(project.root).store.catalog.ids()
    term.start(_label_cmd(project.root))
    term.wait_for(lambda: "queue unlabeled" in term.screen(), "the classify screen")
    term("send-keys", "Right", "4", "2", "Right", "p")  # one write, five keys
    term.wait_for(lambda: len(_journal(project.root, user)) >= 3, "three journal events")
    term("send-keys", "q")
    term.wait_for(lambda: "queue unlabeled" not in term.screen(), "the app to quit")
    events = _journal(project.root, user)
    assert [e["image"] for e in events] == [ids[1], ids[1], ids[3]]
    assert events[1]["after"]["defect_class"] == "porosity"
    assert events[1]["after"]["severity"] == "major"
    assert events[2]["after"]["verdict"] == "pass"


def test_burst_in_the_grid_marks_the_cells_typed(proj, term):
    project, user = proj
    ids = Project.open(project.root).store.catalog.ids()
    term.start(_label_cmd(project.root, "--task", "passfail"))
    term.wait_for(lambda: "queue unlabeled" in term.screen(), "the classify screen")
    term("send-keys", "Escape")  # alone: ESC followed by t in one read is alt+t
    term.wait_for(lambda: "Grid triage" in term.screen(), "the home screen")
    term("send-keys", "t", "2", "Right", "3", "Enter")
    term.wait_for(lambda: "saved:" in term.screen(), "the page saved")
    term("send-keys", "q")
    after = {e["image"]: e["after"] for e in _journal(project.root, user)}
    page = [i for i in ids if i in after]
    assert page == ids[: len(page)] and len(page) >= 3
    assert (after[ids[0]]["verdict"], after[ids[0]]["defect_class"]) == ("fail", "dent")
    assert (after[ids[1]]["verdict"], after[ids[1]]["defect_class"]) == ("fail", "crack")
    assert all(after[i]["verdict"] == "pass" for i in page[2:])


def test_a_bracketed_paste_labels_nothing_and_typing_goes_on(proj, term):
    project, user = proj
    ids = Project.open(project.root).store.catalog.ids()
    term.start(_label_cmd(project.root))
    term.wait_for(lambda: "queue unlabeled" in term.screen(), "the classify screen")
    term("set-buffer", "p4242pppp")
    term("paste-buffer", "-p")  # bracketed, as a terminal pastes
    term.wait_for(lambda: "paste ignored" in term.screen(), "the paste message")
    term("send-keys", "-l", "p4")  # the same characters typed
    term("send-keys", "1")
    term.wait_for(lambda: len(_journal(project.root, user)) >= 3, "three journal events")
    term("send-keys", "q")
    events = _journal(project.root, user)
    assert [e["image"] for e in events] == [ids[0], ids[1], ids[1]]
    assert events[2]["after"]["defect_class"] == "porosity"
    assert events[2]["after"]["severity"] == "minor"
