"""`q` quits at once from every screen and dialog of the labeling app, asking nothing
and losing nothing: labels already committed are on disk and the session lock is
released. In a text input `q` is a character; there ctrl+q quits (escape, then q,
too)."""

from __future__ import annotations

import pytest

from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.classify import ClassifyScreen
from qclabel.tui.screens.dialogs import PromptScreen
from qclabel.tui.screens.help import HelpScreen
from test_tui_support import SIZE, make_project, settle


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path, n_rgb=3, grey16=False, jpeg=False)


def labels_on_disk(project: Project):
    return Project.open(project.root).store.state("admin").annotations("label")


async def _label_then_open(pilot, app, opener: tuple[str, ...], modal) -> str:
    await settle(pilot, app)
    assert isinstance(app.screen, ClassifyScreen)
    first = app.labeler.current
    await pilot.press("1")  # scratch: a severity prompt is now pending
    await pilot.press(*opener)
    assert isinstance(app.screen, modal)
    return first


def quitting(app) -> bool:
    """Checked inside run_test: after the context every app has stopped anyway."""
    return app.return_code == 0 and app._closed


def assert_quit_and_saved(app, proj, first: str) -> None:
    assert labels_on_disk(proj)[first].defect_class == "scratch"
    with proj.store.open_session("admin"):  # the lock was released on the way out
        pass


async def test_q_in_help_quits_instead_of_closing_help(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        first = await _label_then_open(pilot, app, ("question_mark",), HelpScreen)
        await pilot.press("q")
        assert quitting(app)
    assert_quit_and_saved(app, proj, first)


@pytest.mark.parametrize("opener", [("x",), ("g",)], ids=["flag-note", "go-to"])
async def test_ctrl_q_in_a_text_prompt_quits(proj, opener):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        first = await _label_then_open(pilot, app, ("escape", *opener), PromptScreen)
        await pilot.press("q")  # a character of the note / image reference
        assert isinstance(app.screen, PromptScreen) and not quitting(app)
        assert app.screen.query_one("#prompt-input").value.endswith("q")
        await pilot.press("ctrl+q")
        assert quitting(app)
    assert_quit_and_saved(app, proj, first)


async def test_escape_then_q_in_a_text_prompt_quits(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        first = await _label_then_open(pilot, app, ("escape", "x"), PromptScreen)
        await pilot.press("escape", "q")
        assert quitting(app)
    assert_quit_and_saved(app, proj, first)
    assert labels_on_disk(proj)[first].flag is None  # the cancelled note saved nothing


async def test_q_right_after_a_class_key_quits(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        first = app.labeler.current
        await pilot.press("1", "q")  # the severity prompt is showing
        assert quitting(app)
    assert_quit_and_saved(app, proj, first)
