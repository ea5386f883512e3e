"""ingest (the catalog listing `images`: cli.images_cmds)."""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TextIO

import click

from ..ingest import ingest_paths
from ..ingest.runner import IngestReport, IngestWriteError
from .common import emit_json, given, open_project, project_dir, refuse

STAGES = {"hash": "hashing", "ingest": "ingesting"}


def shown(text: str) -> str:
    """A path on one line: newlines and other control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ProgressBar:
    """`stage [#####.....] done/total  pct  rate/s  ETA m:ss` on one rewritten line."""

    def __init__(self, stream: TextIO, width: int = 30, clock=time.monotonic, every: float = 0.1):
        self.stream, self.width, self.clock, self.every = stream, width, clock, every
        self.stage, self.start, self.last = "", 0.0, -1.0

    def line(self, stage: str, done: int, total: int) -> str:
        elapsed = max(self.clock() - self.start, 1e-9)
        rate = done / elapsed
        frac = done / total if total else 1.0
        filled = int(frac * self.width)
        eta = (total - done) / rate if rate > 0 else 0.0
        return (
            f"{STAGES.get(stage, stage):<9} [{'#' * filled}{'.' * (self.width - filled)}]"
            f" {done}/{total} {frac:4.0%} {rate:7.1f}/s ETA {int(eta // 60)}:"
            f"{int(eta % 60):02d}"
        )

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self.stage:
            if self.stage:
                self.stream.write("\n")
            self.stage, self.start, self.last = stage, now, -1.0
        if done < total and now - self.last < self.every:
            return
        self.last = now
        self.stream.write("\r" + self.line(stage, done, total) + "\x1b[K")
        if done >= total:
            self.stream.write("\n")
            self.stage = ""
        self.stream.flush()


def summary(report: IngestReport, profile: str) -> str:
    n = len(report.added)
    rate = n / report.elapsed_s if report.elapsed_s else 0.0
    lines = [
        f"{n} added, {len(report.duplicates)} duplicates, {len(report.failed)} failed "
        f"(profile {profile}, {report.elapsed_s:.1f} s, {rate:.1f} images/s)"
    ]
    if report.failed:
        lines.append("failed:")
        lines += [f"  {shown(path)}: {shown(reason)}" for path, reason in report.failed]
    return "\n".join(lines)


@click.command()
@project_dir
@click.argument(
    "paths", nargs=-1, required=True, metavar="PATH...", type=click.Path(path_type=Path)
)
@click.option(
    "--profile",
    metavar="NAME",
    help="Source profile from the project config ([profiles.NAME]); default: 'default'.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Worker processes (default: the number of CPUs; 1 = no pool).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask distributed cluster (needs qclabel[dask]; "
    "workers must see the same paths).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
def ingest(
    project_dir: Path,
    paths: tuple[Path, ...],
    profile: str | None,
    workers: int | None,
    scheduler: str | None,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Add image files and folders (recursively) to the project in DIR.

    JPEG, PNG, BMP, TIFF (8/16-bit, multi-page) and WebP. Files already in the
    catalog (same content) are skipped, so re-running is safe. Bad files and
    unreadable folders are reported and skipped; the exit code is 1 when any failed,
    5 when the catalog could not be written (then nothing of the failed batch stays)."""
    if scheduler and given("workers"):
        refuse(
            "--workers sizes a local process pool; with --scheduler the Dask cluster's "
            "workers do the work"
        )
    project = open_project(project_dir)
    show = sys.stderr.isatty() if progress is None else progress
    bar = ProgressBar(sys.stderr) if show else None
    if scheduler:
        from ..ingest.parallel import dask_executor

        context = dask_executor(scheduler)
    else:
        context = nullcontext(None)
    name = profile or "default"
    try:
        with context as executor:
            report = ingest_paths(
                project, paths, profile=profile, workers=workers, executor=executor, progress=bar
            )
    except IngestWriteError as exc:
        _print_report(exc.report, name, as_json)  # every file that did not enter
        raise
    _print_report(report, name, as_json)
    if report.failed:
        sys.exit(1)


def _print_report(report: IngestReport, name: str, as_json: bool) -> None:
    if as_json:
        emit_json(
            {**report.to_dict(), "profile": name, "added": [r.to_dict() for r in report.added]}
        )
    else:
        click.echo(summary(report, name))


def register(group: click.Group) -> None:
    group.add_command(ingest)
