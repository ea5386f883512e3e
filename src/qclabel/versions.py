"""Dataset versions: immutable manifests a trained model can be traced back to.

A manifest freezes the image hashes, the final labels, the taxonomy, a QA summary and
the export settings (split ratios, grouping field, seed, minimum status). It is stored
in `versions.json` through the store's atomic document collection; a name is never
overwritten. Exporting a version reads only the manifest (and the image bytes, whose
hashes it checks), so the same version always exports to the same bytes.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from .core.model import Annotation
from .errors import QclabelError
from .project import Project
from .version_diff import diff_versions  # noqa: F401  (part of this module's API)
from .version_evidence import _qa_summary, evidence_hash  # noqa: F401  (API, as above)
from .version_hash import IMAGE_IDENTITY, content_hash, label_dict, seal  # noqa: F401  (API)
from .version_manifest import (  # noqa: F401  (part of this module's API)
    MANIFEST_FORMAT,
    build_manifest,
    build_manifest_and_labels,
    one_read,
    resolve_images,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class VersionError(QclabelError):
    """A dataset version name is taken, unknown or invalid."""


# -- stored versions ------------------------------------------------------------------
def create_version(
    project: Project,
    name: str,
    user: str,
    override_note: str | None = None,
    gates: list[str] | None = None,
    manifest: dict[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Freeze the current final labels as version `name`. Refused (GateFailed) when a
    quality gate fails, unless an admin overrides it with a note, which is recorded as
    a `gate_override` event in their journal and in the version's QA evidence.
    `manifest`: one `build_manifest` just made with the same settings and gates."""
    from .qa.gates import OVERRIDE, refusal

    if not _NAME.match(name):
        raise VersionError(f"version name {name!r}: use letters, digits, '.', '-' or '_'")
    docs = project.store.documents("versions")
    if docs.get(name) is not None:
        raise VersionError(
            f"dataset version {name!r} already exists in {docs.path}; "
            "versions are immutable, pick a new name"
        )
    manifest = (
        copy.deepcopy(manifest) if manifest else build_manifest(project, gates=gates, **settings)
    )
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
            event = session.record(
                OVERRIDE,
                f"version:{name}",
                None,
                {"version": name, "gates": [g["gate"] for g in failed]},
                override_note.strip(),
            )
        evidence["overrides"].append(
            {
                "gates": [g["gate"] for g in failed],
                "by": user,
                "note": override_note.strip(),
                "at": event["ts"],
                "event": event["hash"],
            }
        )
    manifest.update(
        name=name,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        created_by=user,
        project=project.name,
    )
    manifest["qa_hash"] = evidence_hash(manifest["qa"])
    manifest["seal"] = seal(manifest)
    docs.put(name, manifest)
    return manifest


def store_derived(
    project: Project, name: str, user: str, manifest: dict[str, Any]
) -> dict[str, Any]:
    """Store a manifest derived from an existing version (augmentation): the parent's
    QA evidence is carried over as it was released, so no gate is evaluated again."""
    if not _NAME.match(name):
        raise VersionError(f"version name {name!r}: use letters, digits, '.', '-' or '_'")
    docs = project.store.documents("versions")
    if docs.get(name) is not None:
        raise VersionError(
            f"dataset version {name!r} already exists in {docs.path}; "
            "versions are immutable, pick a new name"
        )
    manifest = dict(
        manifest,
        name=name,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        created_by=user,
        project=project.name,
    )
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
    return _checked(project, name, doc)


def all_summaries(project: Project) -> list[dict[str, Any]]:
    """`summary` of every version (oldest first), each checked as get_version checks
    it. What checking and summing up gave for the exact bytes of versions.json is kept
    in the user's own cache (usercache, `version-summaries`), keyed by their SHA-256
    and this release: a second `version list` reads and hashes the file (0.1 s for an
    88 MB one) instead of checking every manifest again (seconds per 100k images); a
    changed file, even by one byte, is checked afresh."""
    import hashlib

    from . import __version__, usercache

    docs = project.store.documents("versions")
    raw = docs.raw()
    digest = hashlib.sha256(f"summaries/1 {__version__}\n".encode())
    digest.update(raw)  # not prefix + raw: a second copy of a 100 MB file
    key = digest.hexdigest()
    root = hashlib.sha256(str(project.root.resolve()).encode()).hexdigest()[:32]
    path = usercache.folder("version-summaries") / f"{root}.json"
    kept = usercache.load_json(path, key)
    if isinstance(kept, list):
        return kept
    rows = [summary(_checked(project, d["name"], d)) for d in docs.parse(raw)]
    usercache.store_json(path, key, rows)
    return rows


def _checked(project: Project, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    altered = (
        content_hash(doc) != doc.get("hash")
        or ("qa_hash" in doc and evidence_hash(doc.get("qa", {})) != doc["qa_hash"])
        or ("seal" in doc and seal(doc) != doc["seal"])
    )
    if altered:
        raise VersionError(
            f"dataset version {name!r} in {project.root}/versions.json does "
            "not match its recorded hash: the manifest was altered"
        )
    return doc


def list_names(project: Project) -> list[str]:
    return project.store.documents("versions").names()


def summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """One line's worth of a version: name, time, counts, hash."""
    per_class: Counter[str] = Counter()
    for lab in manifest["labels"].values():
        per_class.update(Annotation.from_dict(lab["annotation"]).classes())
    splits = Counter(manifest["splits"].values())
    return {
        "name": manifest.get("name"),
        "created": manifest.get("created"),
        "created_by": manifest.get("created_by"),
        "hash": manifest["hash"],
        "images": len(manifest["labels"]),
        "objects_per_class": dict(sorted(per_class.items())),
        "splits": dict(sorted(splits.items())),
        "settings": manifest["settings"],
        "qa": manifest.get("qa", {}),
    }
