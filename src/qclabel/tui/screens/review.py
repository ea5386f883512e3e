"""Spot check: a reviewer confirms or corrects the sampled single-labeled images of the
QA plan (qa.plan), or sends an edge case to consensus review.

`o` confirms the annotator's labels, `e` corrects verdict, class and severity, `x` sends
the image to consensus review with a note, `c` writes the note. Each decision is a
`review` or `consensus` event in the reviewer's journal (qa.decisions), saved before the
screen moves on.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from ...core import edits
from ...core.model import Annotation, ImageRecord
from ...core.naming import image_name
from ...errors import QclabelError
from ...qa.decisions import labelers, request_consensus, review
from ...qa.plan import queue_items
from ...render.overlay import Overlay, draw_box
from .adjudicate import COLOURS, describe, parse_edit
from ..widgets.overlay import OverlayImageView
from .decision_queue import DecisionQueueScreen
from .dialogs import PromptScreen


class ReviewScreen(DecisionQueueScreen):
    HELP_TITLE = "spot check"
    BINDINGS = [
        Binding("o", "confirm", "Labels OK", id="review.ok"),
        Binding("e", "correct", "Correct", id="review.correct"),
        Binding("x", "consensus", "To consensus", id="review.consensus"),
        Binding("c", "note", "Note", id="review.note"),
        Binding("n,right", "move(1)", "Next", id="review.next"),
        Binding("p,left", "move(-1)", "Back", id="review.back"),
    ] + DecisionQueueScreen.BINDINGS

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · spot check"
        self.queue = [
            i.image for i in queue_items(self.app.project, self.app.user) if i.role == "reviewer"
        ]

    @property
    def current(self) -> str | None:
        return self.queue[self.index] if self.queue else None

    def current_image(self) -> str | None:
        return self.current

    def labeled(self) -> tuple[str, Annotation] | None:
        if self.current is None:
            return None
        found = labelers(self.app.project.store.all_states(), self.current)
        return found[0] if found else None

    def current_record(self) -> ImageRecord | None:
        return self.app.project.store.catalog.get(self.current) if self.current else None

    def empty_text(self) -> str:
        return "no spot checks waiting for you"

    def redraw(self) -> None:
        vp = self.frame.viewport if self.frame is not None else None
        ov = Overlay()
        found = self.labeled()
        if vp is not None and found:
            for box in found[1].boxes:
                draw_box(ov, vp, box, COLOURS["A"])
        self.query_one("#image", OverlayImageView).set_overlay(ov)

    def refresh_panels(self) -> None:
        text = Text()
        found = self.labeled()
        if self.current is not None:
            rec = self.current_record()
            text.append(f"{self.index + 1}/{len(self.queue)}  {image_name(rec)}\n", style="bold")
            text.append(f"note: {self.notes.get(self.current, '-')}\n")
        if found:
            text.append(f"labels by {found[0]}\n", style=f"bold {COLOURS['A']}")
            text.append(describe(found[1]) + "\n")
        self.query_one("#labels", Static).update(text)
        self.query_one("#statusbar", Static).update(
            f"{len(self.queue)} to check  {self.view_status()}"
        )

    def action_confirm(self) -> None:
        self.decide(
            lambda image: review(
                self.app.project, self.app.session, image, None, self.notes.get(image)
            ),
            "labels confirmed",
        )

    def action_correct(self) -> None:
        found, image = self.labeled(), self.current
        if found is None or image is None:
            return
        names = self.app.project.taxonomy.class_names()

        def done(text: str | None) -> None:
            if text is None or image != self.current:
                return
            try:
                fixed = edits.apply(image, found[1], *parse_edit(text, names)).after
            except ValueError as exc:
                self.say(str(exc), error=True)
                return
            note = self.notes.get(image) or f"corrected to {text.strip()}"
            self.decide(
                lambda i: review(self.app.project, self.app.session, i, fixed, note),
                f"corrected to {text.strip()}",
            )

        self.app.push_screen(
            PromptScreen("Correct: pass | fail | class [severity]", "e.g. dent major"), done
        )

    def action_consensus(self) -> None:
        image = self.current
        if image is None:
            return

        def done(note: str | None) -> None:
            if note is not None and image == self.current:
                self.decide(
                    lambda i: request_consensus(self.app.project, self.app.session, i, note),
                    "sent to consensus review",
                )

        self.app.push_screen(
            PromptScreen(
                "Why does this need consensus review?",
                "e.g. reflection or scratch?",
                self.notes.get(image, ""),
            ),
            done,
        )

    def decide(self, record, what: str) -> None:
        image = self.current
        if image is None:
            return
        try:
            record(image)
        except QclabelError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return
        self.queue.pop(self.index)
        self.index = min(self.index, max(len(self.queue) - 1, 0))
        rec = self.app.project.store.catalog.get(image)
        self.say(f"{image_name(rec) if rec else image}: {what}")
        self.show_image()
