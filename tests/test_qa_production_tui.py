"""The analytics screen and the home screen's golden-accuracy flag, in real apps on real
projects (half-cell forced)."""

from __future__ import annotations

import io

from rich.console import Console

from qclabel.qa.queues import publish
from qclabel.tui.app import build_app
from qclabel.tui.screens.analytics import AnalyticsScreen, bar
from qclabel.tui.screens.home import HomeScreen

from test_qa_analytics import timeline  # noqa: F401 - fixture
from test_qa_golden import answer_golden, gold  # noqa: F401 - fixture
from test_tui_support import counted, settle


def rendered(widget, width: int = 120) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.render())
    return console.export_text()


def test_bars_scale_in_eighths():
    assert bar(1.0, 1.0, 4) == "████" and bar(0.5, 1.0, 4) == "██"
    assert bar(1 / 32, 1.0, 4) == "▏" and bar(0, 1.0, 4) == ""


async def test_analytics_screen_charts_each_annotator(timeline):  # noqa: F811
    p, ids = timeline
    app = build_app(p, "adj", graphics="halfcell", start="home")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot, app)
        await pilot.press("w")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.annotators == ["ann1", "ann2"]
        assert "ann1" in rendered(screen.query_one("#who"))
        charts = rendered(screen.query_one("#charts"))
        assert "images labeled per week" in charts and "2025-W02" in charts and "█" in charts
        assert "agreement with adjudicated finals" in charts and "50.0 %" in charts
        # two labeling weeks, the week of the (real-time) spot checks, and "all"
        assert screen.query_one("#weeks").row_count == 4
        await pilot.press("n")
        assert "ann2" in rendered(screen.query_one("#who"))
        await pilot.press("p")
        assert "ann1" in rendered(screen.query_one("#who"))


async def test_annotators_cannot_open_analytics(timeline):  # noqa: F811
    p, _ = timeline
    app = build_app(p, "ann1", graphics="halfcell", start="home")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, AnalyticsScreen)
        assert "Annotator analytics needs the adjudicator role" in [
            n.message for n in app._notifications
        ]


async def test_home_screen_shows_the_golden_flag(gold):  # noqa: F811
    p, ids, gold_ids = gold
    answer_golden(p, "ann2", gold_ids, 6)
    publish(p, "admin")
    for user, expected in (
        ("adj", "ann2: golden accuracy 60 %"),
        ("ann2", "golden accuracy 60 % on 10 checks is below 80 %"),
    ):
        app = build_app(p, user, graphics="halfcell", start="home")
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(pilot, app)
            assert isinstance(app.screen, HomeScreen)
            await counted(pilot, app)
            console = Console(width=140, record=True, file=io.StringIO())
            console.print(app.screen.query_one("#status").content)
            assert expected in console.export_text()
    app = build_app(p, "ann1", graphics="halfcell", start="home")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, app)
        await counted(pilot, app)
        console = Console(width=140, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#status").content)
        assert "golden" not in console.export_text()
