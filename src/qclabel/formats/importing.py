"""Import labels from COCO, YOLO, VOC, labelme or our CSV/JSONL into a project.

Everything is read, matched to the catalog and validated before anything is written:
an unknown class, a box outside its image, a size that disagrees with the catalog, bad
JSON or an image that is not in the project refuses the whole import and changes
nothing. Labels then go either into a named annotator's journal (admin only, through
that annotator's session, note "imported from FILE") or into a predictions set the
labeling screen shows as suggestions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from ..core.edits import Change
from ..core.kinds import KINDS
from ..core.model import Annotation, ImageRecord
from ..errors import FormatError, PermissionDenied
from .. import identity
from ..project import Project
from .objects import check_other_kinds, clip_other_kinds
from .safe_read import shown

IMPORT_FORMATS = ("coco", "yolo", "voc", "labelme", "csv", "jsonl", "cvat", "labelstudio")
TOLERANCE_PX = 0.5  # rounding in other tools' exports; more than that is a real error
_NOTHING = Annotation()


@dataclass(frozen=True)
class Parsed:
    """One image's labels as read from a file, before matching."""

    name: str
    annotation: Annotation
    where: str
    sha256: str | None = None
    size: tuple[int, int] | None = None
    scores: tuple[float, ...] = ()  # per object (boxes, keypoint sets, masks), predictions

    def above(self, min_score: float | None) -> "Parsed":
        """Only the objects scored at least `min_score` (unscored objects stay)."""
        if min_score is None or not self.scores:
            return self
        keep = iter([s >= min_score for s in self.scores])
        # Scores run over the objects kind by kind, in registry order.
        objs: dict[str, Any] = {
            k.field: tuple(o for o in getattr(self.annotation, k.field) if next(keep))
            for k in KINDS
        }
        ann = replace(
            self.annotation,
            **objs,
            verdict=self.annotation.verdict if any(objs.values()) else "pass",
        )
        return replace(self, annotation=ann, scores=tuple(s for s in self.scores if s >= min_score))


@dataclass
class ImportReport:
    images: int
    changed: int
    target: str


class Matcher:
    """Find the catalog image an import file means: sha256, file name, stem, or the
    `stem_<id>` names our exports give to clashing stems."""

    def __init__(self, records: list[ImageRecord]):
        self.by_sha = {r.sha256: r for r in records}
        self.by_id = {r.id: r for r in records}
        self.by_name: dict[str, list[ImageRecord]] = {}
        self.by_stem: dict[str, list[ImageRecord]] = {}
        for r in records:
            for base in {os.path.basename(r.source), os.path.basename(r.file)}:
                self.by_name.setdefault(base, []).append(r)
            stems = {os.path.splitext(os.path.basename(p))[0] for p in (r.source, r.file)}
            for stem in stems:
                self.by_stem.setdefault(stem, []).append(r)

    def find(self, name: str, sha256: str | None, where: str) -> ImageRecord:
        if sha256:
            if sha256 in self.by_sha:
                return self.by_sha[sha256]
            raise FormatError(f"{where}: image sha256 {sha256[:16]}... is not in the catalog")
        base = os.path.basename(name)
        stem = os.path.splitext(base)[0]
        for hits in (self.by_name.get(base), self.by_stem.get(stem)):
            if hits and len(hits) == 1:
                return hits[0]
            if hits:
                raise FormatError(
                    f"{where}: image {shown(name)} matches {len(hits)} catalog "
                    "images; import a file that names them by sha256"
                )
        # stem_<8 digits of the id>, or (a name taken even so) stem_<id>, stem_<id>_<n>
        head, _, tail = stem.rpartition("_")
        if tail.isdigit() and len(tail) < 8:
            head, _, tail = head.rpartition("_")
        hits = [r for i, r in self.by_id.items() if len(tail) >= 8 and i.startswith(tail)]
        if head and len(hits) == 1 and (len(tail) == 8 or tail == hits[0].id):
            return hits[0]
        raise FormatError(f"{where}: image {shown(name)} is not in the project's catalog")


def match_all(project: Project, parsed: list[Parsed]) -> dict[str, Parsed]:
    """image id -> parsed labels, validated against the catalog and the taxonomy."""
    matcher = Matcher(project.store.catalog.all())
    out: dict[str, Parsed] = {}
    seen: dict[str, str] = {}
    for p in parsed:
        rec = matcher.find(p.name, p.sha256, p.where)
        if rec.id in seen:
            raise FormatError(
                f"{p.where}: image {p.name!r} is labeled twice (also in {seen[rec.id]})"
            )
        seen[rec.id] = p.where
        if p.size and tuple(p.size) != (rec.width, rec.height):
            raise FormatError(
                f"{p.where}: size {p.size[0]}x{p.size[1]} of {p.name!r} "
                f"differs from the catalog's {rec.width}x{rec.height} "
                "(EXIF-rotated or a different image)"
            )
        validate(project, rec, p.annotation, p.where)
        out[rec.id] = p
    return out


