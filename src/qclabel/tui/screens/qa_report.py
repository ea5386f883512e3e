"""The QA report in the app: computed in a child process (the pure `build_report` with a
progress callback and a cancel flag; tui/jobs.py), waited for by a thread worker, so the
app keeps the GIL and stays responsive; tables of each
metric against its target, per pair, per class, the disagreements, and a bar chart of
per-class agreement."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static
from textual.worker import get_current_worker

from ...errors import QclabelError
from ..job_tasks import report_task
from ..jobs import JobCancelled, run_in_process
from ...qa.report_format import rows

BAR_WIDTH = 30
TABLES = ("checks", "pairs", "tasks", "classes", "golden", "disagreements")


def bar_chart(per_class: dict[str, Any], width: int = BAR_WIDTH) -> Text:
    """Per-class positive agreement as unicode bars (eighth blocks)."""
    out = Text()
    name_w = max((len(c) for c in per_class), default=0)
    for name, v in per_class.items():
        share = v["positive_agreement"] or 0.0
        eighths = round(share * width * 8)
        bar = "█" * (eighths // 8) + ("▏▎▍▌▋▊▉"[eighths % 8 - 1] if eighths % 8 else "")
        style = "green" if share >= 0.95 else "yellow" if share >= 0.8 else "red"
        out.append(f"{name:<{name_w}} ")
        out.append(f"{bar:<{width}}", style=style)
        out.append(f" {share * 100:5.1f} %\n")
    return out


class ReportProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done, self.total = done, total


class ReportReady(Message):
    def __init__(self, report: dict[str, Any] | None, error: str | None = None) -> None:
        super().__init__()
        self.report, self.error = report, error


class QAReportScreen(Screen):
    HELP_TITLE = "QA report"
    BINDINGS = [
        Binding("r", "recompute", "Recompute", id="qa.recompute"),
        Binding("d", "adjudicate", "Adjudicate", id="qa.adjudicate"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="qa"):
            yield ProgressBar(id="progress", show_eta=False)
            yield Static(id="summary")
            for name in TABLES:
                yield Static(name, classes="qa-title")
                yield DataTable(id=f"table-{name}", zebra_stripes=True)
            yield Static("per-class agreement (both annotators saw the class)", classes="qa-title")
            yield Static(id="chart")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · QA report"
        self.action_recompute()

    def action_recompute(self) -> None:
        self.query_one("#summary", Static).update("computing ...")
        self.compute()

    @work(thread=True, exclusive=True, group="qa-report")
    def compute(self) -> None:
        worker = get_current_worker()
        try:
            report = run_in_process(
                report_task,
                str(self.app.project.root),
                progress=lambda d, t: self.post_message(ReportProgress(d, t)),
                stop_now=lambda: worker.is_cancelled,
            )
        except JobCancelled:
            return
        except QclabelError as exc:
            self.post_message(ReportReady(None, str(exc)))
            return
        self.post_message(ReportReady(report))

    def on_report_progress(self, event: ReportProgress) -> None:
        self.query_one("#progress", ProgressBar).update(total=event.total, progress=event.done)

    def on_report_ready(self, event: ReportReady) -> None:
        if event.error:
            self.query_one("#summary", Static).update(Text(event.error, style="bold red"))
            return
        self.report = rep = event.report
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(rep["images"], 1), progress=max(rep["images"], 1))
        self.query_one("#summary", Static).update(
            f"dual-annotated images {rep['images']}, agreed {rep['agreed']}, "
            f"disagreements {len(rep['disagreements'])}, "
            f"dual images still being labeled {rep.get('pending_dual', 0)}"
        )
        for name, table_rows in rows(rep).items():
            if name not in TABLES:
                continue
            table = self.query_one(f"#table-{name}", DataTable)
            table.clear(columns=True)
            table.add_columns(*table_rows[0])
            table.add_rows(table_rows[1:])
        self.query_one("#chart", Static).update(bar_chart(rep["per_class"]))

    def action_adjudicate(self) -> None:
        self.app.open_mode("adjudicate")
