"""Export and import formats: one registry, one class list, one atomic writer.

    export_project(project, "coco", out, version="v3")   # frozen labels, same bytes
    import_labels(project, "yolo", src, actor, as_user="alice")

Each exporter is `export(dataset, folder, **options) -> stats` and writes into a
fresh temporary folder that replaces OUT only once it is complete.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..core import consistency
from ..errors import FormatError
from ..project import Project
from . import coco, cvat_xml, labelstudio, tabular, tfrecord, voc, yolo
from .dataset import LINK_MODES, Dataset, ExportCancelled, Progress
from .importing import IMPORT_FORMATS, ImportReport, check_import_as, commit_as, match_all
from .outdir import atomic_output
from .version_file import VERSION_FILE, version_file

Exporter = Callable[..., dict[str, Any]]


def _tabular(kind: str) -> Exporter:
    return lambda ds, out, **kw: tabular.export(ds, out, kind=kind, **kw)


EXPORTERS: dict[str, Exporter] = {
    "yolo": yolo.export,
    "coco": coco.export,
    "voc": voc.export,
    "tfrecord": tfrecord.export,
    "csv": _tabular("csv"),
    "jsonl": _tabular("jsonl"),
    # Interchange with other labeling tools: every label kind, incomplete images too.
    "cvat": cvat_xml.export,
    "labelstudio": labelstudio.export,
}
EXPORT_FORMATS = tuple(EXPORTERS)
# Detection exports and the object kinds they write (None: the defect kinds, see
# core.consistency). A fail image with none of them would be read as a defect-free
# background image, so it is left out and counted ("incomplete").
DETECTION_EXPORTS: dict[str, tuple[str, ...] | None] = {
    "yolo/detect": None,
    "yolo/pose": ("keypoint set",),
    "yolo/segment": ("mask",),
    "coco": None,
    "voc": None,
    "tfrecord": None,
}


@dataclass
class ExportResult:
    out: Path
    format: str
    images: int
    version: str | None
    hash: str
    stats: dict[str, Any]
    incomplete: int = 0  # fail images without objects, left out (detection)
    missing: str = ""  # what they lack, e.g. "box"

    def left_out_text(self) -> str:
        """One line for the export summary, or '' when nothing was left out."""
        if not self.incomplete:
            return ""
        return (
            f"left out {self.incomplete} incomplete image"
            f"{'s' if self.incomplete != 1 else ''} (fail without any {self.missing}; "
            "`qclabel check` lists them)"
        )


def dataset_for(
    project: Project, version: str | None = None, executor: Executor | None = None, **settings: Any
) -> Dataset:
    """A frozen version, or the current final labels with the given split settings.
    With an executor, image files are copied in parallel on it."""
    from ..versions import get_version, resolve_images
    from .live import live_dataset

    if version is not None:
        if any(v is not None for v in settings.values()):
            raise FormatError(
                f"version {version!r} fixes its own split and minimum status; "
                "create a new version to change them"
            )
        # The images where they are now: a moved project or a relinked catalog.
        manifest = resolve_images(project, get_version(project, version))
        return Dataset(manifest, project.root, executor)
    settings = {k: v for k, v in settings.items() if v is not None}
    return live_dataset(project, executor, **settings)


def export_dataset(
    ds: Dataset,
    fmt: str,
    out: Path,
    *,
    task: str = "detect",
    link: str = "copy",
    progress: Progress | None = None,
    cancel: Any = None,
    mask_png: bool = False,
    pixels: str = "auto",
    no_synthetic: bool = False,
) -> ExportResult:
    """Write `ds` as `fmt` to `out` atomically (the old `out` stays until it is done).
    `pixels`: keep, 8bit, or auto (8bit for YOLO, whose loader reads a 16-bit file
    as value/256, keep for the others). `no_synthetic` leaves out the images
    augmentation made."""
    check_export_options(fmt, link, task=task, pixels=pixels)
    if pixels == "auto":
        pixels = "8bit" if fmt == "yolo" else "keep"
    ds = ds.with_pixels(pixels)
    synthetic_left_out = 0
    if no_synthetic:
        kept = ds.without(lambda image: image.synthetic is not None)
        synthetic_left_out, ds = len(ds.images) - len(kept.images), kept
    ds, incomplete, missing = leave_out_incomplete(ds, fmt, task)
    with atomic_output(out, marker=VERSION_FILE) as tmp:
        try:
            stats = EXPORTERS[fmt](ds, tmp, task=task, link=link, progress=progress, cancel=cancel)
            if mask_png:
                from . import masks_png

                stats["mask_pngs"] = masks_png.write(ds, tmp)
            ds.wait_images(cancel)
        except UnicodeEncodeError:
            # text no file can hold (a lone surrogate a snapshot let in): the content
            # hash, taken in this process, names the image (version_hash)
            ds.abandon_images()
            _ = ds.content_hash
            raise
        except BaseException:
            # No copy may still be writing once the folder goes: a worker that is still
            # running would recreate the partial folder after it was removed.
            ds.abandon_images()
            raise
        (tmp / VERSION_FILE).write_text(
            version_file(ds, fmt, task, incomplete, synthetic_left_out) + "\n"
        )
    m = ds.manifest
    return ExportResult(
        Path(out),
        fmt,
        stats.get("images", len(ds.images)),
        m.get("name"),
        ds.content_hash,
        stats,
        incomplete,
        missing,
    )


def check_export_options(
    fmt: str,
    link: str,
    *,
    task: str = "detect",
    pixels: str = "auto",
    min_status: str | None = None,
    project: Project | None = None,
) -> None:
    """Refuse impossible options before any work: reading the journals and building
    the final labels takes seconds at 100k images, and no option is refused only
    after them. `project`: a live export's (its taxonomy decides YOLO pose)."""
    from ..qa.final import STATUSES
    from .image_files import PIXEL_MODES

    if fmt not in EXPORTERS:
        raise FormatError(f"--format {fmt!r}: expected one of {', '.join(EXPORT_FORMATS)}")
    if link not in LINK_MODES:
        raise FormatError(f"--images {link!r}: expected one of {', '.join(LINK_MODES)}")
    if fmt == "tfrecord" and link == "none":
        raise FormatError("TFRecord embeds the images; --images none is not possible")
    if fmt == "yolo" and task not in yolo.TASKS:
        raise FormatError(f"--task {task!r}: YOLO tasks are {', '.join(yolo.TASKS)}")
    if pixels != "auto" and pixels not in PIXEL_MODES:
        raise FormatError(f"--pixels {pixels!r}: expected one of {', '.join(PIXEL_MODES)}")
    if min_status is not None and min_status not in STATUSES:
        raise FormatError(f"--min-status {min_status!r}: expected one of {', '.join(STATUSES)}")
    if fmt == "yolo" and task == "pose" and project is not None:
        yolo.pose_template(project.taxonomy)


