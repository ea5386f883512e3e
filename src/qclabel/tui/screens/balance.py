"""Balance and augmentation: the class balance of a version as a bar chart, and the
augmentation step run as a background job with progress.

The report is the pure `augment.balance.build_balance`; the job calls the same
`augment_version` as `qclabel augment` with a progress callback and a cancel flag. Both
run in a child process (tui/jobs.py), waited for by a thread worker of the app, so the
UI keeps the GIL and the operator can leave the screen while they run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, ProgressBar, Select, Static
from textual.worker import get_current_worker

from ...augment.balance import format_balance
from ...augment.recipe import recipe_names
from ...errors import QclabelError
from ..jobs import BackgroundJob, JobCancelled, JobSlot, run_in_process
from ..job_tasks import augment_task, balance_task
from ...versions import list_names

CURRENT = "(current final labels)"
BAR = 36


def chart(report: dict[str, Any]) -> Text:
    """Per class: real (█) and synthetic (▒) train images against the count its target
    needs (│); red while short of it."""
    out = Text("train images per class against the target (good:defect)\n", style="bold")
    rows = report["classes"]
    wants = [r["train_images"] + r["needed"] for r in rows]
    top = max([1, *wants, *(r["train_images"] for r in rows)])
    for r, want in zip(rows, wants):
        synth = min(r["synthetic"], r["train_images"])
        real_cells = round((r["train_images"] - synth) / top * BAR)
        synth_cells = round(r["train_images"] / top * BAR) - real_cells
        mark = round(want / top * BAR)
        style = "green" if r["meets_target"] else "red"
        cells = ["█"] * real_cells + ["▒"] * synth_cells
        cells += [" "] * (BAR + 1 - len(cells))
        if 0 < mark <= BAR and cells[mark] == " ":
            cells[mark] = "│"
        out.append(f"  {r['class']:<16}")
        out.append("".join(cells), style=style)
        out.append(f" {r['train_images']:>4}/{want:<4} target {r['target']:g}:1")
        if r["needed"]:
            out.append(f"  need {r['needed']}", style="bold red")
        if r["too_few_to_augment"]:
            out.append(f"  < {report['min_real']} real: collect more", style="yellow")
        out.append("\n")
    return out


@dataclass
class AugmentJob(BackgroundJob):
    """State of the app's one augmentation, shared by the worker and the view."""

    out_version: str


_jobs: JobSlot[AugmentJob] = JobSlot()
TASK = augment_task  # what the child runs (a module-level function: it is pickled)


def current_job(app) -> AugmentJob | None:
    return _jobs.current(app)


def run_augment(app, job: AugmentJob, options: dict) -> None:
    """Worker body (a thread): the augmentation in a child process, then tell the UI."""
    from textual.worker import get_current_worker

    worker = get_current_worker()
    try:
        job.message = run_in_process(
            TASK,
            str(app.project.root),
            app.user,
            job.out_version,
            options,
            progress=lambda d, t: job.progress(d, t),
            started=job.started,
            cancelled=lambda: job.cancel.is_set() or worker.is_cancelled,
        )
        job.state = "done"
    except JobCancelled:
        job.state, job.message = "cancelled", "augmentation cancelled; no version stored"
    except QclabelError as exc:
        job.state, job.message = "failed", str(exc)
    severity = "information" if job.state == "done" else "warning"
    app.call_from_thread(app.notify, job.message, title="augment", severity=severity)


class BalanceReady(Message):
    def __init__(self, report: dict[str, Any] | None, error: str | None = None) -> None:
        super().__init__()
        self.report, self.error = report, error


