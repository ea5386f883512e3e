"""Final labels for export: adjudicated (or a golden reference) > agreed dual > reviewed >
single.

An image labeled by two annotators who disagree, and not yet adjudicated, has no final
label: exporting it would pick a side silently. A `final` event counts only if its
author was an adjudicator (or admin) when it was written, a `review` only from a
reviewer: `Store.all_states()` leaves out every other (store/authority.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..core.model import Annotation
from ..errors import ConfigError, InvalidGeometry, JournalCorrupt
from ..project import Project
from .final_build import boxes_label

STATUSES = ("single", "reviewed", "agreed", "adjudicated")
RANK = {s: i for i, s in enumerate(STATUSES)}


@dataclass(frozen=True)
class FinalLabel:
    image: str
    annotation: Annotation
    status: str
    annotators: tuple[str, ...]
    decided_by: str | None = None


Agree = Callable[[Annotation, Annotation], bool]


def project_agree(project: Project) -> Agree:
    """The project's agreement rule: its box IoU, keypoint and mask IoU targets from
    [qa.targets]."""
    from .agreement import annotations_agree

    t = project.qa["targets"]
    box_iou, px, mask = float(t["box_iou"]), float(t["keypoint_px"]), float(t["mask_iou"])
    semantic = project.taxonomy.semantic
    return lambda a, b: annotations_agree(a, b, box_iou, px, mask, semantic)


def final_labels(
    project: Project,
    min_status: str | None = None,
    agree: Agree | None = None,
    images: Iterable[str] | None = None,
) -> dict[str, FinalLabel]:
    """Every catalog image that has a final label at or above `min_status`
    (default: the project's `[qa] min_status`); with `images`, only those of them in
    the catalog (one image for a golden reference, not a million)."""
    if min_status is None:
        min_status = project.qa.get("min_status", "single")
    if min_status not in RANK:
        raise ConfigError(
            project.config_path,
            "qa.min_status",
            min_status,
            f"expected one of {', '.join(STATUSES)}",
        )
    agree = agree or project_agree(project)
    from .golden import golden_set, without_answers

    raw = project.store.all_states()
    refs = golden_set(project, raw)
    states = without_answers(raw, refs)  # golden answers are scored, never final labels
    finals: dict[str, FinalLabel] = {}
    # The kinds any journal holds: an image's latest "final" or "review" is looked
    # for only when some journal has one (most projects' have neither, for most images).
    kinds = {k for s in states.values() for k, _ in s.entries}
    catalog = project.store.catalog
    wanted = catalog.ids() if images is None else [i for i in images if i in catalog]
    for image in wanted:
        label = _final_for(image, states, agree, kinds)
        if image in refs and (label is None or label.status != "adjudicated"):
            label = _golden_final(refs[image])
        if label and RANK[label.status] >= RANK[min_status]:
            finals[image] = label
    return finals


def _golden_final(ref: Any) -> FinalLabel:
    """An admin's golden reference decides an image nobody adjudicated (an imported one)."""
    return FinalLabel(ref.image, ref.annotation, "adjudicated", ref.labelers, ref.by)


def _final_for(
    image: str, states: dict[Any, Any], agree: Agree, kinds: set[str]
) -> FinalLabel | None:
    decided = _latest(image, states, "final") if "final" in kinds else None
    if decided:
        user, after = decided
        return FinalLabel(
            image,
            _built(after, user, image),
            "adjudicated",
            tuple(after.get("annotators", ())),
            user,
        )
    labels = {}
    for u, s in states.items():
        entry = s.entries.get(("label", image))  # what s.get(image) reads
        if entry and entry["after"] is not None:
            # s.annotation(image), built here when it holds only boxes (final_build)
            ann = boxes_label(entry["after"]) or s.annotation(image)
            if ann.is_labeled:
                labels[u] = ann
    reviewed = _latest(image, states, "review") if "review" in kinds else None
    if len(labels) >= 2:
        (ua, a), (ub, b) = sorted(labels.items())[:2]
        if agree(a, b):
            return FinalLabel(image, a, "agreed", (ua, ub))
        return None  # disagreement waits for the adjudicator
    if reviewed:
        user, after = reviewed
        return FinalLabel(
            image,
            _built(after, user, image),
            "reviewed",
            (after.get("of", ""),),
            user,
        )
    if labels:
        ((user, ann),) = labels.items()
        return FinalLabel(image, ann, "single", (user,))
    return None


def _built(after: Any, user: str, image: str) -> Annotation:
    """`Annotation.from_dict(after["annotation"])` of a decision (a `final` or `review`
    event); one that cannot be built is named, as LabelState names a label."""
    try:
        label = after["annotation"]
        return boxes_label(label) or Annotation.from_dict(label)
    except (InvalidGeometry, TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        raise JournalCorrupt(
            f"labels/{user}.jsonl: the decision on image {image} is not a label qclabel "
            f"writes ({exc}); {user} decides it again, or an admin restores the journal "
            "from a backup"
        ) from None


def _latest(image: str, states: dict[Any, Any], kind: str) -> tuple[str, dict[Any, Any]] | None:
    """The most recent event of `kind` on `image` across all journals."""
    best = None
    for user, state in states.items():
        entry = state.entries.get((kind, image))
        if entry and entry["after"] is not None and (best is None or entry["ts"] > best[2]):
            best = (user, entry["after"], entry["ts"])
    return (best[0], best[1]) if best else None
