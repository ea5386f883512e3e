"""Dataset versions: immutable manifests a trained model can be traced back to.

A manifest freezes the image hashes, the final labels, the taxonomy, a QA summary and
the export settings (split ratios, grouping field, seed, minimum status). It is stored
in `versions.json` through the store's atomic document collection; a name is never
overwritten. Exporting a version reads only the manifest (and the image bytes, whose
hashes it checks), so the same version always exports to the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from .core.model import Annotation
from .errors import QclabelError
from .project import Project
from .splits import SplitItem, assign_splits, group_key

MANIFEST_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class VersionError(QclabelError):
    """A dataset version name is taken, unknown or invalid."""


def content_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 over what defines the data (not the name, time or author)."""
    body = {k: manifest[k] for k in ("taxonomy", "images", "labels", "splits", "settings")}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def build_manifest(project: Project, *, min_status: str = "single",
                   ratios: tuple[float, ...] = (1.0,), group_by: str | None = None,
                   seed: int = 0) -> dict[str, Any]:
    """The project's current final labels as an (unnamed) manifest."""
    from .qa.final import final_labels
    from .store.replay import refuse_damage
    refuse_damage(project.store.all_states(), "a dataset version or export")
    finals = final_labels(project, min_status)
    catalog = project.store.catalog
    records = [catalog.get(i) for i in catalog.ids() if i in finals]
    times = _label_times(project)
    labels = {r.id: {"annotation": finals[r.id].annotation.to_dict(),
                     "status": finals[r.id].status,
                     "annotators": list(finals[r.id].annotators),
                     "decided_by": finals[r.id].decided_by,
                     "labeled_at": times.get(r.id, "")} for r in records}
    items = [SplitItem(r.id, tuple(finals[r.id].annotation.classes()),
                       group_key(r.id, r.fields, group_by, r.source)) for r in records]
    manifest = {
        "format": MANIFEST_FORMAT,
        "taxonomy": project.config["taxonomy"],
        "images": [_image_entry(r.to_dict()) for r in records],
        "labels": labels,
        "splits": assign_splits(items, ratios, seed),
        "settings": {"min_status": min_status, "split": list(ratios),
                     "group_by": group_by, "seed": seed},
        "qa": _qa_summary(project, finals),
    }
    manifest["hash"] = content_hash(manifest)
    return manifest


def _image_entry(d: dict[str, Any]) -> dict[str, Any]:
    """Catalog fields an export needs; EXIF blobs and ingest times stay in the catalog."""
    return {k: v for k, v in d.items() if k not in ("exif", "added", "seq")}


def _label_times(project: Project) -> dict[str, str]:
    """Latest time anyone changed the labels or decisions of each image."""
    out: dict[str, str] = {}
    for state in project.store.all_states().values():
        for (kind, image), entry in state.entries.items():
            if kind in ("label", "review", "final") and entry["ts"] > out.get(image, ""):
                out[image] = entry["ts"]
    return out


def _qa_summary(project: Project, finals: dict) -> dict[str, Any]:
    statuses = Counter(f.status for f in finals.values())
    labeled = set()
    for state in project.store.all_states().values():
        labeled |= {img for img, a in state.annotations().items() if a.is_labeled}
    return {"images_in_catalog": len(project.store.catalog),
            "images_in_version": len(finals),
            "status_counts": dict(sorted(statuses.items())),
            "labeled_without_final_label": len(labeled - set(finals)),
            "agreement": _agreement(project)}


def _agreement(project: Project) -> dict[str, Any] | None:
    """The QA report's headline figures (dual images, agreed, checks against targets)."""
    from .qa.report import build_report
    report = build_report(project)
    if not report.get("images"):
        return None
    keep = ("images", "agreed", "targets", "checks", "worst_classes", "pending_dual")
    return json.loads(json.dumps({k: report.get(k) for k in keep}, default=str))


