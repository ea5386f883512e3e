"""Dataset versions: immutable manifests a trained model can be traced back to.

A manifest freezes the image hashes, the final labels, the taxonomy, a QA summary and
the export settings (split ratios, grouping field, seed, minimum status). It is stored
in `versions.json` through the store's atomic document collection; a name is never
overwritten. Exporting a version reads only the manifest (and the image bytes, whose
hashes it checks), so the same version always exports to the same bytes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from .core.model import Annotation, Box, ImageRecord
from .errors import QclabelError
from .project import Project
from .splits import SplitItem, assign_splits, group_key
from .version_diff import diff_versions  # noqa: F401  (part of this module's API)
from .version_evidence import _qa_summary, evidence_hash  # noqa: F401  (API, as above)

MANIFEST_FORMAT = 2  # 2: content hash of images and labels only; image paths
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class VersionError(QclabelError):
    """A dataset version name is taken, unknown or invalid."""


# What identifies an image's pixels: not where the file is, nor when it was ingested.
IMAGE_IDENTITY = ("id", "sha256", "profile_hash", "page", "width", "height", "orientation")


def _sha(body: Any) -> str:
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _label_content(annotation: dict[str, Any]) -> dict[str, Any]:
    """The labels without the random object ids: the same labels, the same content."""
    return {k: [{f: x for f, x in o.items() if f != "id"} for o in v]
            if isinstance(v, list) and v and isinstance(v[0], dict) else v
            for k, v in annotation.items()}


def content_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 over what defines the data: the taxonomy, each image's identity, its
    labels and split. Not the name, author, times, file paths, statuses or the split
    settings (which only led to the splits), so the same images and labels give the
    same hash however, whenever and wherever they were made. Format-1 manifests keep
    the hash they were created with."""
    if manifest.get("format", 1) < 2:
        return _sha({k: manifest[k] for k in ("taxonomy", "images", "labels", "splits",
                                              "settings")})
    # _sha({"taxonomy": ..., "images": [identity of each], "labels": {id: content},
    # "splits": ...}), fed to the hash a chunk at a time: the same bytes, without a
    # second copy of every label and one string of them all (hundreds of MB at 100k).
    h = hashlib.sha256()
    h.update(b'{"images":[')
    images = manifest["images"]
    for n in range(0, len(images), _CHUNK):
        part = [{k: e.get(k) for k in IMAGE_IDENTITY} for e in images[n:n + _CHUNK]]
        h.update((("," if n else "") + _dumps(part)[1:-1]).encode())
    h.update(b'],"labels":{')
    labels = manifest["labels"]
    ids = sorted(labels)
    for n in range(0, len(ids), _CHUNK):
        part = {i: _label_content(labels[i]["annotation"]) for i in ids[n:n + _CHUNK]}
        h.update((("," if n else "") + _dumps(part)[1:-1]).encode())
    h.update(('},"splits":' + _dumps(manifest["splits"]) + ',"taxonomy":'
              + _dumps(manifest["taxonomy"]) + "}").encode())
    return h.hexdigest()


_CHUNK = 2000


