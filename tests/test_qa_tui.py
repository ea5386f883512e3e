"""The adjudication and QA report screens through real apps (half-cell forced) on real
projects; decisions are read back from the adjudicator's journal on disk."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from qclabel.core import edits
from qclabel.core.model import Box
from qclabel.project import Project
from qclabel.qa.final import final_labels
from qclabel.store.audit import iter_log
from qclabel.tui.app import build_app
from qclabel.tui.screens.adjudicate import COLOURS, AdjudicateScreen
from qclabel.tui.screens.dialogs import PromptScreen
from qclabel.tui.screens.home import HomeScreen
from qclabel.tui.screens.qa_report import QAReportScreen

from test_qa_support import label, qa_project
from test_tui_support import SIZE, counted, settle


@pytest.fixture
def disputed(tmp_path):
    p = qa_project(tmp_path, 4, dual_first_n=4, spot_check_rate=0.0, size=(120, 90))
    ids = p.store.catalog.ids()
    label(
        p,
        "ann1",
        ids[0],
        edits.set_class("dent", "minor"),
        edits.add_box(Box("dent", 10, 10, 40, 30)),
    )
    label(
        p,
        "ann2",
        ids[0],
        edits.set_class("scratch", "minor"),
        edits.add_box(Box("scratch", 60, 40, 40, 30)),
    )
    label(p, "ann1", ids[1], edits.set_verdict("pass"))
    label(p, "ann2", ids[1], edits.set_class("crack", "critical"))
    label(
        p,
        "ann1",
        ids[2],
        edits.set_class("dent", "minor"),
        edits.add_box(Box("dent", 10, 10, 40, 30)),
    )
    label(
        p,
        "ann2",
        ids[2],
        edits.set_class("dent", "minor"),
        edits.add_box(Box("dent", 30, 10, 40, 30)),
    )
    return p, ids


def finals(p: Project) -> dict:
    return {e["image"]: e for e in iter_log(p.store.labels_dir, user="adj") if e["kind"] == "final"}


def overlay_colours(screen) -> set[str]:
    return {g.colour for g in screen.query_one("#image").overlay.values()}


async def test_adjudication_keys(disputed):
    p, ids = disputed
    app = build_app(p, "adj", graphics="halfcell", start="adjudicate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, AdjudicateScreen)
        assert [(d.image, d.kind) for d in screen.queue] == [
            (ids[1], "verdict"),
            (ids[0], "class"),
            (ids[2], "geometry"),
        ]
        await pilot.press("a")  # pass/fail conflict first: take A, no note typed
        await settle(pilot, app)
        got = finals(p)[ids[1]]
        assert got["after"]["source"] == "A" and got["after"]["annotation"]["verdict"] == "pass"
        assert got["note"] == "took A: verdict pass vs fail; class - vs crack"
        assert screen.current.image == ids[0]
        assert overlay_colours(screen) == {COLOURS["A"], COLOURS["B"]}
        await pilot.press("o")
        assert overlay_colours(screen) == {COLOURS["A"]}
        await pilot.press("o")
        assert overlay_colours(screen) == {COLOURS["B"]}
        await pilot.press("o")
        assert overlay_colours(screen) == {COLOURS["A"], COLOURS["B"]}
        await pilot.press("c")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"scratch confirmed", "enter")
        await pilot.press("b")
        await settle(pilot, app)
        got = finals(p)[ids[0]]
        assert got["after"]["source"] == "B" and got["note"] == "scratch confirmed"
        assert got["after"]["annotators"] == ["ann1", "ann2"]
        await pilot.press("e")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert prompt.query_one("Input").value == "dent minor"
        prompt.query_one("Input").value = "dent major"
        await pilot.press("enter")
        await settle(pilot, app)
        got = finals(p)[ids[2]]
        assert got["after"]["source"] == "edited"
        assert got["after"]["annotation"]["severity"] == "major"
        assert got["after"]["annotation"]["boxes"][0]["x"] == 10  # started from A
        assert screen.queue == []
    final = final_labels(Project.open(p.root))
    assert {i: final[i].status for i in ids[:3]} == {i: "adjudicated" for i in ids[:3]}


async def test_annotator_cannot_open_adjudication_or_report(disputed):
    p, _ = disputed
    app = build_app(p, "ann1", graphics="halfcell", start="adjudicate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert not isinstance(app.screen, AdjudicateScreen)
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, QAReportScreen)
        messages = [n.message for n in app._notifications]
        assert "Adjudicate needs the adjudicator role" in messages
        assert "QA report needs the adjudicator role" in messages
    assert finals(p) == {}


async def test_qa_report_screen_computes_in_a_worker(disputed):
    p, ids = disputed
    app = build_app(p, "adj", graphics="halfcell", start="qa")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, QAReportScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert screen.report is not None and screen.report["images"] == 3
        assert screen.query_one("#table-disagreements").row_count == 3
        assert screen.query_one("#table-checks").row_count == 7
        bar = screen.query_one("#progress")
        assert bar.total == 3 and bar.progress == 3
        chart = str(screen.query_one("#chart").render())
        assert "dent" in chart and "%" in chart
        await pilot.press("d")
        await settle(pilot, app)
        assert isinstance(app.screen, AdjudicateScreen)


async def test_qa_report_runs_in_a_child_that_a_recompute_replaces(disputed, tmp_path, monkeypatch):
    """The report is computed by another process; `r` ends the running one at once, and
    so does leaving the app."""
    import functools
    import os

    from qclabel.tui.screens import qa_report
    from job_gates import alive, held_report, wait_until

    p, _ = disputed
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setattr(qa_report, "report_task", functools.partial(held_report, str(gate)))
    app = build_app(p, "adj", graphics="halfcell", start="qa")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: len(list(gate.iterdir())) == 1)
        first = int(next(gate.iterdir()).name.split("-")[1])
        assert first != os.getpid() and alive(first)
        await pilot.press("r")
        await wait_until(lambda: len(list(gate.iterdir())) == 2)
        await wait_until(lambda: not alive(first))
        second = next(int(f.name[4:]) for f in gate.iterdir() if f.name != f"pid-{first}")
        assert alive(second) and app.screen.report is None
    await wait_until(lambda: not alive(second))


async def test_box_tools_edit_the_final_label(disputed):
    from qclabel.tui.screens.adjudicate_tools import FinalBoxScreen

    p, ids = disputed
    app = build_app(p, "adj", graphics="halfcell", start="adjudicate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        await pilot.press("n", "n", "o", "o")  # the geometry case, showing only B
        assert screen.current.image == ids[2] and screen.show == "B"
        await pilot.press("t")
        await settle(pilot, app)
        tools = app.screen
        assert isinstance(tools, FinalBoxScreen)
        assert tools.annotation().boxes[0].x == 30  # started from B's box
        await pilot.press("tab", "x")
        await settle(pilot, app)
        got = finals(p)[ids[2]]
        assert got["after"]["source"] == "edited" and got["after"]["annotation"]["boxes"] == []
        assert got["note"] == "edited from B's labels"
        await pilot.press("u")  # undo is a new decision too: B's box is back
        await settle(pilot, app)
        assert finals(p)[ids[2]]["after"]["annotation"]["boxes"][0]["x"] == 30
        await pilot.press("f10")
        await settle(pilot, app)
        assert app.screen is screen
        assert ids[2] not in [d.image for d in screen.queue]


async def test_home_screen_counts_only_what_the_annotator_may_see(disputed):
    p, _ = disputed
    app = build_app(p, "ann1", graphics="halfcell")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await counted(pilot, app)
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#status").content)
        text = console.export_text()
        # ann1: two dents (class + box each) and a pass; ann2's scratch and crack stay hidden
        assert "dent 4" in text and "scratch 0" in text and "crack 0" in text
        assert "ann1" in text and "ann2" not in text  # per-annotator lines: own only


async def test_spot_check_keys(tmp_path):
    from qclabel.tui.screens.review import ReviewScreen

    p = qa_project(tmp_path, 3, dual_first_n=0, spot_check_rate=1.0, size=(120, 90))
    ids = p.store.catalog.ids()
    for i in ids:
        label(p, "ann1" if i != ids[1] else "ann2", i, edits.set_verdict("pass"))
    app = build_app(p, "rev", graphics="halfcell", start="review")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.queue == ids
        await pilot.press("o")
        await pilot.press("e")
        app.screen.query_one("Input").value = "dent major"
        await pilot.press("enter")
        await pilot.press("x")
        await pilot.press(*"glare", "enter")
        await settle(pilot, app)
        assert screen.queue == []
    state = Project.open(p.root).store.state("rev")
    assert state.get(ids[0], "review")["outcome"] == "ok"
    fixed = state.get(ids[1], "review")
    assert (fixed["outcome"], fixed["of"], fixed["annotation"]["severity"]) == (
        "corrected",
        "ann2",
        "major",
    )
    assert state.get(ids[2], "consensus") == {"requested": True, "note": "glare"}
    app = build_app(p, "ann1", graphics="halfcell", start="review")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert not isinstance(app.screen, ReviewScreen)
        assert "Spot check needs the reviewer role" in [n.message for n in app._notifications]
