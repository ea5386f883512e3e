"""Annotator analytics in the app: computed in a child process (the pure
`build_analytics`; tui/jobs.py) waited for by a thread worker, shown one annotator at a
time: weekly bar charts of output, speed,
agreement with finals and golden accuracy, the weekly table, drift and confusion."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from ...errors import QclabelError
from ..job_tasks import analytics_task
from ..jobs import JobCancelled, run_in_process
from ...qa.analytics_format import confusion_rows, drift_line, task_line, week_rows

BAR_WIDTH = 30
EIGHTHS = "▏▎▍▌▋▊▉"
CHARTS = (
    ("images", "images labeled per week", False),
    ("seconds_per_image", "seconds per image", False),
    ("agreement_final", "agreement with adjudicated finals", True),
    ("golden_accuracy", "golden accuracy", True),
)


def bar(value: float, top: float, width: int = BAR_WIDTH) -> str:
    eighths = round(value / top * width * 8) if top > 0 else 0
    return "█" * (eighths // 8) + (EIGHTHS[eighths % 8 - 1] if eighths % 8 else "")


def weekly_chart(weeks: dict[str, dict[str, Any]], key: str, title: str, share: bool) -> Text:
    """One bar per week; shares on a 0..100 % scale (red below 80 %), counts against
    the busiest week."""
    out = Text(f"{title}\n", style="bold")
    values = {w: f[key] for w, f in weeks.items() if f.get(key) is not None}
    if not values:
        return out.append("  no data\n", style="dim")
    top = 1.0 if share else max(values.values())
    for week, v in values.items():
        style = ("green" if v >= 0.95 else "yellow" if v >= 0.8 else "red") if share else "cyan"
        out.append(f"  {week} ")
        out.append(f"{bar(v, top):<{BAR_WIDTH}}", style=style)
        out.append(f" {v * 100:5.1f} %\n" if share else f" {v:g}\n")
    return out


class AnalyticsReady(Message):
    def __init__(self, data: dict[str, Any] | None, error: str | None = None) -> None:
        super().__init__()
        self.data, self.error = data, error


class AnalyticsScreen(Screen):
    HELP_TITLE = "annotator analytics"
    BINDINGS = [
        Binding("r", "recompute", "Recompute", id="analytics.recompute"),
        Binding("n", "next_annotator", "Next annotator", id="analytics.next"),
        Binding("p", "previous_annotator", "Previous annotator", id="analytics.previous"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] | None = None
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="analytics"):
            yield Static("computing ...", id="who")
            yield Static(id="charts")
            yield Static("weeks", classes="qa-title")
            yield DataTable(id="weeks", zebra_stripes=True)
            yield Static(id="notes")
            yield Static(
                "confusion against finals (rows: the annotator, columns: final)", classes="qa-title"
            )
            yield DataTable(id="confusion", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · annotator analytics"
        self.action_recompute()

    def action_recompute(self) -> None:
        self.query_one("#who", Static).update("computing ...")
        self.compute()

    @work(thread=True, exclusive=True, group="analytics")
    def compute(self) -> None:
        worker = get_current_worker()
        try:
            data = run_in_process(
                analytics_task, str(self.app.project.root), stop_now=lambda: worker.is_cancelled
            )
        except JobCancelled:
            return
        except QclabelError as exc:
            self.post_message(AnalyticsReady(None, str(exc)))
            return
        self.post_message(AnalyticsReady(data))

    def on_analytics_ready(self, event: AnalyticsReady) -> None:
        if event.error:
            self.query_one("#who", Static).update(Text(event.error, style="bold red"))
            return
        self.data = event.data
        self.show()

    @property
    def annotators(self) -> list[str]:
        return list((self.data or {}).get("annotators", {}))

    def action_next_annotator(self) -> None:
        self._step(1)

    def action_previous_annotator(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if self.annotators:
            self.index = (self.index + delta) % len(self.annotators)
            self.show()

    def show(self) -> None:
        users = self.annotators
        if not users:
            self.query_one("#who", Static).update("no labels yet")
            return
        user = users[self.index % len(users)]
        a = self.data["annotators"][user]
        self.query_one("#who", Static).update(
            Text.assemble(
                ("annotator ", "bold"),
                (user, "bold cyan"),
                f"  ({self.index + 1} of {len(users)}; n / p for the others)",
            )
        )
        charts = Text()
        for key, title, share in CHARTS:
            charts.append_text(weekly_chart(a["weeks"], key, title, share))
        self.query_one("#charts", Static).update(charts)
        _fill(self.query_one("#weeks", DataTable), week_rows(a))
        self.query_one("#notes", Static).update(f"{task_line(a)}\n{drift_line(a)}")
        _fill(self.query_one("#confusion", DataTable), confusion_rows(a))


def _fill(table: DataTable, rows: list[list[str]]) -> None:
    table.clear(columns=True)
    table.add_columns(*rows[0])
    table.add_rows(rows[1:])
