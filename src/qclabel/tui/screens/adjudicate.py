"""Adjudication: resolve disagreements between two blind annotators, most important
first (pass/fail, class, geometry, severity, then consensus requests).

Annotator A's boxes and keypoints are drawn in one colour, B's in another; `o` shows
both, only A or only B. `a` takes A, `b` takes B, `e` edits the verdict, class and
severity starting from the side on screen, `t` opens the box (or keypoint) tools on it.
`c` writes the note; without one the decision records what was taken and what the
disagreement was. Every decision is a `final` event in the adjudicator's journal
(qa.decisions.adjudicate), saved before the screen moves on.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...core import edits, kinds
from ...core.model import Annotation, ImageRecord
from ...core.naming import image_name
from ...errors import QclabelError
from ...qa.decisions import Disagreement, adjudicate, adjudication_queue
from ...render.overlay import Overlay, draw_box, draw_keypoints
from ..widgets.overlay import OverlayImageView
from ..widgets.sides import case_text, sides_panel
from .decision_queue import DecisionQueueScreen
from .dialogs import PromptScreen

COLOURS = {"A": "#29b6f6", "B": "#ff7043"}  # light blue vs orange: apart for most eyes
SHOW_CYCLE = ("both", "A", "B")


def describe(ann: Annotation) -> str:
    parts = [ann.verdict or "-"]
    if ann.defect_class:
        parts.append(ann.defect_class + (f" ({ann.severity})" if ann.severity else ""))
    lines = [" ".join(parts)]
    lines += [f"  {k.describe(obj)}" for k, obj in kinds.objects(ann)]
    lines += [f"  check {pos}: {outcome}" for pos, outcome in ann.checks]
    return "\n".join(lines)


def parse_edit(text: str, class_names: list[str]) -> list[edits.Edit]:
    """'pass', 'fail', '<class>', '<class> <severity>' or '<severity>' as edits."""
    words = text.split()
    if not words:
        raise ValueError("type a verdict, a class, or a class and a severity")
    if words[0] in ("pass", "fail") and len(words) == 1:
        return [edits.set_verdict(words[0])]
    if words[0] in class_names:
        return [edits.set_class(words[0], words[1] if len(words) > 1 else None)]
    if len(words) == 1:
        return [edits.set_severity(words[0])]
    raise ValueError(f"{words[0]!r} is not pass, fail or a defect class ({', '.join(class_names)})")


class AdjudicateScreen(DecisionQueueScreen):
    HELP_TITLE = "adjudicate"
    BINDINGS = [
        Binding("a", "take('A')", "Take A", id="adjudicate.take_a"),
        Binding("b", "take('B')", "Take B", id="adjudicate.take_b"),
        Binding("e", "edit", "Edit class from shown side", id="adjudicate.edit"),
        Binding("t", "tools", "Box/keypoint tools", id="adjudicate.tools"),
        Binding("o", "cycle_overlay", "Show A/B/both", id="adjudicate.overlay"),
        Binding("c", "note", "Note", id="adjudicate.note"),
        Binding("n,right", "move(1)", "Next", id="adjudicate.next"),
        Binding("p,left", "move(-1)", "Back", id="adjudicate.back"),
        Binding("f5", "reload", "Reload queue", id="adjudicate.reload", show=False),
        Binding(
            "pagedown", "scroll_sides(1)", "Labels: more", id="adjudicate.page_down", show=False
        ),
        Binding("pageup", "scroll_sides(-1)", "Labels: back", id="adjudicate.page_up", show=False),
    ] + DecisionQueueScreen.BINDINGS

    SIDE_PANELS = ("case", "labels")
    NOTE_PROMPT = (
        "Why is this the right label? (Enter keeps it)",
        "e.g. crack visible under raking light",
    )

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[Disagreement] = []
        self.show = "both"

    def side_widgets(self):
        # Both annotators' labels in full: a column that scrolls (pageup/pagedown) when a
        # small terminal cannot hold them; never focused, so keys stay the screen's.
        return [Static(id="case"), VerticalScroll(Static(id="labels"), id="sides", can_focus=False)]

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · adjudicate"
        self.load_queue()

    def load_queue(self) -> None:
        user = self.app.user
        self.queue = [d for d in adjudication_queue(self.app.project) if user not in d.annotators]
        self.index = min(self.index, max(len(self.queue) - 1, 0))

    @property
    def current(self) -> Disagreement | None:
        return self.queue[self.index] if self.queue else None

    def current_image(self) -> str | None:
        return self.current.image if self.current else None

    # -- ImageScreen hooks ---------------------------------------------------------------
    def current_record(self) -> ImageRecord | None:
        d = self.current
        return self.app.project.store.catalog.get(d.image) if d else None

    def prefetch_records(self) -> list[ImageRecord]:
        nxt = self.queue[self.index + 1 : self.index + 3]
        return [self.app.project.store.catalog.get(d.image) for d in nxt]

    def empty_text(self) -> str:
        return "no disagreements left to adjudicate"

    # -- drawing -------------------------------------------------------------------------
    def side(self, which: str) -> Annotation | None:
        d = self.current
        i = 0 if which == "A" else 1
        return d.labels[i] if d and i < len(d.labels) else None

    def redraw(self) -> None:
        view = self.query_one("#image", OverlayImageView)
        vp = self.frame.viewport if self.frame is not None else None
        ov = Overlay()
        if vp is not None and self.current is not None:
            tax = self.app.project.taxonomy
            for which in ("A", "B"):
                ann = self.side(which)
                if ann is None or self.show not in ("both", which):
                    continue
                for box in ann.boxes:
                    draw_box(ov, vp, box, COLOURS[which])
                for kps in ann.keypoints:
                    skeleton = (
                        tax.template(kps.template).skeleton
                        if any(t.name == kps.template for t in tax.keypoint_templates)
                        else ()
                    )
                    draw_keypoints(ov, vp, kps, skeleton, COLOURS[which])
        view.set_overlay(ov)

    def refresh_panels(self) -> None:
        d = self.current
        if d is None:
            self.query_one("#case", Static).update("")
            self.query_one("#labels", Static).update("")
        else:
            rec = self.current_record()
            self.query_one("#case", Static).update(
                case_text(
                    self.index + 1, len(self.queue), rec, d.kind, d.detail, self.notes.get(d.image)
                )
            )
            names = (tuple(d.annotators) + ("-", "-"))[:2]
            self.query_one("#labels", Static).update(
                sides_panel(self.side("A"), self.side("B"), names, COLOURS, self.show)
            )
        self.query_one("#statusbar", Static).update(self.status_line())

    def status_line(self) -> str:
        start = "B" if self.show == "B" else "A"
        picture = {"both": "A and B", "A": "A only", "B": "B only"}[self.show]
        return (
            f"picture: {picture}  ·  e/t start from {start}  ·  {len(self.queue)} to decide"
            f"  {self.view_status()}"
        )

    def file_name(self, image: str) -> str:
        rec = self.app.project.store.catalog.get(image)
        return image_name(rec) if rec else image

    # -- actions -------------------------------------------------------------------------
    def action_cycle_overlay(self) -> None:
        self.show = SHOW_CYCLE[(SHOW_CYCLE.index(self.show) + 1) % len(SHOW_CYCLE)]
        a, b = self.side("A"), self.side("B")
        if not any(x and (x.boxes or x.keypoints) for x in (a, b)):
            self.say(
                "no boxes or keypoints on either side: o only picks the side e and t start from"
            )
        self.refresh_panels()
        self.redraw()

    def action_scroll_sides(self, pages: int) -> None:
        sides = self.query_one("#sides", VerticalScroll)
        (sides.scroll_page_down if pages > 0 else sides.scroll_page_up)(animate=False)

    def action_reload(self) -> None:
        self.load_queue()
        self.show_image()

    def action_take(self, which: str) -> None:
        ann = self.side(which)
        if ann is None:
            self.say(f"no labels from annotator {which} on this image", error=True)
            return
        self.decide(which, ann)

    def action_edit(self) -> None:
        start = "B" if self.show == "B" else "A"
        base = self.side(start)
        d = self.current
        if d is None or base is None:
            return
        names = self.app.project.taxonomy.class_names()

        def done(text: str | None) -> None:
            if text is None or self.current is not d:
                return
            try:
                after = edits.apply(d.image, base, *parse_edit(text, names)).after
            except ValueError as exc:
                self.say(str(exc), error=True)
                return
            self.decide("edited", after, start)

        value = " ".join(x for x in (base.defect_class or base.verdict, base.severity) if x)
        self.app.push_screen(
            PromptScreen(
                f"Edit from {start}: pass | fail | class [severity]", "e.g. dent major", value
            ),
            done,
        )

    def action_tools(self) -> None:
        """The box (or keypoint) screen on a draft final label, starting from the side
        on screen; each edit there is saved as the final label."""
        from ...qa.final_draft import FinalDraft
        from .adjudicate_tools import FinalBoxScreen, FinalKeypointScreen

        start = "B" if self.show == "B" else "A"
        base, d = self.side(start), self.current
        if d is None or base is None:
            return
        draft = FinalDraft(
            self.app.project, self.app.session, d.image, base, start, self.notes.get(d.image)
        )
        tax = self.app.project.taxonomy
        keypoints = bool(base.keypoints) or (tax.has_task("keypoint") and not base.boxes)
        screen = FinalKeypointScreen(draft) if keypoints else FinalBoxScreen(draft)

        def done(decisions: int | None) -> None:
            if decisions:
                self.queue.remove(d)
                self.index = min(self.index, max(len(self.queue) - 1, 0))
                self.say(f"final label saved for {self.file_name(d.image)}: edited from {start}")
            self.show_image()

        self.app.push_screen(screen, done)

    def decide(self, source: str, ann: Annotation, start: str | None = None) -> None:
        d = self.current
        if d is None:
            return
        what = f"{source} (from {start})" if start else source
        note = self.notes.get(d.image) or f"took {what}: {d.detail}"
        try:
            adjudicate(self.app.project, self.app.session, d.image, source, ann, note)
        except QclabelError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return
        self.queue.pop(self.index)
        self.index = min(self.index, max(len(self.queue) - 1, 0))
        self.say(f"final label saved for {self.file_name(d.image)}: {what}")
        self.show_image()
