"""Imported predictions, shown to the operator as suggestions to accept or reject.

Each predictions set is one document in `suggestions.json` (the store's atomic document
collection): where it came from, who imported it, and an annotation per image. A
suggestion never changes anyone's labels by itself: accepting one is an ordinary label
change (`accept` returns the `Change`; the caller commits it with `accept_note`),
rejecting one only hides it from that operator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from ..core.edits import Change
from ..core.kinds import KINDS
from ..core.model import Annotation
from ..errors import FormatError
from ..project import Project

COLLECTION = "suggestions"
_cache: dict[str, tuple[tuple[int, ...], list[dict[str, Any]]]] = {}


@dataclass(frozen=True)
class Suggestion:
    image: str
    source: str
    annotation: Annotation
    scores: tuple[float, ...] = ()  # model confidence per box, keypoint set, then mask


def store(
    project: Project,
    name: str,
    labels: dict[str, Annotation],
    file: str,
    user: str,
    scores: dict[str, list[float]] | None = None,
) -> None:
    """Save a predictions set; importing under an existing name replaces that set."""
    docs = project.store.documents(COLLECTION)
    docs.put(
        name,
        {
            "file": file,
            "imported_by": user,
            "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "images": {i: a.to_dict() for i, a in labels.items()},
            "scores": scores or {},
            "rejected": {},
        },
    )


def _sets(project: Project) -> list[dict[str, Any]]:
    """All predictions sets, newest first; re-read only when the file changed: each
    write puts a new file in its place (another inode), and the times of two writes in
    one clock tick (a few milliseconds on many systems) are the same."""
    docs = project.store.documents(COLLECTION)
    key = str(docs.path)
    try:
        st = docs.path.stat()
    except FileNotFoundError:
        return []
    mtime = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    hit = _cache.get(key)
    if hit is None or hit[0] != mtime:
        sets = sorted(docs.all(), key=lambda d: (d.get("imported_at", ""), d["name"]), reverse=True)
        _cache[key] = hit = (mtime, sets)
    return hit[1]


def get(project: Project, image_id: str, user: str | None = None) -> Suggestion | None:
    """The newest predictions set's suggestion for the image, unless `user` rejected it."""
    for doc in _sets(project):
        ann = doc.get("images", {}).get(image_id)
        if ann is None:
            continue
        if user and image_id in doc.get("rejected", {}).get(user, []):
            continue
        return Suggestion(
            image_id,
            doc["name"],
            Annotation.from_dict(ann),
            tuple(doc.get("scores", {}).get(image_id, ())),
        )
    return None


def suggestion_for(project: Project, image_id: str, user: str | None = None) -> Annotation | None:
    s = get(project, image_id, user)
    return s.annotation if s else None


def accept(suggestion: Suggestion, current: Annotation) -> Change:
    """Add the suggested objects to the operator's labels; the suggested verdict, class
    and severity fill in only what the operator has not set."""
    s = suggestion.annotation
    after = replace(
        current,
        verdict=current.verdict or s.verdict,
        defect_class=current.defect_class or s.defect_class,
        severity=current.severity if current.defect_class else s.severity,
        skipped=False,
        **{
            k.field: getattr(current, k.field)
            + tuple(o for o in getattr(s, k.field) if o not in getattr(current, k.field))
            for k in KINDS
        },
    )
    return Change(suggestion.image, current, after)


def accept_note(suggestion: Suggestion) -> str:
    return f"accepted suggestion from {suggestion.source}"


def reject(project: Project, suggestion: Suggestion, user: str) -> None:
    """Hide the suggestion from `user` (labels are untouched)."""
    docs = project.store.documents(COLLECTION)
    doc = docs.get(suggestion.source)
    if doc is None:
        raise FormatError(f"no predictions set {suggestion.source!r} in {docs.path}")
    rejected = doc.get("rejected", {})
    mine = rejected.setdefault(user, [])
    if suggestion.image not in mine:
        mine.append(suggestion.image)
        docs.put(suggestion.source, {k: v for k, v in doc.items() if k != "name"})
