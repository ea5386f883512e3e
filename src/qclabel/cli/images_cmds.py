"""images [list] DIR, images relink DIR OLD NEW (headless: no Textual).

`qclabel images DIR` (ingest_cmds' catalog listing) stays as it was: the group runs it
when its first argument is not a subcommand."""

from __future__ import annotations

from pathlib import Path

import click

from .. import identity
from .common import emit_json, open_project, project_dir


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
    listing = group.commands.get("images")
    if listing is not None and listing is not images_group:
        images_group.add_command(listing, "list")
    group.add_command(images_group)
