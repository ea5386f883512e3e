"""Labels survive the app: quit, kill without closing, SIGHUP from a dropped terminal;
and the next start resumes at the same image."""

from __future__ import annotations

import fcntl
import json
import struct
import termios
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qclabel import identity
from qclabel.core import edits
from qclabel.core.model import Annotation
from qclabel.project import Project
from qclabel.tui.app import build_app
from test_tui_support import SIZE, make_project, settle

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path)


async def test_reopen_resumes_at_same_image(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("p", "n", "n")
        where = app.labeler.current
        await pilot.press("q")
    again = build_app(Project.open(proj.root), "admin", graphics="halfcell")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot, again)
        assert again.labeler.current == where
        assert again.screen.image_view.frame.image_id == where
        await pilot.press("q")


async def test_resume_keeps_a_labeled_image_in_the_unlabeled_queue(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("a", "p")  # no auto-advance: still on the labeled image
        where = app.labeler.current
        await pilot.press("q")
    again = build_app(Project.open(proj.root), "admin", graphics="halfcell")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot, again)
        assert again.labeler.current == where
        assert again.labeler.queue_name == "unlabeled"
        await pilot.press("q")


KILLED = """
import asyncio, os, sys
sys.path.insert(0, {tests!r})
from qclabel.project import Project
from qclabel.tui.app import build_app
from test_tui_support import settle

async def main():
    app = build_app(Project.open({root!r}), "admin", graphics="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("p", "2", "1")
        print(app.labeler.queue[0], app.labeler.queue[1], flush=True)
        os._exit(0)  # no close, no snapshot, no position save: like kill -9
asyncio.run(main())
"""


def test_labels_survive_a_kill_without_closing(proj):
    code = KILLED.format(tests=str(REPO / "tests"), root=str(proj.root))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.split()
    state = Project.open(proj.root).store.state("admin").annotations("label")
    assert state[first].verdict == "pass"
    assert (state[second].defect_class, state[second].severity) == ("dent", "minor")
    with proj.store.open_session("admin"):  # the kernel dropped the lock
        pass


def _read_until(fd: int, proc: subprocess.Popen, predicate, timeout: float = 30.0) -> bytes:
    """Read the pty until predicate(output) holds (or the deadline passes)."""
    buf, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate(buf):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                break
        elif proc.poll() is not None:
            break
    return buf


def test_sighup_in_a_pty_loses_nothing(tmp_path):
    user = identity.current_user()
    proj = make_project(tmp_path)
    proj.add_role("admin", user, "annotator")
    journal = proj.root / "labels" / f"{user}.jsonl"
    master, slave = os.openpty()
    # a real terminal has a size (SSH forwards it); 100x30 cells of 8x17 px
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 800, 510))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from qclabel.cli import main; main()",
            "label",
            str(proj.root),
            "--graphics",
            "halfcell",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    os.close(slave)
    try:
        _read_until(master, proc, lambda b: b"queue unlabeled" in b)
        os.write(master, b"p")
        _read_until(
            master, proc, lambda b: journal.exists() and journal.read_text().count("\n") >= 1
        )
        os.write(master, b"4")
        _read_until(master, proc, lambda b: journal.read_text().count("\n") >= 2)
        proc.send_signal(signal.SIGHUP)
        _read_until(master, proc, lambda b: proc.poll() is not None)
        assert proc.wait(timeout=30) == 129
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    events = [json.loads(x) for x in journal.read_text().splitlines()]
    assert [e["after"]["verdict"] for e in events] == ["pass", "fail"]
    assert events[1]["after"]["defect_class"] == "porosity"
    pos = Project.open(proj.root).store.documents(f"labels/{user}.ui").get("position")
    assert pos["image"] == events[1]["image"]  # resumes on the image being labeled
    with proj.store.open_session(user):  # closed cleanly, lock free
        pass


def _damage_anns_journal(proj, how: str = "cut") -> Path:
    """ann labels three images, then her acknowledged last line is cut in half (or
    removed whole, below her snapshot's mark)."""
    proj.add_role("admin", "ann", "annotator")
    ids = proj.store.catalog.ids()
    with proj.store.open_session("ann") as s:
        for image in ids[:3]:
            s.commit(edits.apply(image, Annotation(), edits.set_flag("scratch?")))
    path = proj.root / "labels" / "ann.jsonl"
    raw = path.read_bytes()
    last = raw.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(raw[: len(raw) - 40] if how == "cut" else raw[:last])
    return path


@pytest.mark.parametrize("how", ["cut", "removed"])
@pytest.mark.parametrize("queue", ["unlabeled", "flagged"])
async def test_app_starts_while_another_annotators_journal_is_damaged(proj, queue, how):
    """Only the damaged annotator is stopped; the others label on (the flagged queue
    reads every journal, the damaged one included)."""
    _damage_anns_journal(proj, how)
    app = build_app(proj, "admin", graphics="halfcell", queue=queue)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.labeler.queue_name == queue
        if queue == "flagged":  # ann's two verified flags are still shown
            assert len(app.labeler.queue) == 2
        image = app.labeler.current
        await pilot.press("p")
        await pilot.press("q")
    state = Project.open(proj.root).store.state("admin")
    assert state.annotation(image).verdict == "pass" and not state.damage


def test_the_damaged_annotator_gets_one_line(proj, as_user, monkeypatch):
    from click.testing import CliRunner
    from qclabel.cli import main
    from qclabel.errors import JournalCorrupt

    path = _damage_anns_journal(proj)
    with pytest.raises(JournalCorrupt, match=f"{path}:3: acknowledged line cut in half"):
        build_app(proj, "ann", graphics="halfcell")
    as_user("ann")
    before = path.read_bytes()
    import qclabel.cli.label_cmds as label_cmds  # CliRunner's stdin is no terminal

    monkeypatch.setattr(label_cmds, "require_terminal", lambda: None)
    res = CliRunner().invoke(main, ["label", str(proj.root), "--graphics", "halfcell"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.output.startswith(f"qclabel: error: {path}:3: acknowledged line cut in half")
    assert res.output.count("\n") == 1 and "restore ann.jsonl, ann.ack" in res.output
    assert path.read_bytes() == before
    with proj.store.open_session("admin"):  # the refused start left no lock behind
        pass
