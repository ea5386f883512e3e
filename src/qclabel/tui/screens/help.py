"""Help: every key of the screen underneath, generated from the live bindings (so a
remapped key shows as remapped), plus the taxonomy's class keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) for the screen's and the app's bindings. Only
    qclabel's own bindings have ids; Textual's built-in ones (focus cycling, copy) are
    left out."""
    rows, seen = [], set()
    for node in (screen, screen.app):
        for _key, binding in node._bindings:
            if not binding.id or binding.id in seen or not binding.description:
                continue
            keys = [k for k, b in node._bindings if b.id == binding.id]
            remapped = screen.app._keymap.get(binding.id)  # [keys] config wins
            if remapped:
                keys = [k.strip() for k in remapped.split(",")]
            seen.add(binding.id)
            display = ", ".join(screen.app.get_key_display(Binding(k, "")) for k in keys)
            rows.append((display, binding.description, binding.id))
    return rows


class HelpScreen(ModalScreen[None]):
    # q quits the app from here too: a modal screen hides the app's own bindings.
    BINDINGS = [
        Binding("escape,question_mark", "close", "Close", id="help.close"),
        Binding("q", "app.quit", "Quit", id="help.quit"),
    ]

    def __init__(self, under: Screen):
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"Keys: {getattr(self.under, 'HELP_TITLE', 'qclabel')}  "
                "(remap by id in \\[keys]; see README)"
            )
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "action", "id")
        for row in binding_rows(self.under):
            table.add_row(*row)
        extra = getattr(self.under, "extra_help_rows", None)
        for row in extra() if extra else []:
            table.add_row(*row)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
