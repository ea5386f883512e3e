"""The export dialog: runs the export as a background worker with progress, can be
cancelled, and labeling goes on while it runs."""

from __future__ import annotations

import asyncio
import threading

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
from test_tui_support import SIZE, make_project, settle


@pytest.fixture
def proj(tmp_path):
    project = make_project(tmp_path)
    with project.store.open_session("alice") as s:
        for n, image in enumerate(project.store.catalog.ids()):
            fail = (edits.set_class("dent", "minor"), edits.add_box(Box("dent", 2, 2, 30, 30)))
            s.commit(edits.apply(image, s.annotation(image),
                                 *(fail if n % 2 else (edits.set_verdict("pass"),))))
    return project


@pytest.fixture
def gate(monkeypatch):
    """Hold the export after its second image until the test opens the gate."""
    reached, release = threading.Event(), threading.Event()
    real = export_screen.export_dataset

    def held(ds, fmt, out, progress=None, **kw):
        def step(done, total):
            progress(done, total)
            if done == 2:
                reached.set()
                release.wait(30)
        return real(ds, fmt, out, progress=step, **kw)
    monkeypatch.setattr(export_screen, "export_dataset", held)
    return reached, release


async def wait_for(pilot, event: threading.Event) -> None:
    await asyncio.get_running_loop().run_in_executor(None, event.wait, 30)
    await pilot.pause()


async def test_export_runs_in_background_while_labeling_continues(proj, tmp_path, gate):
    reached, release = gate
    out = tmp_path / "coco-out"
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#out", Input).value = str(out)
        await pilot.press("ctrl+s")
        await wait_for(pilot, reached)
        job = current_job(app)
        assert job.state == "running" and job.done == 2 and job.total == 6
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
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert job.state == "done" and "exported 6 images" in job.message
    coco = COCO(str(out / "annotations" / "instances_train.json"))
    assert len(coco.imgs) == 6


async def test_export_can_be_cancelled_and_keeps_previous_output(proj, tmp_path, gate):
    reached, release = gate
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
        await wait_for(pilot, reached)
        await pilot.press("ctrl+x")
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_job(app).state == "cancelled"
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