# -- stored versions ------------------------------------------------------------------
def create_version(project: Project, name: str, user: str, **settings: Any) -> dict[str, Any]:
    if not _NAME.match(name):
        raise VersionError(f"version name {name!r}: use letters, digits, '.', '-' or '_'")
    docs = project.store.documents("versions")
    if docs.get(name) is not None:
        raise VersionError(f"dataset version {name!r} already exists in {docs.path}; "
                           "versions are immutable, pick a new name")
    manifest = build_manifest(project, **settings)
    manifest.update(name=name, created=datetime.now(timezone.utc).isoformat(
        timespec="seconds"), created_by=user, project=project.name)
    docs.put(name, manifest)
    return manifest


def get_version(project: Project, name: str) -> dict[str, Any]:
    doc = project.store.documents("versions").get(name)
    if doc is None:
        known = ", ".join(list_names(project)) or "none"
        raise VersionError(f"no dataset version {name!r} in {project.root} (known: {known})")
    if content_hash(doc) != doc.get("hash"):
        raise VersionError(f"dataset version {name!r} in {project.root}/versions.json does "
                           "not match its recorded hash: the manifest was altered")
    return doc


def list_names(project: Project) -> list[str]:
    return project.store.documents("versions").names()


def summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """One line's worth of a version: name, time, counts, hash."""
    per_class: Counter[str] = Counter()
    for lab in manifest["labels"].values():
        per_class.update(Annotation.from_dict(lab["annotation"]).classes())
    splits = Counter(manifest["splits"].values())
    return {"name": manifest.get("name"), "created": manifest.get("created"),
            "created_by": manifest.get("created_by"), "hash": manifest["hash"],
            "images": len(manifest["labels"]), "objects_per_class": dict(sorted(
                per_class.items())), "splits": dict(sorted(splits.items())),
            "settings": manifest["settings"], "qa": manifest.get("qa", {})}


# -- diff -------------------------------------------------------------------------------
def diff_versions(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Per defect class: labels added, removed and changed from version a to b.

    Objects (boxes, keypoint sets, masks: every core.kinds kind) are matched by their
    stable ids; the image-level defect class counts as one label of its class. Each
    changed box or mask is listed in `changed` with its IoU between the versions."""
    per_class: dict[str, Counter[str]] = {}
    changed: list[dict[str, Any]] = []
    la, lb = a["labels"], b["labels"]
    for image in sorted(set(la) | set(lb)):
        old = _objects(la.get(image))
        new = _objects(lb.get(image))
        for key in sorted(old.keys() | new.keys()):
            o, n = old.get(key), new.get(key)
            if o is not None and n is not None and o[1] == n[1]:
                continue
            if o is None:
                _bump(per_class, n[0], "added")
            elif n is None:
                _bump(per_class, o[0], "removed")
            elif o[0] != n[0]:
                _bump(per_class, o[0], "removed")
                _bump(per_class, n[0], "added")
            else:
                _bump(per_class, n[0], "changed")
                if o[2] is not None:
                    changed.append({"image": image, "object": key, "class": n[0],
                                    **o[2].changed(o[3], n[3])})
    return {"from": a.get("name"), "to": b.get("name"),
            "images_added": len(set(lb) - set(la)), "images_removed": len(set(la) - set(lb)),
            "taxonomy_changed": a["taxonomy"] != b["taxonomy"],
            "classes": {c: {k: v.get(k, 0) for k in ("added", "removed", "changed")}
                        for c, v in sorted(per_class.items())},
            "changed": changed}


def _bump(per_class: dict[str, Counter[str]], cls: str, what: str) -> None:
    per_class.setdefault(cls, Counter())[what] += 1


def _objects(label: dict[str, Any] | None) -> dict[str, tuple[str, Any, Any, Any]]:
    """key -> (class, content, kind, object) for every label of one image."""
    if label is None:
        return {}
    ann = Annotation.from_dict(label["annotation"])
    out: dict[str, tuple[str, Any, Any, Any]] = {}
    if ann.defect_class:
        out["image"] = (ann.defect_class, ann.severity, None, None)
    elif ann.verdict:
        out["image"] = (f"({ann.verdict})", None, None, None)
    for kind, obj in ann.objects():
        cls = kind.cls_of(obj) or getattr(obj, "template", kind.name)
        out[f"{kind.name}:{obj.id}"] = (cls, kind.dump(obj), kind, obj)
    return out
