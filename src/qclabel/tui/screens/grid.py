"""Grid triage (placeholder until the contact sheet lands)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class GridScreen(Screen):
    HELP_TITLE = "grid triage"

    def compose(self) -> ComposeResult:
        yield Static("grid triage", id="sheet")
        yield Footer()
