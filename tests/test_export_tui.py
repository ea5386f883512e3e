"""The export dialog: runs the export in a child process with progress, can be
cancelled, and labeling goes on while it runs."""

from __future__ import annotations

import functools
import os

import pytest
from pycocotools.coco import COCO
from textual.widgets import Input, ProgressBar, Select

from qclabel.core import edits
from qclabel.core.model import Box
from qclabel.tui.app import build_app
from qclabel.tui.screens import export as export_screen
from qclabel.tui.screens.classify import ClassifyScreen
from qclabel.tui.screens.export import ExportScreen, current_job
from qclabel.tui.screens.home import HomeScreen
from job_gates import alive, gated_export, wait_for_file, wait_until
from test_tui_support import SIZE, make_project, settle


@pytest.fixture
def proj(tmp_path):
    project = make_project(tmp_path)
    with project.store.open_session("alice") as s:
        for n, image in enumerate(project.store.catalog.ids()):
            fail = (edits.set_class("dent", "minor"), edits.add_box(Box("dent", 2, 2, 30, 30)))
            s.commit(
                edits.apply(
                    image, s.annotation(image), *(fail if n % 2 else (edits.set_verdict("pass"),))
                )
            )
    return project


@pytest.fixture
def gate(monkeypatch, tmp_path):
    """Hold the export (in its child process) after its second image until the test
    opens the gate; returns the gate folder."""
    folder = tmp_path / "gate"
    folder.mkdir()
    monkeypatch.setattr(export_screen, "TASK", functools.partial(gated_export, str(folder)))
    return folder


async def wait_for(pilot, app, gate) -> None:
    await wait_for_file(gate / "reached")
    await wait_until(lambda: current_job(app).done == 2)  # mirrored every 50 ms
    await pilot.pause()


async def test_export_runs_in_background_while_labeling_continues(proj, tmp_path, gate):
    out = tmp_path / "coco-out"
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#out", Input).value = str(out)
        await pilot.press("ctrl+s")
        await wait_for(pilot, app, gate)
        job = current_job(app)
        assert job.state == "running" and job.done == 2 and job.total == 6
        # The work is done by another process: the one that holds the gate.
        assert job.pid == int((gate / "pid").read_text()) and job.pid != os.getpid()
        assert alive(job.pid)
        app.screen.show_progress()
        assert app.screen.query_one("#progress", ProgressBar).progress == 2
        assert not out.exists()  # nothing published before it is complete
        # Back to labeling while the export waits half-way.
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("c")
        await settle(pilot, app)
        assert isinstance(app.screen, ClassifyScreen)
        image = app.labeler.current
        await pilot.press("3")  # crack
        await settle(pilot, app)
        assert app.session.annotation(image).defect_class == "crack"
        (gate / "release").touch()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert job.state == "done" and "exported 6 images" in job.message
    coco = COCO(str(out / "annotations" / "instances_train.json"))
    assert len(coco.imgs) == 6


async def test_export_can_be_cancelled_and_keeps_previous_output(proj, tmp_path, gate):
    out = tmp_path / "yolo-out"
    out.mkdir()
    (out / "previous.txt").write_text("keep me")
    (out / "qclabel_version.json").write_text("{}")  # an earlier export
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#out", Input).value = str(out)
        screen.query_one("#format", Select).value = "yolo"
        await pilot.press("ctrl+s")
        await wait_for(pilot, app, gate)
        pid = current_job(app).pid
        await pilot.press("ctrl+x")  # the gate opens once the child's flag is set
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_job(app).state == "cancelled"
        await wait_until(lambda: not alive(pid))  # the child stopped on the flag
        screen.show_progress()
        assert "cancelled" in str(screen.query_one("#export-status").content)
    assert sorted(p.name for p in out.iterdir()) == ["previous.txt", "qclabel_version.json"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".yolo-out")] == []


async def test_bad_split_is_shown_not_started(proj, tmp_path):
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#split", Input).value = "a,b"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert current_job(app) is None
        assert "--split 'a,b'" in str(app.screen.query_one("#export-status").content)


async def test_a_failing_export_says_one_line_and_the_app_goes_on(proj, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#out", Input).value = str(blocker / "out")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        job = current_job(app)
        assert job.state == "failed" and "\n" not in job.message
        assert "a-file" in job.message
        app.screen.show_progress()
        assert job.message in str(app.screen.query_one("#export-status").content)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
    assert blocker.read_text() == "not a folder"
