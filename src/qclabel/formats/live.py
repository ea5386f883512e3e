"""The dataset of the project's current final labels, built for an export without a
manifest of them: the same images, labels, names, splits and content hash as
`Dataset(build_manifest(...))`, but only the final Annotations and the image records
are held (no label dicts, no manifest entries, no label states once read), which is
what an export of 100k images spends its time and memory on otherwise."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any, Callable, Iterator

from .. import forked
from ..core.assembled import assembled, plain
from ..project import Project
from ..version_hash import hash_of, label_text
from ..version_manifest import MANIFEST_FORMAT, read_facts, settings_of, split_items, splits_of
from .dataset import Dataset, ExportImage
from .export_names import _unique_name


def live_dataset(
    project: Project,
    executor: Executor | None = None,
    *,
    min_status: str = "single",
    ratios: tuple[float, ...] = (1.0,),
    group_by: str | None = None,
    seed: int = 0,
) -> Dataset:
    """What `Dataset(build_manifest(project, ...)[0], ...)` holds; its `manifest` has
    everything but the images and labels (format, taxonomy, splits, settings, qa, hash)."""
    facts = read_facts(project, min_status, None)
    if len(ratios) == 1 and ratios[0] > 0 and not group_by:
        # what splits_of gives then, without a SplitItem per image (no group to check)
        splits = {r.id: "train" for r in facts.records}
    else:
        splits = splits_of(split_items(facts, group_by, ratios), ratios, seed)
    finals, times = facts.finals, facts.times
    used: dict[str, set[str]] = {}
    images = []
    for rec in facts.records:
        final = finals[rec.id]
        split = splits.get(rec.id, "train")
        images.append(
            _image(
                rec,  # as in the catalog: EXIF, ingest time and seq too, none exported
                final.annotation,
                final.status,
                tuple(final.annotators),
                split,
                _unique_name(rec, used.setdefault(split, set())),
                times.get(rec.id, ""),
            )
        )
    taxonomy = project.config["taxonomy"]
    by_id = {i.record.id: i for i in images}
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "taxonomy": taxonomy,
        "splits": splits,
        "settings": settings_of(min_status, ratios, group_by, seed),
        "qa": facts.qa,
    }
    del facts, finals  # the images hold what is left of them
    pending = LiveHash(images, by_id, splits, taxonomy)
    return Dataset.of_images(manifest, project.root, images, executor, pending)


class LiveHash:
    """The content hash of a live export, computed in a forked child (`forked`: 1.5 s
    of label texts at 100k images) while this process writes the files, and taken
    when the export needs it, at its end (`Dataset.content_hash`). Where no child can
    be started, or one fails (a label no export can write: the same error is raised
    here), it is computed here then."""

    def __init__(
        self, images: list[ExportImage], by_id: dict[str, ExportImage], splits: Any, taxonomy: Any
    ):
        self._parts = (images, by_id, splits, taxonomy)
        # the child touches every label: a copy of most of this process's pages
        self._child = forked.start(lambda alive: self._compute(alive).encode(), copy=True)

    def _compute(self, alive: Callable[[], bool] = lambda: True) -> str:
        images, by_id, splits, taxonomy = self._parts
        return hash_of(
            (i.record for i in images),
            ((i, label_text(by_id[i].annotation)) for i in _while(sorted(by_id), alive)),
            splits,
            taxonomy,
        )

    def result(self) -> str:
        data = self._child.result() if self._child is not None else None
        self._child = None
        return data.decode() if data else self._compute()

    def abandon(self) -> None:
        if self._child is not None:
            self._child.abandon()


LOOK = 4096


def _while(ids: list[str], alive: Callable[[], bool]) -> Iterator[str]:
    """`ids`, until `alive()` says the child's parent is gone (a look per `LOOK`)."""
    for n, image in enumerate(ids):
        if not n % LOOK and not alive():
            raise SystemExit(1)
        yield image


_FIELDS = ("record", "annotation", "status", "annotators", "split", "name", "labeled_at")
_DIRECT = plain(ExportImage, (*_FIELDS, "synthetic"))


def _image(
    record: Any, annotation: Any, status: str, annotators: Any, split: str, name: str, at: str
) -> ExportImage:
    """`ExportImage(...)` of a real image (no synthetic provenance), its fields set
    directly (core.assembled): a third of building 100k of them."""
    if not _DIRECT:
        return ExportImage(record, annotation, status, annotators, split, name, at)
    values = (record, annotation, status, annotators, split, name, at, None)
    return assembled(ExportImage, zip((*_FIELDS, "synthetic"), values))
