"""Moving through the queue by what a person knows: go to an image by number or file
name (`g`), filter the queue by lot, station, class, ... (`:`), switch queues (`/`).
A mixin for a screen that labels through `self.labeler` and shows `self.show_image()`."""

from __future__ import annotations

from ..labeling import QUEUES
from .dialogs import PromptScreen


class QueueNavigation:
    def action_jump(self) -> None:
        def done(ref: str | None) -> None:
            if ref is None:
                return
            lab = self.labeler
            hits = lab.find(ref)
            if len(hits) == 1:
                lab.index = hits[0]
                self.show_image()
            elif hits:
                self.say(
                    f"{len(hits)} images match {ref.strip()!r}: type more of the path "
                    "(e.g. cam2/0042.png) or the number",
                    error=True,
                )
            else:
                self.say(f"no image {ref.strip()!r} in queue {lab.queue_name}", error=True)

        self.app.push_screen(
            PromptScreen(
                f"Go to image: number 1-{len(self.labeler.queue)} or file name",
                "e.g. 17 or part_0042.png",
            ),
            done,
        )

    def action_filter_queue(self) -> None:
        """Type a queue spec (`lot=L07`, `all,station=S2|S3`, empty: no filter); the
        image on screen stays current if it matches."""
        lab = self.labeler

        def done(spec: str | None) -> None:
            if spec is None:
                return
            terms = spec.strip() or lab.queue_name  # empty: the queue without filters
            try:
                lab.load_queue(terms, keep=None)
            except ValueError as exc:
                self.say(str(exc), error=True)
                return
            self.say(f"queue: {lab.queue_spec} ({len(lab.queue)} images)")
            self.show_image()

        current = ",".join(str(t) for t in lab.queue_terms)
        self.app.push_screen(
            PromptScreen(
                "Filter the queue: key=value[,key=value] (lot, station, camera, class, state, "
                "file, any ingest field; a|b alternatives; key!=v excludes)",
                "e.g. lot=L07,class=crack",
                current,
            ),
            done,
        )

    def action_cycle_queue(self) -> None:
        lab = self.labeler
        name = QUEUES[(QUEUES.index(lab.queue_name) + 1) % len(QUEUES)]
        lab.load_queue(str(lab.queue_spec.with_name(name)), keep=lab.current)  # filters stay
        self.say(f"queue: {lab.queue_spec} ({len(lab.queue)} images)")
        self.show_image()
