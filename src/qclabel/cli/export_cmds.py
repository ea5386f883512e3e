"""export, import, version (headless: no Textual)."""

from __future__ import annotations

import gc
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click

from .. import identity
from ..formats import EXPORT_FORMATS, IMPORT_FORMATS, export_project, import_labels
from ..formats.dataset import LINK_MODES, PIXEL_MODES
from ..formats.yolo import TASKS
from ..qa.final import STATUSES
from ..splits import parse_ratios
from .common import emit_json, given, json_option, open_project, project_dir, refuse
from .version_cmds import version_group


def _progress_printer():
    """A one-line progress counter on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        click.echo(f"\rexporting {done}/{total} images", err=True, nl=False)
        if end:
            click.echo("", err=True)

    return show


@contextmanager
def terminate_cleanly() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C while inside, so the temporary export folder is
    removed; the previous handler comes back afterwards."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# What the last export built, left for the process's end to drop at once
# (formats.export_project `keep`: freeing 100k labels one by one takes 0.35 s).
_LEFT_TO_EXIT: list[Any] = []


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Without the cyclic garbage collector while inside: an export builds millions of
    small objects that live until it ends (labels, rows), and every full collection
    walks them all again (a tenth of the export's time at 100k images). On the way
    out they are frozen (`gc.freeze`) before the collector is back: the command ends
    next, keeping the export's objects to its exit (`_LEFT_TO_EXIT`), and the
    collections the next allocations start would walk all of them to free nothing
    (2 s at 100k images, measured); the few cycles among them are left to the exit."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


@click.command("export")
@project_dir
@click.option(
    "--format", "fmt", required=True, type=click.Choice(EXPORT_FORMATS), help="Output format."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder; replaced only once the new export is complete.",
)
@click.option("--version", "version", help="Export this frozen dataset version exactly.")
@click.option(
    "--split",
    "split",
    help="Train,val,test ratios, e.g. 0.8,0.1,0.1 (default: everything in train).",
)
@click.option(
    "--group-by", help="Image field (part, lot, serial...) whose images stay in one split."
)
@click.option("--seed", type=int, help="Seed of the split (default 0).")
@click.option(
    "--min-status",
    type=click.Choice(STATUSES),
    help="Lowest final-label status to include (default single).",
)
@click.option(
    "--task",
    type=click.Choice(TASKS),
    default="detect",
    show_default=True,
    help="YOLO layout: detection rows, pose rows, segment polygons or class folders.",
)
@click.option(
    "--mask-png",
    is_flag=True,
    help="Also write masks/<split>/NAME.png: "
    "per-pixel class indices (0 = background), for segmentation models.",
)
@click.option(
    "--images",
    "link",
    type=click.Choice(LINK_MODES),
    default="copy",
    show_default=True,
    help="Copy image files, hard-link them (same "
    "filesystem, else copy) or leave them out (labels only).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Threads copying image files.",
)
@click.option(
    "--pixels",
    type=click.Choice(("auto",) + PIXEL_MODES),
    default="auto",
    show_default=True,
    help="16-bit images: keep them 16-bit, or window them "
    "to 8 bits (the image's window/level) as PNG; auto = 8bit for YOLO "
    "(its loader reads 16 bits as value/256), keep for the others.",
)
@click.option(
    "--no-synthetic",
    is_flag=True,
    help="Leave out the images augmentation made (qclabel augment): real images only.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Copy the images on an existing "
    "Dask distributed cluster (needs qclabel[dask] and a shared file system).",
)
@json_option
def export_cmd(
    project_dir: Path,
    fmt: str,
    out: Path,
    version: str | None,
    split: str | None,
    group_by: str | None,
    seed: int | None,
    min_status: str | None,
    task: str,
    mask_png: bool,
    link: str,
    workers: int,
    pixels: str,
    no_synthetic: bool,
    scheduler: str | None,
    as_json: bool,
) -> None:
    """Export the final labels (or a dataset version) of DIR as a training dataset.
    Adjudicators and admins only: final labels are both annotators' labels."""
    from ..qa.blind import require_sees_everything

    if given("task") and fmt != "yolo":
        refuse(f"--task {task} is a YOLO layout; --format {fmt} takes no --task")
    project = open_project(project_dir)
    require_sees_everything(project, identity.current_user(), "export labels")
    if scheduler:
        from ..ingest.parallel import dask_executor

        pools = dask_executor(scheduler)
    else:
        pools = ThreadPoolExecutor(workers)
    _LEFT_TO_EXIT.clear()  # one command per process; in a test's process, the last
    with terminate_cleanly(), pools as pool, no_gc_pauses():
        result = export_project(
            project,
            fmt,
            out,
            version=version,
            min_status=min_status,
            ratios=parse_ratios(split) if split else None,
            group_by=group_by,
            seed=seed,
            task=task,
            link=link,
            mask_png=mask_png,
            pixels=pixels,
            no_synthetic=no_synthetic,
            progress=_progress_printer(),
            executor=pool if workers > 1 or scheduler else None,
            keep=_LEFT_TO_EXIT,
        )
    if as_json:
        emit_json(
            {
                "out": str(result.out),
                "format": fmt,
                "task": task if fmt == "yolo" else None,
                "version": result.version,
                "hash": result.hash,
                "images": result.images,
                "left_out_incomplete": result.incomplete,
            }
        )
        return
    what = f"version {result.version}" if result.version else "current final labels"
    click.echo(
        f"exported {result.images} images ({what}, {result.hash[:12]}) as {fmt} to {result.out}"
    )
    if result.incomplete:
        click.echo(result.left_out_text())
    for note in result.stats.get("notes", []):
        click.echo(note)


@click.command("import")
@project_dir
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(IMPORT_FORMATS),
    help="Format of SOURCE (a file or an export folder).",
)
@click.option("--as", "as_user", help="Write the labels as this annotator (admin only).")
@click.option(
    "--predictions", help="Store as a named predictions set, shown as suggestions while labeling."
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    help="Drop objects whose confidence is lower (YOLO rows with a 6th value).",
)
@json_option
def import_cmd(
    project_dir: Path,
    source: Path,
    fmt: str,
    as_user: str | None,
    predictions: str | None,
    min_score: float | None,
    as_json: bool,
) -> None:
    """Import labels from SOURCE; a bad file is refused and changes nothing."""
    project = open_project(project_dir)
    report = import_labels(
        project,
        fmt,
        source,
        identity.current_user(),
        as_user=as_user,
        predictions=predictions,
        min_score=min_score,
    )
    if as_json:
        emit_json(
            {
                "source": str(source),
                "format": fmt,
                "target": report.target,
                "images": report.images,
                "changed": report.changed,
            }
        )
        return
    click.echo(f"imported {report.images} images as {report.target} ({report.changed} changed)")


def register(group: click.Group) -> None:
    for cmd in (export_cmd, import_cmd, version_group):
        group.add_command(cmd)
