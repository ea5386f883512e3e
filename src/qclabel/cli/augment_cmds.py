"""balance and augment (headless: no Textual)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from .. import identity
from .common import emit_json, open_project, project_dir


def _manifest(project, version: str | None):
    from ..versions import build_manifest, get_version

    return get_version(project, version) if version else build_manifest(project)


@click.command("balance")
@project_dir
@click.option(
    "--version",
    "version",
    help="Report on this dataset version (default: the current final labels).",
)
@click.option(
    "--to-ratio",
    type=float,
    help="Hold every class to this good:defect ratio instead of the [balance] targets.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def balance_cmd(
    project_dir: Path, version: str | None, to_ratio: float | None, as_json: bool
) -> None:
    """Images and objects per class, good:defect ratios against the targets, per split
    and manufacturing field, and how many more defect images each class needs.
    Adjudicators and admins only (it counts final labels)."""
    from ..augment.balance import build_balance, format_balance
    from ..errors import QclabelError
    from ..qa.blind import require_sees_everything

    if to_ratio is not None and to_ratio <= 0:
        raise QclabelError(f"--to-ratio {to_ratio:g}: must be above 0")
    project = open_project(project_dir)
    require_sees_everything(project, identity.current_user(), "show the class balance")
    report = build_balance(_manifest(project, version), project.config, to_ratio)
    if as_json:
        emit_json(report)
        return
    for line in format_balance(report):
        click.echo(line)


def _printer():
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        click.echo(f"\raugmenting {done}/{total} images", err=True, nl=done == total)

    return show


@click.command("augment")
@project_dir
@click.option("--version", "version", required=True, help="Dataset version to start from.")
@click.option(
    "--recipe",
    default="default",
    show_default=True,
    help="Recipe name: [augment.recipes.NAME] in qclabel.toml, or the built-in default.",
)
@click.option("--out-version", required=True, help="Name of the new dataset version.")
@click.option(
    "--to-ratio",
    type=float,
    help="Make defect images until every class is at "
    "most this many good images per defect image (default: [balance] targets).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Same version + recipe + seed = the same bytes.",
)
@click.option(
    "--max-per-source",
    type=click.IntRange(1, 10000),
    default=50,
    show_default=True,
    help="Most synthetic images made from one real image.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Local worker processes.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask "
    "distributed cluster (needs qclabel[dask] and a shared file system).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
def augment_cmd(
    project_dir: Path,
    version: str,
    recipe: str,
    out_version: str,
    to_ratio: float | None,
    seed: int,
    max_per_source: int,
    workers: int,
    scheduler: str | None,
    as_json: bool,
) -> None:
    """Make dataset version OUT-VERSION: VERSION plus synthetic train images of the
    classes short of their target (admin only). Val and test are never augmented."""
    from ..augment.run import augment_version

    project = open_project(project_dir)
    if scheduler:
        from ..ingest.parallel import dask_executor

        context = dask_executor(scheduler)
    else:
        context = nullcontext(None)
    from .export_cmds import terminate_cleanly

    with terminate_cleanly(), context as executor:
        r = augment_version(
            project,
            version,
            recipe,
            out_version,
            identity.current_user(),
            to_ratio=to_ratio,
            seed=seed,
            max_per_source=max_per_source,
            executor=executor,
            workers=workers,
            progress=_printer(),
        )
    if as_json:
        emit_json(r)
        return
    click.echo(
        f"created dataset version {r['version']} from {r['from']}: "
        f"{r['synthetic']} synthetic train images ({r['pasted']} by copy-paste), "
        f"hash {r['hash'][:12]}"
    )
    if r["folder"]:
        click.echo(f"  files in {project.root / r['folder']}")
    if r["discarded"]:
        click.echo(
            f"  discarded {r['discarded']} image(s) whose every defect left the "
            "frame or fell below its class minimum"
        )
    for cls, n in r["dropped"].items():
        click.echo(f"  dropped {n} {cls} object(s) cut below the class minimum or out of the frame")
    for cls, n in r["short"].items():
        click.echo(
            f"  {cls}: still {n} image(s) short (no train image to start from, or "
            "--max-per-source reached): collect more real images"
        )


def register(group: click.Group) -> None:
    for cmd in (balance_cmd, augment_cmd):
        group.add_command(cmd)