def validate(project: Project, rec: ImageRecord, ann: Annotation, where: str) -> None:
    tax = project.taxonomy
    classes = tax.class_names()

    def check_class(cls: str | None, severity: str | None, what: str) -> None:
        if cls is None:
            return
        if cls not in classes:
            raise FormatError(
                f"{where}: {what} class = {shown(cls)}: not in the taxonomy {classes}"
            )
        sev = tax.get(cls).severity_names()
        if severity is not None and severity not in sev:
            raise FormatError(
                f"{where}: {what} severity = {shown(severity)}: class {cls} "
                f"has {sev or 'no severities'}"
            )

    check_class(ann.defect_class, ann.severity, "image")
    for cls in ann.also:
        check_class(cls, None, "image")
    w, h = rec.width + TOLERANCE_PX, rec.height + TOLERANCE_PX
    for box in ann.boxes:
        check_class(box.cls, box.severity, "box")
        if (
            box.w <= 0
            or box.h <= 0
            or box.x < -TOLERANCE_PX
            or box.y < -TOLERANCE_PX
            or box.x2 > w
            or box.y2 > h
        ):
            raise FormatError(
                f"{where}: box {box.cls} at x={box.x:g} y={box.y:g} "
                f"w={box.w:g} h={box.h:g} is outside the "
                f"{rec.width}x{rec.height} image {rec.file}"
            )
    for kps in ann.keypoints:
        check_class(kps.cls, None, "keypoint set")
        for p in kps.points:
            if p.v and not (-TOLERANCE_PX <= p.x <= w and -TOLERANCE_PX <= p.y <= h):
                raise FormatError(
                    f"{where}: keypoint {p.name} at ({p.x:g}, {p.y:g}) is "
                    f"outside the {rec.width}x{rec.height} image {rec.file}"
                )
    check_other_kinds(ann, rec, where, check_class)


def clamp(ann: Annotation, rec: ImageRecord) -> Annotation:
    """Pull coordinates within the rounding tolerance back onto the image."""
    from ..core.geometry import clip_box

    w, h = rec.width, rec.height
    if any(b.x < 0 or b.y < 0 or b.x2 > w or b.y2 > h for b in ann.boxes):
        ann = replace(ann, boxes=tuple(clip_box(b, w, h) for b in ann.boxes))
    others = any(getattr(ann, k.field) for k in KINDS if k.name not in ("box", "keypoints"))
    return clip_other_kinds(ann, rec) if others else ann


def _same(a: Annotation, b: Annotation) -> bool:
    """Equal labels, ignoring the random ids of boxes and keypoint sets."""
    if a == _NOTHING or b == _NOTHING:  # the common case of a first import: no dicts
        return a == b

    def strip(x: Annotation) -> dict[str, Any]:
        d = x.to_dict()
        for key in [k.field for k in KINDS]:
            d[key] = [{k: v for k, v in o.items() if k != "id"} for o in d.get(key, [])]
        return d

    return strip(a) == strip(b)


def commit_as(project: Project, user: str, labels: dict[str, Annotation], source: str) -> int:
    """Write every changed image's labels through `user`'s own session as one batch:
    one write, one fdatasync, one mark, so an I/O error (or a kill) leaves none of
    them acknowledged, and 100k labels cost one fsync instead of 100k."""
    records = project.store.catalog.get_many(labels)  # one query per 500, not two per image
    missing = [i for i in labels if i not in records]
    if missing:
        raise KeyError(missing[0])
    with project.store.open_session(user) as session:
        changes = []
        for image in sorted(labels, key=lambda i: records[i].seq):
            before = session.annotation(image)
            after = clamp(labels[image], records[image])
            if not _same(before, after):
                changes.append(Change(image, before, after))
        if changes:
            session.commit_many(changes, note=f"imported from {source}")
    return len(changes)


def check_import_as(project: Project, actor: str, user: str) -> None:
    """Who may write labels as `user`: an admin, into the journal of an annotator; and
    since a journal must be owned by the OS user it is named for, only `user`'s own
    process or root can create or append to it."""
    project.require(actor, "admin", f"import labels as {user}")
    if not project.has_role(user, "annotator"):
        raise PermissionDenied(
            f"cannot import labels as {user}: {user} does not hold the "
            f"annotator role (an admin adds it with: qclabel role add "
            f"{project.root} {user} annotator)"
        )
    if os.geteuid() != 0 and user != identity.current_user():
        raise PermissionDenied(
            f"cannot import labels as {user}: {user}'s journal is "
            f"owned by {user}; run the import as {user} (or as root)"
        )
