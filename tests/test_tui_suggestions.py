"""Imported predictions as suggestions in the classification screen: shown with their
source and score, `enter` accepts (a journaled label change with the accept note,
auto-advance like a label key), `backspace` rejects (hidden for this operator, labels
untouched). Real project, real app (half-cell forced), labels read back from disk."""

from __future__ import annotations

import json

import pytest

from qclabel.core.model import Annotation
from qclabel.formats import suggestions
from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.classify import ClassifyScreen
from test_tui_support import SIZE, make_project, settle


@pytest.fixture
def proj(tmp_path):
    project = make_project(tmp_path, n_rgb=3, grey16=False, jpeg=False)
    first, second, _ = project.store.catalog.ids()
    suggestions.store(
        project,
        "model-a",
        {
            first: Annotation(verdict="fail", defect_class="scratch", severity="major"),
            second: Annotation(verdict="pass"),
        },
        "preds.jsonl",
        "admin",
        scores={first: [0.87], second: [0.95]},
    )
    return project


def on_disk(project):
    return Project.open(project.root).store.state("admin").annotations("label")


def journal(project):
    path = project.root / "labels" / "admin.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def panel(screen) -> str:
    return screen.query_one("#info")._shown.plain


async def test_enter_accepts_the_suggestion_and_advances(proj):
    first, second, _ = proj.store.catalog.ids()
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, ClassifyScreen) and app.labeler.current == first
        assert "suggested (model-a): FAIL, scratch (major), score 0.87" in panel(screen)
        assert "enter accept" in panel(screen)
        await pilot.press("enter")
        assert app.labeler.current == second  # a complete label: moved on
        assert "suggested (model-a): PASS, score 0.95" in panel(screen)
    ann = on_disk(proj)[first]
    assert (ann.verdict, ann.defect_class, ann.severity) == ("fail", "scratch", "major")
    [event] = [e for e in journal(proj) if e["image"] == first]
    assert event["note"] == "accepted suggestion from model-a"


async def test_backspace_rejects_without_touching_labels(proj):
    first = proj.store.catalog.ids()[0]
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        await pilot.press("backspace")
        assert app.labeler.current == first  # rejecting is not a label
        assert "suggested" not in panel(screen)
        assert "rejected suggestion from model-a" in str(screen.query_one("#message")._shown)
        await pilot.press("enter")  # nothing on offer any more
        assert "no suggestion" in str(screen.query_one("#message")._shown)
    assert first not in on_disk(proj)
    assert suggestions.get(proj, first, "admin") is None  # hidden for admin
    assert suggestions.get(proj, first, "bob") is not None  # still offered to others


async def test_accept_waits_for_a_missing_severity_then_undo(proj):
    first = proj.store.catalog.ids()[0]
    suggestions.store(
        proj,
        "model-b",
        {first: Annotation(verdict="fail", defect_class="dent")},
        "preds2.jsonl",
        "admin",
    )
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert "suggested (model-b): FAIL, dent" in panel(screen)
        await pilot.press("enter")
        assert app.labeler.current == first and screen.pending.name == "dent"
        await pilot.press("2")  # severity: major, then advance
        assert app.labeler.current != first
        assert on_disk(proj)[first].severity == "major"
        await pilot.press("u", "u")  # both steps undone, journaled
        assert app.labeler.current == first
        assert "suggested (model-b)" in panel(screen)  # on offer again
    assert not on_disk(proj)[first].is_labeled
