"""Consensus from the classification screen: `c` asks why and sends the image on
screen to the adjudicators (a `consensus` event in the annotator's journal), labels
untouched. Real project, real app (half-cell forced), events read back from disk."""

from __future__ import annotations

import pytest

from qclabel.core.taxonomy import RESERVED_KEYS
from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.classify import ClassifyScreen
from qclabel.tui.screens.dialogs import PromptScreen
from test_tui_support import SIZE, make_project, settle


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path, n_rgb=2, grey16=False, jpeg=False)


def state(project: Project):
    return Project.open(project.root).store.state("admin")


def message(screen) -> str:
    return str(screen.query_one("#message")._shown)


async def test_c_sends_the_image_to_consensus_with_the_note(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, ClassifyScreen)
        first = app.labeler.current
        await pilot.press("c")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"glare hides the edge", "enter")
        assert app.screen is screen and app.labeler.current == first  # no advance
        assert "sent to consensus review: glare hides the edge" in message(screen)
    st = state(proj)
    assert st.get(first, "consensus") == {"requested": True, "note": "glare hides the edge"}
    assert first not in st.annotations("label")  # labels untouched


async def test_empty_note_is_not_saved_and_escape_sends_nothing(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen, first = app.screen, app.labeler.current
        await pilot.press("c", "enter")
        assert message(screen).startswith("NOT saved:") and "note" in message(screen)
        await pilot.press("c", "x", "escape")
        assert app.screen is screen
    assert state(proj).get(first, "consensus") is None


def test_no_taxonomy_class_can_take_the_consensus_key():
    assert "c" in RESERVED_KEYS
