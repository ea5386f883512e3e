"""images [list] DIR, images relink DIR OLD NEW (headless: no Textual).

`qclabel images DIR` is `images list DIR`: the group runs `list` when its first argument
is not a subcommand. The listing streams: records are read from the catalog a page at a
time and written as they come (a million images: output proportional to the catalog,
memory not), in the same bytes as when the whole list was built first."""

from __future__ import annotations

from pathlib import Path

import click

from .. import identity
from .common import emit_json, open_project, project_dir
from .ingest_cmds import shown
from .jsonout import Rows, emit_streamed

PAGE = 1000  # text lines per write


class _ImagesGroup(click.Group):
    """Subcommands, with `list` as the default: `images DIR` = `images list DIR`."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and "list" in self.commands:
            return "list", self.commands["list"], args
        return super().resolve_command(ctx, args)


@click.group("images", cls=_ImagesGroup)
def images_group() -> None:
    """List the image catalog (`images DIR [--json]`, the same as `images list`) or
    re-point it after images moved (`images relink DIR OLD NEW`)."""


@images_group.command("list")
@project_dir
@click.option("--json", "as_json", is_flag=True, help="Print every record as JSON.")
def list_cmd(project_dir: Path, as_json: bool) -> None:
    """List the image catalog of the project in DIR."""
    records = open_project(project_dir).store.catalog.dicts()
    if as_json:
        emit_streamed(Rows(records))
        return
    click.echo(
        f"{'#':>4} {'id':<16} {'size':>11} {'bits':>4} {'ch':>2} {'sha256':<12} "
        f"{'profile':<12} source  fields"
    )
    page: list[str] = []
    n = 0
    for r in records:
        n += 1
        fields = ",".join(f"{k}={v}" for k, v in sorted(r["fields"].items()))
        page.append(
            f"{r['seq']:>4} {r['id']:<16} {f'{r["width"]}x{r["height"]}':>11} "
            f"{r['bit_depth']:>4} {r['channels']:>2} {r['sha256'][:12]:<12} "
            f"{r['profile']:<12} {shown(r['source'])}  {shown(fields) or '-'}\n"
        )
        if len(page) >= PAGE:
            click.echo("".join(page), nl=False)
            page = []
    click.echo("".join(page) + f"{n} images")


@images_group.command("relink")
@project_dir
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--verify",
    is_flag=True,
    help="Also check each moved file's sha256 against the catalog (reads every file).",
)
@click.option("--dry-run", is_flag=True, help="Check and count, change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def relink_cmd(
    project_dir: Path, old: Path, new: Path, verify: bool, dry_run: bool, as_json: bool
) -> None:
    """Re-point the catalog of DIR from folder OLD to folder NEW after images moved
    (admin only). Nothing changes unless every moved image is found under NEW."""
    from ..relink import relink

    project = open_project(project_dir)
    report = relink(project, old, new, identity.current_user(), verify=verify, dry_run=dry_run)
    if as_json:
        emit_json({"images": report.images, "verified": report.verified, "dry_run": dry_run})
        return
    verb = "would relink" if dry_run else "relinked"
    click.echo(
        f"{verb} {report.images} images from {old} to {new}"
        + (f" ({report.verified} hashes checked)" if verify else "")
    )


def register(group: click.Group) -> None:
    group.add_command(images_group)
