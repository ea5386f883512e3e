"""Home: project status, per-class counts, per-annotator progress, the modes.

The status is counted in a worker thread on a project of its own (a million images take
over a second): home shows and takes keys at once, with the last counts (or "counting")
until the new ones arrive.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from ...errors import QclabelError
from ...project import Project
from ...status import project_status
from ..modes import MODES


def status_renderable(s: dict) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("project", f"{s['project']}  ({s['taxonomy']})")
    grid.add_row(
        "images", f"{s['images']}   " + "  ".join(f"{k} {v}" for k, v in s["states"].items())
    )
    if s["verdicts"]:
        grid.add_row("verdicts", "  ".join(f"{k} {v}" for k, v in s["verdicts"].items()))
    grid.add_row("classes", "  ".join(f"{c} {n}" for c, n in s["classes"].items()) or "-")
    for user, counts in s["annotators"].items():
        done = counts.get("labeled", 0) + counts.get("flagged", 0)
        pct = 100 * done / s["images"] if s["images"] else 0
        grid.add_row(
            f"  {user}",
            f"{done}/{s['images']} ({pct:.0f} %)  "
            + "  ".join(f"{k} {v}" for k, v in counts.items()),
        )
    return grid


class HomeScreen(Screen):
    HELP_TITLE = "home"
    BINDINGS = [
        Binding("enter", "open_selected", "Open", id="home.open"),
        Binding("f5", "refresh_status", "Refresh", id="home.refresh"),
    ]

    counted = False  # the status shown is the latest count (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="home"):
            yield Static("counting ...", id="status")
            yield OptionList(
                *[
                    Option(
                        Text.assemble(
                            (f" {m.key} ", "reverse bold"), f"  {m.title}: {m.description}"
                        ),
                        id=m.id,
                    )
                    for m in MODES
                ],
                id="modes",
            )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · home"
        modes = self.query_one(OptionList)
        modes.highlighted = 0
        modes.focus()

    def on_screen_resume(self) -> None:
        # Resume also fires on the first push, so the status is computed once there;
        # when the app opens straight into a mode, home is covered before it shows and
        # computes nothing until the user comes back to it.
        self.call_after_refresh(self._refresh_if_shown)

    def _refresh_if_shown(self) -> None:
        if self.app.screen is self:
            self.action_refresh_status()

    def action_refresh_status(self) -> None:
        self.counted = False
        self.sub_title = f"{self.app.user} · home · counting"
        self._count(self.app.project.root, self.app.user)

    @work(thread=True, exclusive=True, group="home-status")
    def _count(self, root, user: str) -> None:
        from ...qa.queues import notices

        project = Project.open(root)  # nothing shared with the UI thread's project
        try:
            grid = status_renderable(project_status(project, viewer=user))
            for line in notices(project, user):  # golden-accuracy flags
                grid.add_row(Text("QA", style="bold yellow"), Text(line, style="yellow"))
        except (QclabelError, OSError) as exc:  # one line on home, not a crash
            grid = Text(f"status not counted: {exc}", style="bold red")
        self.app.call_from_thread(self._show, grid)

    def _show(self, grid: Table | Text) -> None:
        self.query_one("#status", Static).update(grid)  # counts hide blind dual labels
        self.sub_title = f"{self.app.user} · home"
        self.counted = True

    def action_open_selected(self) -> None:
        ol = self.query_one(OptionList)
        if ol.highlighted is not None:
            self.app.open_mode(ol.get_option_at_index(ol.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.app.open_mode(event.option.id)

    def on_key(self, event: events.Key) -> None:
        for m in MODES:
            if event.character == m.key:
                event.stop()
                self.app.open_mode(m.id)
                return

    def extra_help_rows(self) -> list[tuple[str, str, str]]:
        return [(m.key, f"open {m.title}", f"mode {m.id}") for m in MODES]
