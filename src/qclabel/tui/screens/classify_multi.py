"""Multi-label classification: `+` then a class key adds that class to the image as a
further class (a part with a scratch and a dent), `+` and the same key again takes it
away. The first class keeps its place as the main class (and alone its severity): an
image without a class gets the key's class as its main one. The label is journaled and
undoable like every other; the image does not advance."""

from __future__ import annotations

from textual import events

from ...core import edits


class MultiLabel:
    """Mixin for `ClassifyScreen` (uses its taxonomy, labeler, `label` and `say`)."""

    adding_class = False

    def action_add_class(self) -> None:
        if self.labeler.current is None:
            return
        self.adding_class = True
        self.say("further class: press its key (the same key again removes it)")

    def multi_key(self, event: events.Key, char: str) -> bool:
        """Handle the class key after `+`; False when the key is not for us."""
        if not self.adding_class:
            return False
        self.adding_class = False
        cls = self.taxonomy.by_hotkey(char) if char else None
        if cls is None:
            self.say("no class on that key: nothing added")
            return False  # the key still does its usual job
        event.stop()
        ann = self.labeler.annotation()
        if ann.defect_class == cls.name:
            self.say(f"{cls.name} is already the main class")
            return True
        word = "removed" if cls.name in ann.also else "added"
        self.label(edits.toggle_also(cls.name), f"{word} {cls.name}", advance=False)
        return True
