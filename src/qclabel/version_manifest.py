"""A dataset version's manifest, built from the project's current final labels in one
consistent read of the journals (`one_read`), and its images found again after a move
(`resolve_images`)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .core.model import Annotation, ImageRecord
from .project import Project
from .splits import SplitItem, assign_splits, group_key
from .version_evidence import _qa_summary
from .version_hash import content_hash, label_dict

MANIFEST_FORMAT = 2  # 2: content hash of images and labels only; image paths


def build_manifest(
    project: Project,
    *,
    min_status: str = "single",
    ratios: tuple[float, ...] = (1.0,),
    group_by: str | None = None,
    seed: int = 0,
    gates: list[str] | None = None,
) -> dict[str, Any]:
    """The project's current final labels as an (unnamed) manifest, with the QA
    evidence (metrics, lots, golden scores, quality gates: all, or those in `gates`)."""
    return build_manifest_and_labels(
        project, min_status=min_status, ratios=ratios, group_by=group_by, seed=seed, gates=gates
    )[0]


def build_manifest_and_labels(
    project: Project,
    *,
    min_status: str = "single",
    ratios: tuple[float, ...] = (1.0,),
    group_by: str | None = None,
    seed: int = 0,
    gates: list[str] | None = None,
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


@dataclass
class Facts:
    """What a manifest is made of, from one read of the journals: the final labels,
    their images in catalog order, the label times and the QA summary. The label
    states themselves are not kept: only these are (an export holds nothing else)."""

    finals: dict[str, Any]
    records: list[ImageRecord]
    times: dict[str, str]
    qa: dict[str, Any]


def read_facts(project: Project, min_status: str, gates: list[str] | None) -> Facts:
    """`Facts` of the current final labels; damaged journals are refused first."""
    from .qa.final import final_labels
    from .store.replay import refuse_damage

    with one_read(project.store):
        refuse_damage(project.store.all_states(), "a dataset version or export")
        finals = final_labels(project, min_status)
        times, qa = _label_times(project), _qa_summary(project, finals, gates)
    # The states are gone by now (only the final Annotations are left of them): the
    # records are not read while they are still held.
    records = project.store.catalog.in_order(finals)  # catalog order
    return Facts(finals, records, times, qa)


def split_items(
    facts: Facts, group_by: str | None, ratios: tuple[float, ...] = ()
) -> list[SplitItem]:
    """What `splits_of` splits; with one split (`ratios`) it needs no classes."""
    one = len(ratios) == 1 and ratios[0] > 0
    return [
        SplitItem(
            r.id,
            () if one else tuple(facts.finals[r.id].annotation.classes()),
            group_key(r.id, r.fields, group_by, r.source),
        )
        for r in facts.records
    ]


def settings_of(
    min_status: str, ratios: tuple[float, ...], group_by: str | None, seed: int
) -> dict[str, Any]:
    return {"min_status": min_status, "split": list(ratios), "group_by": group_by, "seed": seed}


def _build(
    project: Project,
    min_status: str,
    ratios: tuple[float, ...],
    group_by: str | None,
    seed: int,
    gates: list[str] | None,
) -> tuple[dict[str, Any], dict[str, Annotation]]:
    facts = read_facts(project, min_status, gates)
    finals, records, times = facts.finals, facts.records, facts.times
    labels = {
        r.id: {
            "annotation": label_dict(finals[r.id].annotation),
            "status": finals[r.id].status,
            "annotators": list(finals[r.id].annotators),
            "decided_by": finals[r.id].decided_by,
            "labeled_at": times.get(r.id, ""),
        }
        for r in records
    }
    root = os.path.abspath(project.root)
    manifest = {
        "format": MANIFEST_FORMAT,
        "taxonomy": project.config["taxonomy"],
        "images": [_entry_of(r, root) for r in records],
        "labels": labels,
        "splits": splits_of(split_items(facts, group_by), ratios, seed),
        "settings": settings_of(min_status, ratios, group_by, seed),
        "qa": facts.qa,
    }
    manifest["hash"] = content_hash(manifest)
    return manifest, {i: f.annotation for i, f in finals.items()}


def splits_of(items: list[SplitItem], ratios: tuple[float, ...], seed: int) -> dict[str, str]:
    """`assign_splits`; with one split (the default) every image is in it, which is
    what assign_splits gives too, without its per-class balancing."""
    if len(ratios) == 1 and ratios[0] > 0:
        return {it.image: "train" for it in items}
    return assign_splits(items, ratios, seed)


_RECORD_FIELDS = [f for f in ImageRecord.__dataclass_fields__ if f not in ("exif", "added", "seq")]


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
    elif (
        file
        and "//" not in file
        and "/./" not in file
        and not file.startswith("./")
        and not file.endswith(("/", "/."))
        and file != "."
    ):
        d["path"] = file  # already what Path(file).as_posix() gives
    else:
        d["path"] = Path(file).as_posix()
    return d


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