def leave_out_incomplete(ds: Dataset, fmt: str, task: str) -> tuple[Dataset, int, str]:
    """`ds` without the fail images a detection export would write as background, how
    many those were, and the object kinds they lack."""
    key = f"{fmt}/{task}" if fmt == "yolo" else fmt
    if key not in DETECTION_EXPORTS:
        return ds, 0, ""
    names = DETECTION_EXPORTS[key]
    kinds = consistency.defect_kinds() if names is None else [consistency.kind(n) for n in names]
    kept = ds.without(lambda image: consistency.incomplete(image.annotation, kinds))
    return kept, len(ds.images) - len(kept.images), " or ".join(k.noun for k in kinds)


def export_project(
    project: Project,
    fmt: str,
    out: Path,
    *,
    version: str | None = None,
    min_status: str | None = None,
    ratios: tuple[float, ...] | None = None,
    group_by: str | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    keep: list[Any] | None = None,
    **options: Any,
) -> ExportResult:
    """`export_dataset` of `dataset_for(...)`, the options checked first. `keep`: the
    dataset is appended to it, for a command that ends next to leave to its exit
    (freeing 100k labels object by object takes 0.35 s)."""
    check_export_options(
        fmt,
        options.get("link", "copy"),
        task=options.get("task", "detect"),
        pixels=options.get("pixels", "auto"),
        min_status=min_status,
        project=project if version is None else None,
    )
    ds = dataset_for(
        project,
        version,
        executor,
        min_status=min_status,
        ratios=ratios,
        group_by=group_by,
        seed=seed,
    )
    if keep is not None:
        keep.append(ds)
    return export_dataset(ds, fmt, out, **options)


def import_labels(
    project: Project,
    fmt: str,
    src: Path,
    actor: str,
    *,
    as_user: str | None = None,
    predictions: str | None = None,
    min_score: float | None = None,
) -> ImportReport:
    """Validate everything first, then write: an annotator's labels or a predictions set.
    `min_score` drops objects whose confidence (when the file has one) is lower."""
    from . import suggestions
    from .sources import READERS

    if fmt not in READERS:
        raise FormatError(f"--format {fmt!r}: import reads {', '.join(IMPORT_FORMATS)}")
    if (as_user is None) == (predictions is None):
        raise FormatError("say where the labels go: --as USER or --predictions NAME")
    if as_user is not None:
        check_import_as(project, actor, as_user)
    else:
        project.require(actor, "annotator", "import predictions")
    parsed = [p.above(min_score) for p in READERS[fmt](project, Path(src))]
    matched = match_all(project, parsed)
    labels = {i: p.annotation for i, p in matched.items()}
    if as_user is not None:
        changed = commit_as(project, as_user, labels, str(src))
        return ImportReport(len(labels), changed, f"labels of {as_user}")
    scores = {i: list(p.scores) for i, p in matched.items() if p.scores}
    # Exactly one of as_user and predictions is set (checked above).
    suggestions.store(project, predictions, labels, str(src), actor, scores)  # type: ignore[arg-type]
    return ImportReport(len(labels), len(labels), f"predictions {predictions!r}")


__all__ = [
    "EXPORTERS",
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "Dataset",
    "ExportCancelled",
    "ExportResult",
    "dataset_for",
    "export_dataset",
    "export_project",
    "import_labels",
]
