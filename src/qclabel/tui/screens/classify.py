"""Classification and pass/fail: one key per defect class, severity, flag, skip.

Every label key commits through `Labeler.apply` (journal append + fsync) before the
screen says "saved" or moves on; if the commit fails, the error is shown and the
screen stays on the image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding
from textual.widgets import Static

from ...core import edits
from ...core.model import ImageRecord
from ...core.taxonomy import DefectClass
from ...errors import QclabelError
from ..suggesting import accept_edit, offered, panel_text, reject_on
from ..widgets.panels import info_text, labels_text, legend_text, status_text
from .classify_multi import MultiLabel
from .consensus import ConsensusRequest
from .dialogs import PromptScreen
from .history import UndoRedo
from .queue_nav import QueueNavigation
from .viewer import PREFETCH_AHEAD, PREFETCH_BEHIND, ImageScreen

if TYPE_CHECKING:  # formats loads every export format: imported when a suggestion is
    from ...formats import suggestions as sg


class ClassifyScreen(MultiLabel, ConsensusRequest, QueueNavigation, UndoRedo, ImageScreen):
    HELP_TITLE = "classify"
    BINDINGS = [
        Binding("n,right", "move(1)", "Next", id="classify.next"),
        Binding("b,left", "move(-1)", "Back", id="classify.back"),
        Binding("s", "skip", "Skip", id="classify.skip"),
        Binding("u", "undo", "Undo", id="classify.undo"),
        Binding("r", "redo", "Redo", id="classify.redo"),
        Binding("x", "flag", "Unsure", id="classify.flag"),
        Binding("c", "request_consensus", "To consensus", id="classify.consensus"),
        Binding("v", "cycle_severity", "Severity", id="classify.severity"),
        Binding("a", "toggle_auto", "Auto-advance", id="classify.auto"),
        Binding("g", "jump", "Go to", id="classify.jump"),
        Binding("slash", "cycle_queue", "Queue", id="classify.queue"),
        Binding("colon,ctrl+f", "filter_queue", "Filter", id="classify.filter"),
        Binding("plus", "add_class", "Add class", id="classify.add_class"),
        Binding("enter", "accept_suggestion", "Accept suggestion", id="classify.accept"),
        Binding("backspace", "reject_suggestion", "Reject suggestion", id="classify.reject"),
        Binding("i", "toggle_info", "Info", id="classify.info", show=False),
    ] + ImageScreen.BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self.auto_advance = True
        self.pending: DefectClass | None = None  # class waiting for its severity key
        self.highlighted: DefectClass | None = None
        self.suggestion: sg.Suggestion | None = None  # imported prediction on offer

    def side_widgets(self):
        return (Static(id="legend"), Static(id="labels"), Static(id="info"))

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · {self.app.label_task}"
        # Fixed sizes: text updates then repaint only their own lines, never re-layout
        # the screen (a layout pass costs tens of ms on every image change).
        tax = self.taxonomy
        most_severities = max((len(c.severities) for c in tax.classes), default=0)
        self.query_one("#legend").styles.height = max(len(tax.classes) + 3, most_severities + 2)

    # -- ImageScreen hooks -------------------------------------------------------------
    def current_record(self) -> ImageRecord | None:
        return self.labeler.record()

    def prefetch_records(self) -> list[ImageRecord]:
        lab = self.labeler
        ids = lab.queue[lab.index + 1 : lab.index + 1 + PREFETCH_AHEAD]
        ids += lab.queue[max(0, lab.index - PREFETCH_BEHIND) : lab.index]
        return [lab.record(i) for i in ids]

    def empty_text(self) -> str:
        if self.labeler.queue_terms:  # say the filter too: it is why the queue is empty
            return (
                f"queue '{self.labeler.queue_spec}' is empty: press : to change the "
                "filter, / for another queue, escape for home"
            )
        return (
            f"queue '{self.labeler.queue_name}' is empty: press / for another queue, "
            "escape for home"
        )

    def after_image_change(self) -> None:
        self.pending = None
        # After the repaint: the position write must not compete with the new frame.
        self.call_after_refresh(self.app.background, self.labeler.save_position)
        self.refresh_panels()

    def refresh_panels(self) -> None:
        ann = self.labeler.annotation()
        self.highlighted = self._class_of(ann.defect_class) or self.highlighted
        self.set_text(
            "#legend", legend_text(self.taxonomy, self.pending, self.app.label_task == "passfail")
        )
        self.set_text("#labels", labels_text(ann, self.taxonomy))
        rec = self.current_record()
        self.suggestion = offered(self.app.project, self.app.user, self.labeler.current, ann)
        info = info_text(rec, self.highlighted) if rec else ""
        self.set_text("#info", panel_text(self.suggestion) + info if self.suggestion else info)
        self.refresh_status()

    def set_text(self, selector: str, content) -> None:
        """Update a fixed-size text widget only if its text changed: a label key then
        sends a few lines, never the whole side panel (and never a layout pass)."""
        widget = self.query_one(selector, Static)
        if getattr(widget, "_shown", None) != content:
            widget._shown = content
            widget.update(content, layout=False)

    def refresh_status(self) -> None:
        lab = self.labeler
        done, total = lab.done_total()
        self.set_text(
            "#statusbar",
            status_text(
                lab.index + 1,
                total,
                done,
                lab.labels_per_hour(),
                lab.queue_name,
                self.auto_advance,
                self.view_status(),
            ),
        )

    def say(self, text: str, error: bool = False) -> None:
        self.query_one("#message", Static).set_class(error, "error")
        self.set_text("#message", text)

    def _class_of(self, name: str | None) -> DefectClass | None:
        return self.taxonomy.get(name) if name else None

    # -- label keys (taxonomy hotkeys are data, so they are handled here) ---------------
    def on_key(self, event: events.Key) -> None:
        char = event.character or ""
        if self.pending is not None and self._severity_key(event, char):
            return
        if self.labeler.current is None or not char or self.multi_key(event, char):
            return
        tax = self.taxonomy
        if char == tax.pass_key:
            event.stop()
            self.label(edits.set_verdict("pass"), "pass", advance=True)
        elif char == tax.fail_key:
            event.stop()
            self.label(edits.set_verdict("fail"), "fail", advance=not tax.classes)
        elif (cls := tax.by_hotkey(char)) is not None:
            event.stop()
            self.highlighted = cls
            # A class with one severity gets it without asking (core.consistency).
            what = cls.name + (f" ({cls.fixed_severity})" if cls.fixed_severity else "")
            if self.label(edits.set_class(cls.name), what, advance=not cls.asks_severity):
                if cls.asks_severity:
                    self.pending = cls
                    self.refresh_panels()

    def _severity_key(self, event: events.Key, char: str) -> bool:
        """A severity digit labels it; escape leaves it unset; any other key also leaves
        it unset and then does its usual job (q still quits at once, `p` passes the
        image): True when the key was the prompt's own."""
        cls, self.pending = self.pending, None
        assert cls is not None
        names = cls.severity_names()
        if char.isdigit() and 1 <= int(char) <= len(names):
            event.stop()
            sev = names[int(char) - 1]
            self.label(edits.set_severity(sev), f"{cls.name} ({sev})", advance=True)
            return True
        self.refresh_panels()
        self.say(f"{cls.name} saved without severity")
        if event.key == "escape":
            event.stop()
            return True
        return False

    def label(self, edit: edits.Edit, what: str, advance: bool, note: str | None = None) -> bool:
        """Commit, then say saved, then (maybe) advance. False if the commit failed."""
        image = self.labeler.current
        try:
            self.labeler.apply(image, edit, note=note)
        except QclabelError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return False
        self.say(f"saved: {what}")
        if advance and self.auto_advance and self.labeler.move(1):
            self.show_image()
        else:
            self.refresh_panels()
        return True

    # -- actions ----------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if self.labeler.move(delta):
            self.say("")
            self.show_image()
        else:
            self.say("end of queue" if delta > 0 else "start of queue")

    def action_skip(self) -> None:
        if self.labeler.current and self.label(edits.skip(), "skipped", advance=False):
            self.action_move(1)

    def refresh_after_history(self) -> None:
        self.refresh_panels()

    def action_flag(self) -> None:
        image = self.labeler.current
        if image is None:
            return

        def done(note: str | None) -> None:
            if note is not None and self.labeler.current == image:
                self.label(
                    edits.set_flag(note.strip() or "unsure"), "flagged as unsure", advance=True
                )

        current = self.labeler.annotation().flag or ""
        self.app.push_screen(
            PromptScreen(
                "Flag as unsure: why? (Enter saves, Esc cancels)",
                "e.g. glare hides the edge",
                current,
            ),
            done,
        )

    def action_cycle_severity(self) -> None:
        ann = self.labeler.annotation()
        cls = self._class_of(ann.defect_class)
        if cls is None or not cls.severities:
            self.say("no defect class with severities on this image")
            return
        names = cls.severity_names()
        nxt = (
            names[(names.index(ann.severity) + 1) % len(names)]
            if ann.severity in names
            else names[0]
        )
        self.label(edits.set_severity(nxt), f"{cls.name} ({nxt})", advance=False)

    def action_accept_suggestion(self) -> None:
        s = self.suggestion
        if s is None or s.image != self.labeler.current:
            self.say("no suggestion on this image")
            return
        from ...formats import suggestions as sg  # a suggestion is on offer: loaded

        after = sg.accept(s, self.labeler.annotation()).after
        cls = self._class_of(after.defect_class)
        # Like the label keys: wait for a severity (or a class after fail) before moving on.
        needs_severity = bool(cls and cls.asks_severity and after.severity is None)
        needs_class = after.verdict == "fail" and not after.defect_class and self.taxonomy.classes
        done = self.label(
            accept_edit(s),
            f"accepted suggestion from {s.source}",
            advance=not (needs_severity or needs_class),
            note=sg.accept_note(s),
        )
        if done and needs_severity:
            self.pending = cls
            self.refresh_panels()

    def action_reject_suggestion(self) -> None:
        s = self.suggestion
        if reject_on(self, s if s and s.image == self.labeler.current else None):
            self.refresh_panels()

    def action_toggle_auto(self) -> None:
        self.auto_advance = not self.auto_advance
        self.refresh_status()

    def action_toggle_info(self) -> None:
        self.query_one("#side").toggle_class("hidden")

    def extra_help_rows(self) -> list[tuple[str, str, str]]:
        tax = self.taxonomy
        rows = [
            (tax.pass_key, "pass", "taxonomy.pass_key"),
            (tax.fail_key, "fail", "taxonomy.fail_key"),
        ]
        rows += [(c.hotkey, f"class {c.name}", "taxonomy class") for c in tax.classes]
        rows.append(("1-9 after a class", "its severity (esc: none)", "taxonomy severities"))
        return rows
