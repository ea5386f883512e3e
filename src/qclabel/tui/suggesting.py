"""Imported predictions in the labeling screens: which suggestion to offer for the
image on screen, how to describe it, and the edit that accepts it.

`enter` accepts the suggestion shown (an ordinary journaled, undoable label change
with the note "accepted suggestion from NAME"), `backspace` rejects it (it is hidden
from this operator; labels are untouched). Neither key is a character, so no class
hotkey of a taxonomy can take them.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from rich.text import Text

from ..core import edits
from ..core.model import Annotation
from ..errors import QclabelError
from ..project import Project

if TYPE_CHECKING:
    from ..formats.suggestions import Suggestion


def _sg() -> ModuleType:
    """formats.suggestions, imported when a project has predictions: importing it
    loads every export format (a tenth of a second the first image would wait for)."""
    from ..formats import suggestions

    return suggestions


def has_predictions(project: Project) -> bool:
    """Whether any predictions set was ever imported (formats.suggestions keeps them in
    the project's `suggestions` documents)."""
    return project.store.documents("suggestions").path.exists()


KEYS_HINT = "enter accept · backspace reject"
STYLE = "bold magenta"


def offered(
    project: Project, user: str, image: str | None, current: Annotation
) -> Suggestion | None:
    """The suggestion to show: none when there is no prediction for the image, the
    operator rejected it, or accepting it would add nothing (already accepted)."""
    if image is None or not has_predictions(project):
        return None
    sg = _sg()
    s = sg.get(project, image, user)
    if s is None or sg.accept(s, current).after == current:
        return None
    return s


def accept_edit(s: Suggestion) -> edits.Edit:
    """The accept as an edit, so it goes through `Labeler.apply` like any label key."""
    return lambda ann: _sg().accept(s, ann).after


def summary(s: Suggestion) -> str:
    a, parts = s.annotation, []
    if a.verdict:
        parts.append(a.verdict.upper())
    if a.defect_class:
        parts.append(a.defect_class + (f" ({a.severity})" if a.severity else ""))
    if a.boxes:
        parts.append(f"{len(a.boxes)} box" + ("es" if len(a.boxes) > 1 else ""))
    if a.keypoints:
        parts.append(f"{len(a.keypoints)} keypoint sets")
    if s.scores:
        lo, hi = min(s.scores), max(s.scores)
        parts.append(f"score {hi:.2f}" if lo == hi else f"scores {lo:.2f}-{hi:.2f}")
    return ", ".join(parts) or "no objects"


def panel_text(s: Suggestion | None) -> Text:
    """Two lines for the side panel (empty when nothing is offered)."""
    t = Text()
    if s is not None:
        t.append(f"suggested ({s.source}): ", style=STYLE)
        t.append(summary(s) + "\n")
        t.append(KEYS_HINT + "\n\n", style="dim")
    return t


def reject_on(screen, s: Suggestion | None) -> bool:
    """Record `screen`'s user rejecting `s` and say so on the screen; False when there
    is nothing to reject or the rejection could not be saved."""
    if s is None:
        screen.say("no suggestion on this image")
        return False
    try:
        _sg().reject(screen.app.project, s, screen.app.user)
    except QclabelError as exc:
        screen.say(f"NOT saved: {exc}", error=True)
        return False
    screen.say(f"rejected suggestion from {s.source}")
    return True
