"""The balance view from the home screen: bar chart per class, augmentation as a
background job with progress, refusals shown on the screen."""

from __future__ import annotations

import asyncio
import threading

import pytest
from textual.widgets import Input, Select

from mask_projects import make_mask_project
from qclabel.augment.run import synthetic_ids
from qclabel.tui.app import build_app
from qclabel.tui.screens import balance as balance_screen
from qclabel.tui.screens.balance import BalanceScreen, chart, current_job
from qclabel.tui.screens.home import HomeScreen
from qclabel.versions import create_version, get_version

SIZE = (120, 40)


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    project = make_mask_project(tmp_path_factory.mktemp("bal"))
    create_version(project, "v1", "admin", ratios=(0.7, 0.3))
    project.config["balance"] = {
        "cosmetic_ratio": 0.5,
        "safety_critical_ratio": 0.25,
        "min_real": 4,
    }
    project.save_config()
    return project


async def _open(pilot, app) -> BalanceScreen:
    await pilot.pause()
    await pilot.press("o")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, BalanceScreen)
    return app.screen


def _text(screen, wid: str) -> str:
    return str(screen.query_one(wid).content)


async def test_chart_shows_every_class_and_what_it_needs(proj):
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        text = _text(screen, "#chart")
        for cls in ("scratch", "dent", "crack", "porosity", "burr", "contamination"):
            assert cls in text
        assert "need" in text and "█" in text
        assert "collect more" in text  # contamination has 2 real < min_real 4
        details = _text(screen, "#details")
        assert "balance of version v1" in details and "by lot" in details


def test_chart_bars_grow_with_synthetic_images():
    report = {
        "min_real": 30,
        "classes": [
            {
                "class": "crack",
                "train_images": 2,
                "synthetic": 0,
                "needed": 6,
                "target": 5.0,
                "meets_target": False,
                "too_few_to_augment": True,
            },
            {
                "class": "dent",
                "train_images": 8,
                "synthetic": 6,
                "needed": 0,
                "target": 10.0,
                "meets_target": True,
                "too_few_to_augment": False,
            },
        ],
    }
    lines = chart(report).plain.splitlines()
    crack, dent = lines[1], lines[2]
    assert crack.count("█") < dent.count("█") + dent.count("▒")
    assert dent.count("▒") > 0 and "need 6" in crack and "need" not in dent
    assert "│" in crack  # the target mark


async def test_augment_runs_in_background_with_progress(proj, monkeypatch):
    reached, release = threading.Event(), threading.Event()
    real = balance_screen.run_augment

    def held(app, job, options):
        progress = job.progress

        def step(done, total):
            progress(done, total)
            if done == 1:
                reached.set()
                release.wait(30)

        job.progress = step
        real(app, job, options)

    monkeypatch.setattr(balance_screen, "run_augment", held)
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        screen.query_one("#out-version", Input).value = "v1-tui"
        screen.query_one("#to-ratio", Input).value = "0.3"
        await pilot.press("ctrl+a")
        await asyncio.get_running_loop().run_in_executor(None, reached.wait, 30)
        await pilot.pause()
        job = current_job(app)
        assert job.state == "running" and job.done == 1 and job.total > 1
        screen.show_progress()
        assert "augmenting into v1-tui" in _text(screen, "#augment-status")
        await pilot.press("escape")  # the job goes on without the screen
        assert isinstance(app.screen, HomeScreen)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert job.state == "done", job.message
    assert synthetic_ids(get_version(proj, "v1-tui"))


async def test_refusals_are_shown_not_started(proj):
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert current_job(app) is None and "name the new version" in _text(
            screen, "#augment-status"
        )
        screen.query_one("#out-version", Input).value = "v1"  # taken
        await pilot.press("ctrl+a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_job(app).state == "failed"
        assert "already exists" in current_job(app).message
        screen.query_one("#version", Select).value = balance_screen.CURRENT
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen.query_one("#out-version", Input).value = "v2"
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert "starts from a dataset version" in _text(screen, "#augment-status")


async def test_annotators_cannot_open_it(proj):
    app = build_app(proj, "alice", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_export_dialog_can_leave_synthetic_images_out(proj, tmp_path):
    import json
    from qclabel.augment.run import augment_version
    from qclabel.tui.screens.export import SYNTHETIC_OUT, ExportScreen
    from qclabel.versions import list_names

    if "v1-exp" not in list_names(proj):
        augment_version(proj, "v1", "default", "v1-exp", "admin", to_ratio=0.3, seed=4)
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        for synthetic, out in ((None, tmp_path / "all"), (SYNTHETIC_OUT, tmp_path / "real")):
            await pilot.pause()
            await pilot.press("e")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ExportScreen)
            screen.query_one("#version", Select).value = "v1-exp"
            screen.query_one("#out", Input).value = str(out)
            if synthetic:
                screen.query_one("#synthetic", Select).value = synthetic
            await pilot.press("ctrl+s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("escape")
    every = json.loads((tmp_path / "all/qclabel_version.json").read_text())
    real = json.loads((tmp_path / "real/qclabel_version.json").read_text())
    assert every["synthetic"] and "synthetic" not in real
    assert real["synthetic_left_out"] == len(every["synthetic"])