class BalanceScreen(Screen):
    HELP_TITLE = "balance and augmentation"
    DEFAULT_CSS = """
    #augment-options { height: auto; }
    #augment-options > * { width: 1fr; }
    """
    BINDINGS = [
        Binding("f5", "recompute", "Recompute", id="balance.recompute"),
        Binding("ctrl+a", "augment", "Augment", id="balance.augment"),
        Binding("ctrl+x", "cancel", "Cancel augmentation", id="balance.cancel"),
    ]

    def compose(self) -> ComposeResult:
        project = self.app.project
        names = list_names(project)
        yield Header()
        with VerticalScroll(id="balance"):
            yield Select(
                [(CURRENT, CURRENT)] + [(n, n) for n in names],
                value=names[-1] if names else CURRENT,
                id="version",
                allow_blank=False,
            )
            yield Static("computing...", id="chart")
            yield Static("", id="details")
            with Horizontal(id="augment-options"):
                yield Select(
                    [(r, r) for r in recipe_names(project.config)],
                    value="default",
                    id="recipe",
                    allow_blank=False,
                )
                yield Input("", placeholder="new version name", id="out-version")
                yield Input("", placeholder="to ratio (default: targets)", id="to-ratio")
                yield Input("0", placeholder="seed", id="seed")
            yield ProgressBar(id="progress", show_eta=False)
            yield Static(
                "ctrl+a augments the selected version into the new one (train only)",
                id="augment-status",
            )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · balance"
        self.set_interval(0.25, self.show_progress)
        self.action_recompute()

    def _version(self) -> str | None:
        v = str(self.query_one("#version", Select).value)
        return None if v == CURRENT else v

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "version":
            self.action_recompute()

    def action_recompute(self) -> None:
        self.query_one("#chart", Static).update("computing...")
        self._compute(self._version())

    @work(thread=True, exclusive=True, group="balance")
    def _compute(self, version: str | None) -> None:
        worker = get_current_worker()
        try:
            report = run_in_process(
                balance_task,
                str(self.app.project.root),
                version,
                stop_now=lambda: worker.is_cancelled,
            )
            self.post_message(BalanceReady(report))
        except JobCancelled:
            return  # a newer computation replaced this one
        except QclabelError as exc:
            self.post_message(BalanceReady(None, str(exc)))

    def on_balance_ready(self, msg: BalanceReady) -> None:
        if msg.error:
            self.query_one("#chart", Static).update(Text(msg.error, style="red"))
            return
        self.query_one("#chart", Static).update(chart(msg.report))
        self.query_one("#details", Static).update("\n".join(format_balance(msg.report)))

    def _options(self) -> dict:
        version = self._version()
        if version is None:
            raise QclabelError(
                "augmentation starts from a dataset version: pick one "
                "(qclabel version create DIR NAME)"
            )
        ratio = self.query_one("#to-ratio", Input).value.strip()
        seed = self.query_one("#seed", Input).value.strip() or "0"
        try:
            to_ratio = float(ratio) if ratio else None
            seed_n = int(seed)
        except ValueError:
            raise QclabelError(f"ratio {ratio!r} / seed {seed!r}: numbers please") from None
        return {
            "version": version,
            "recipe_name": str(self.query_one("#recipe").value),
            "to_ratio": to_ratio,
            "seed": seed_n,
        }

    def action_augment(self) -> None:
        job = current_job(self.app)
        if job is not None and job.state == "running":
            self.notify("an augmentation is already running", severity="warning")
            return
        out = self.query_one("#out-version", Input).value.strip()
        try:
            if not out:
                raise QclabelError("name the new version first")
            options = self._options()
        except QclabelError as exc:
            if job is not None:  # a finished job's message would replace this one
                _jobs.clear(self.app)
            self.query_one("#augment-status", Static).update(str(exc))
            return
        job = AugmentJob(out)
        _jobs.start(self.app, job)
        self.app.run_worker(
            lambda: run_augment(self.app, job, options),
            thread=True,
            exclusive=True,
            group="augment",
            name="augment",
        )
        self.show_progress()

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
            f"augmenting into {job.out_version}: {job.done}/{job.total} images"
            if job.state == "running"
            else job.message
        )
        self.query_one("#augment-status", Static).update(text)
