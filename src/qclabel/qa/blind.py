"""Blind dual annotation: an annotator never sees the other annotator's labels of a dual
image until it is adjudicated.

An image is protected while it is dual (in the plan, or labeled by two or more
annotators even outside the plan) and has no final label yet. Adjudicators (and admins,
who hold every role) see everything; everyone else sees only their own labels on a
protected image. This governs what qclabel shows (every command, see the README's
Blindness table); the journal files themselves are mode 0640 in the privileged group
(`qclabel init --privileged-group`), so an annotator cannot read another's either.
"""

from __future__ import annotations

from typing import Any, Callable

from ..core.model import Annotation
from ..errors import PermissionDenied
from ..project import Project
from .plan import dual_image_ids

# hidden(PRIVILEGED, image) is True for every viewer who may not see privileged events
# (golden references: which images are golden, and their answers).
PRIVILEGED = "\0privileged"
SECRET_KINDS = ("golden",)


def protected_images(project: Project, states: dict[Any, Any] | None = None) -> set[str]:
    states = project.store.all_states() if states is None else states
    dual = set(dual_image_ids(project))  # only what blindness needs of the plan
    finals: set[str] = set()
    labeled: list[set[str]] = []
    for state in states.values():
        labeled.append({image for image, _ in state.items("label")})
        finals.update(image for image, _ in state.items("final"))
    # labeled by two or more: each image seen in an earlier state is a second label
    seen: set[str] = set()
    for images in sorted(labeled, key=len, reverse=True):
        dual |= seen & images
        seen |= images
    return dual - finals


def sees_everything(project: Project, viewer: str) -> bool:
    """Adjudicators, and admins (who hold every role), see every label."""
    return project.has_role(viewer, "adjudicator")


def require_sees_everything(project: Project, viewer: str, action: str) -> None:
    """For commands whose output is other people's labels (export, version show/diff,
    another user's queue or audit log): adjudicators and admins only."""
    if not sees_everything(project, viewer):
        raise PermissionDenied(
            f"{viewer} may not {action}: it shows other annotators' labels (blind dual "
            f"annotation), so it needs the adjudicator or admin role (an admin adds it "
            f"with: qclabel role add {project.root} {viewer} adjudicator)"
        )


def hider(
    project: Project, viewer: str, states: dict[Any, Any] | None = None
) -> Callable[[str, str], bool]:
    """A predicate (owner, image) -> True when `viewer` must not see `owner`'s labels of
    `image`."""
    if sees_everything(project, viewer):
        return lambda owner, image: False
    protected = protected_images(project, states)
    return lambda owner, image: owner == PRIVILEGED or (owner != viewer and image in protected)


def visible_labels(project: Project, user: str, image: str) -> dict[str, Annotation]:
    """Every annotator's labels of `image` that `user` may see, by annotator."""
    states = project.store.all_states()
    hidden = hider(project, user, states)
    return {
        owner: state.annotation(image)
        for owner, state in states.items()
        if state.get(image, "label") is not None and not hidden(owner, image)
    }


def log_reader(project: Project, viewer: str, user: str | None) -> str | None:
    """Whose events `viewer` may read in the audit log: everyone's (None) for
    adjudicators and admins, else only their own. Another journal's events, even on
    images that are not blind, would give away by their sequence numbers how many
    events it holds on the blind ones."""
    if sees_everything(project, viewer):
        return user
    if user not in (None, viewer):
        require_sees_everything(project, viewer, f"read the audit log of {user}")
    return viewer