def _dumps(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def seal(manifest: dict[str, Any]) -> str:
    """SHA-256 over the whole stored manifest (tamper evidence for what the content
    hash leaves out: statuses, annotators, times, paths, settings)."""
    return _sha({k: v for k, v in manifest.items() if k != "seal"})


def build_manifest(project: Project, *, min_status: str = "single",
                   ratios: tuple[float, ...] = (1.0,), group_by: str | None = None,
                   seed: int = 0, gates: list[str] | None = None) -> dict[str, Any]:
    """The project's current final labels as an (unnamed) manifest, with the QA
    evidence (metrics, lots, golden scores, quality gates: all, or those in `gates`)."""
    return build_manifest_and_labels(project, min_status=min_status, ratios=ratios,
                                     group_by=group_by, seed=seed, gates=gates)[0]


def build_manifest_and_labels(project: Project, *, min_status: str = "single",
                              ratios: tuple[float, ...] = (1.0,), group_by: str | None = None,
                              seed: int = 0, gates: list[str] | None = None
                              ) -> tuple[dict[str, Any], dict[str, Annotation]]:
    """`build_manifest`, and the final labels it holds as Annotations (image id ->
    Annotation), so an export need not build each one again from the manifest."""
    with one_read(project.store):
        return _build(project, min_status, ratios, group_by, seed, gates)


@contextmanager
def one_read(store: Any) -> Iterator[None]:
    """Within it, `store.all_states()` reads every journal once and hands every caller
    the same states: the final labels, the label times and the QA summary of one
    manifest are computed from one consistent read (a journal appended meanwhile
    cannot make them disagree), and the journals are not parsed four times over."""
    if "all_states" in vars(store):  # nested: the outer read stands
        yield
        return
    states = store.all_states()
    store.all_states = lambda: states
    try:
        yield
    finally:
        del store.all_states


def _build(project: Project, min_status: str, ratios: tuple[float, ...],
           group_by: str | None, seed: int, gates: list[str] | None
           ) -> tuple[dict[str, Any], dict[str, Annotation]]:
    from .qa.final import final_labels
    from .store.replay import refuse_damage
    refuse_damage(project.store.all_states(), "a dataset version or export")
    finals = final_labels(project, min_status)
    records = list(project.store.catalog.get_many(finals).values())  # catalog order
    records.sort(key=lambda r: r.seq)
    times = _label_times(project)
    labels = {r.id: {"annotation": label_dict(finals[r.id].annotation),
                     "status": finals[r.id].status,
                     "annotators": list(finals[r.id].annotators),
                     "decided_by": finals[r.id].decided_by,
                     "labeled_at": times.get(r.id, "")} for r in records}
    items = [SplitItem(r.id, tuple(finals[r.id].annotation.classes()),
                       group_key(r.id, r.fields, group_by, r.source)) for r in records]
    root = os.path.abspath(project.root)
    manifest = {
        "format": MANIFEST_FORMAT,
        "taxonomy": project.config["taxonomy"],
        "images": [_entry_of(r, root) for r in records],
        "labels": labels,
        "splits": _splits(items, ratios, seed),
        "settings": {"min_status": min_status, "split": list(ratios),
                     "group_by": group_by, "seed": seed},
        "qa": _qa_summary(project, finals, gates),
    }
    manifest["hash"] = content_hash(manifest)
    return manifest, {i: f.annotation for i, f in finals.items()}


_BOX_FIELDS = ("cls", "x", "y", "w", "h", "severity", "id")
_FAST_BOXES = tuple(Box.__dataclass_fields__) == _BOX_FIELDS


def label_dict(annotation: Annotation) -> dict[str, Any]:
    """`annotation.to_dict()`, with its boxes written without `dataclasses.asdict`
    (its deep copy is most of the cost at 300k boxes): the same dict."""
    if not annotation.boxes or not _FAST_BOXES:
        return annotation.to_dict()
    d = replace(annotation, boxes=()).to_dict()  # "boxes" keeps its place among the keys
    d["boxes"] = [{"cls": b.cls, "x": b.x, "y": b.y, "w": b.w, "h": b.h,
                   "severity": b.severity, "id": b.id} for b in annotation.boxes]
    return d


def _splits(items: list[SplitItem], ratios: tuple[float, ...], seed: int) -> dict[str, str]:
    """`assign_splits`; with one split (the default) every image is in it, which is
    what assign_splits gives too, without its per-class balancing."""
    if len(ratios) == 1 and ratios[0] > 0:
        return {it.image: "train" for it in items}
    return assign_splits(items, ratios, seed)


_RECORD_FIELDS = [f for f in ImageRecord.__dataclass_fields__ if f not in ("exif", "added",
                                                                            "seq")]


def _entry_of(record: ImageRecord, root: str) -> dict[str, Any]:
    """`_image_entry(record.to_dict(), ...)` without `dataclasses.asdict`'s deep copy
    of every record (seconds at 100k images): the same keys and values."""
    d = {k: getattr(record, k) for k in _RECORD_FIELDS}
    d["fields"], d["sources"] = dict(record.fields), list(record.sources)
    d["window"] = list(record.window) if record.window else None
    d["dpi"] = list(record.dpi) if record.dpi else None
    file = record.file
    if os.path.isabs(file):
        d["path"] = os.path.relpath(file, root).replace(os.sep, "/")
    elif file and "//" not in file and "/./" not in file and not file.startswith("./") \
            and not file.endswith(("/", "/.")) and file != ".":
        d["path"] = file  # already what Path(file).as_posix() gives
    else:
        d["path"] = Path(file).as_posix()
    return d


def _image_entry(d: dict[str, Any], project: Project) -> dict[str, Any]:
    """Catalog fields an export needs, and `path`: the file relative to the project
    root, so a project moved with its images still finds them. EXIF blobs and ingest
    times stay in the catalog."""
    entry = {k: v for k, v in d.items() if k not in ("exif", "added", "seq")}
    file = Path(d["file"])
    if file.is_absolute():
        entry["path"] = Path(os.path.relpath(file, os.path.abspath(project.root))).as_posix()
    else:
        entry["path"] = file.as_posix()
    return entry


def resolve_images(project: Project, manifest: dict[str, Any]) -> dict[str, Any]:
    """A copy of `manifest` whose images point at files that exist now: the catalog's
    current file for the same image (after `qclabel images relink`), else the
    project-relative `path`, else the file as recorded. Hashes are checked when the
    bytes are read (formats.dataset)."""
    catalog = project.store.catalog
    root = project.root
    out = dict(manifest, images=[])
    for entry in manifest["images"]:
        candidates = []
        if entry["id"] in catalog and catalog.get(entry["id"]).sha256 == entry["sha256"]:
            candidates.append(catalog.get(entry["id"]).file)
        if entry.get("path"):
            candidates.append(entry["path"])
        found = next((c for c in candidates if (root / c).exists()), entry["file"])
        out["images"].append(dict(entry, file=found))
    return out


def _label_times(project: Project) -> dict[str, str]:
    """Latest time anyone changed the labels or decisions of each image."""
    out: dict[str, str] = {}
    for state in project.store.all_states().values():
        for (kind, image), entry in state.entries.items():
            if kind in ("label", "review", "final") and entry["ts"] > out.get(image, ""):
                out[image] = entry["ts"]
    return out


# -- stored versions ------------------------------------------------------------------
def create_version(project: Project, name: str, user: str, override_note: str | None = None,
                   gates: list[str] | None = None, manifest: dict[str, Any] | None = None,
                   **settings: Any) -> dict[str, Any]:
    """Freeze the current final labels as version `name`. Refused (GateFailed) when a
    quality gate fails, unless an admin overrides it with a note, which is recorded as
    a `gate_override` event in their journal and in the version's QA evidence.
    `manifest`: one `build_manifest` just made with the same settings and gates."""
    from .qa.gates import OVERRIDE, refusal
    if not _NAME.match(name):
        raise VersionError(f"version name {name!r}: use letters, digits, '.', '-' or '_'")
    docs = project.store.documents("versions")
    if docs.get(name) is not None:
        raise VersionError(f"dataset version {name!r} already exists in {docs.path}; "
                           "versions are immutable, pick a new name")
    manifest = copy.deepcopy(manifest) if manifest else build_manifest(project, gates=gates,
                                                                        **settings)
    evidence = manifest["qa"]["evidence"]
    failed = [g for g in evidence["gates"] if not g["passed"]]
    if failed and override_note is None:
        from .qa.gates import GateResult
        raise refusal(name, [GateResult(**g) for g in failed])
    if failed:
        project.require(user, "admin", "override a quality gate")
        if not override_note.strip():
            raise VersionError("an override needs a note saying why (--note)")
        with project.store.open_session(user) as session:
            event = session.record(OVERRIDE, f"version:{name}", None,
                                   {"version": name, "gates": [g["gate"] for g in failed]},
                                   override_note.strip())
        evidence["overrides"].append({"gates": [g["gate"] for g in failed], "by": user,
                                      "note": override_note.strip(), "at": event["ts"],
                                      "event": event["hash"]})
    manifest.update(name=name, created=datetime.now(timezone.utc).isoformat(
        timespec="seconds"), created_by=user, project=project.name)
    manifest["qa_hash"] = evidence_hash(manifest["qa"])
    manifest["seal"] = seal(manifest)
    docs.put(name, manifest)
    return manifest


def store_derived(project: Project, name: str, user: str,
                  manifest: dict[str, Any]) -> dict[str, Any]:
    """Store a manifest derived from an existing version (augmentation): the parent's
    QA evidence is carried over as it was released, so no gate is evaluated again."""
    if not _NAME.match(name):
        raise VersionError(f"version name {name!r}: use letters, digits, '.', '-' or '_'")
    docs = project.store.documents("versions")
    if docs.get(name) is not None:
        raise VersionError(f"dataset version {name!r} already exists in {docs.path}; "
                           "versions are immutable, pick a new name")
    manifest = dict(manifest, name=name, created=datetime.now(timezone.utc).isoformat(
        timespec="seconds"), created_by=user, project=project.name)
    manifest.pop("seal", None)  # the parent's seal: this manifest gets its own
    manifest["hash"] = content_hash(manifest)
    manifest["qa_hash"] = evidence_hash(manifest["qa"])
    manifest["seal"] = seal(manifest)
    docs.put(name, manifest)
    return manifest


def get_version(project: Project, name: str) -> dict[str, Any]:
    doc = project.store.documents("versions").get(name)
    if doc is None:
        known = ", ".join(list_names(project)) or "none"
        raise VersionError(f"no dataset version {name!r} in {project.root} (known: {known})")
    altered = content_hash(doc) != doc.get("hash") or (
        "qa_hash" in doc and evidence_hash(doc.get("qa", {})) != doc["qa_hash"]) or (
        "seal" in doc and seal(doc) != doc["seal"])
    if altered:
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
