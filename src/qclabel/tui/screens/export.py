"""Export dialog: pick a format and options, export in the background.

The export runs in a child process (tui/jobs.py: CPU-bound work in a thread would take
the GIL from the UI) calling the same pure `export_dataset` as `qclabel export`, with a
progress callback and a cancel flag; a thread worker of the app (exclusive, group
"export") waits for it and mirrors its progress. It belongs to the app, not to this
screen, so the operator can go back to labeling while it runs; reopening the dialog
shows its progress, and a notification says when it is done. The output appears only
once complete (atomic rename).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, ProgressBar, Select, Static

from ...errors import QclabelError
from ..jobs import BackgroundJob, JobCancelled, JobSlot, run_in_process
from ..job_tasks import export_task
from ...formats import EXPORT_FORMATS
from ...formats.dataset import LINK_MODES
from ...formats.yolo import TASKS
from ...splits import parse_ratios
from ...versions import list_names

CURRENT = "(current final labels)"
SYNTHETIC_IN, SYNTHETIC_OUT = "include", "leave out (--no-synthetic)"


@dataclass
class ExportJob(BackgroundJob):
    """State of the app's one export, shared by the worker thread and the dialog."""

    fmt: str
    out: Path


_jobs: JobSlot[ExportJob] = JobSlot()
TASK = export_task  # what the child runs (a module-level function: it is pickled)


def current_job(app) -> ExportJob | None:
    return _jobs.current(app)


def run_export(app, job: ExportJob, options: dict) -> None:
    """Worker body (a thread): the export in a child process, then tell the UI."""
    from textual.worker import get_current_worker

    worker = get_current_worker()
    try:
        job.message = run_in_process(
            TASK,
            str(app.project.root),
            job.fmt,
            str(job.out),
            options,
            progress=job.progress,
            started=job.started,
            cancelled=lambda: job.cancel.is_set() or worker.is_cancelled,
        )
        job.state = "done"
    except JobCancelled:
        job.state, job.message = "cancelled", "export cancelled; nothing was replaced"
    except QclabelError as exc:
        job.state, job.message = "failed", str(exc)
    severity = "information" if job.state == "done" else "warning"
    app.call_from_thread(app.notify, job.message, title="export", severity=severity)


class ExportScreen(Screen):
    HELP_TITLE = "export"
    BINDINGS = [
        Binding("ctrl+s", "start", "Export", id="export.start"),
        Binding("ctrl+x", "cancel", "Cancel export", id="export.cancel"),
    ]

    def compose(self) -> ComposeResult:
        project = self.app.project
        yield Header()
        with VerticalScroll(id="export"):
            yield Label("format")
            yield Select(
                [(f, f) for f in EXPORT_FORMATS], value="coco", id="format", allow_blank=False
            )
            yield Label("YOLO layout")
            yield Select([(t, t) for t in TASKS], value="detect", id="task", allow_blank=False)
            yield Label("dataset version")
            yield Select(
                [(CURRENT, CURRENT)] + [(n, n) for n in list_names(project)],
                value=CURRENT,
                id="version",
                allow_blank=False,
            )
            yield Label("output folder")
            yield Input(str(project.root.parent / f"{project.name}-export"), id="out")
            yield Label("split train,val,test (empty: all train)")
            yield Input("", placeholder="0.8,0.1,0.1", id="split")
            yield Label("group by field (part, lot, serial)")
            yield Input("", placeholder="part", id="group_by")
            yield Label("images")
            yield Select([(m, m) for m in LINK_MODES], value="copy", id="link", allow_blank=False)
            yield Label("synthetic images (augmented versions)")
            yield Select(
                [(SYNTHETIC_IN, SYNTHETIC_IN), (SYNTHETIC_OUT, SYNTHETIC_OUT)],
                value=SYNTHETIC_IN,
                id="synthetic",
                allow_blank=False,
            )
            yield ProgressBar(id="progress", show_eta=False)
            yield Static(
                "ctrl+s starts the export; you can go back to labeling meanwhile",
                id="export-status",
            )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · export"
        self.set_interval(0.25, self.show_progress)
        self.show_progress()

    def _value(self, wid: str) -> str:
        return str(self.query_one(f"#{wid}").value).strip()

    def action_start(self) -> None:
        job = current_job(self.app)
        if job is not None and job.state == "running":
            self.notify("an export is already running", severity="warning")
            return
        try:
            options = self._options()
        except QclabelError as exc:
            self.query_one("#export-status", Static).update(str(exc))
            return
        job = ExportJob(self._value("format"), Path(self._value("out")).expanduser())
        _jobs.start(self.app, job)
        self.app.run_worker(
            lambda: run_export(self.app, job, options),
            thread=True,
            exclusive=True,
            group="export",
            name="export",
        )
        self.show_progress()

    def _options(self) -> dict:
        version = self._value("version")
        version = None if version == CURRENT else version
        split, group_by = self._value("split"), self._value("group_by") or None
        settings = (
            {}
            if version
            else {"ratios": parse_ratios(split) if split else None, "group_by": group_by}
        )
        return {
            "version": version,
            "settings": settings,
            "task": self._value("task"),
            "link": self._value("link"),
            "no_synthetic": self._value("synthetic") == SYNTHETIC_OUT,
        }

    def action_cancel(self) -> None:
        job = current_job(self.app)
        if job is not None and job.state == "running":
            job.cancel.set()

    def show_progress(self) -> None:
        job = current_job(self.app)
        if job is None:
            return
        self.query_one("#progress", ProgressBar).update(total=max(job.total, 1), progress=job.done)
        text = (
            f"exporting {job.fmt} to {job.out}: {job.done}/{job.total} images"
            if job.state == "running"
            else job.message
        )
        self.query_one("#export-status", Static).update(text)
