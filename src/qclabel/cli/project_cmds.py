"""init, status, role."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import identity
from ..project import BUNDLED_TAXONOMIES, ROLES, Project
from ..status import format_status, project_status
from .common import emit_json, open_project, project_dir


@click.command()
@project_dir
@click.option(
    "--taxonomy",
    "taxonomy",
    default="metal-stamping",
    show_default=True,
    help=f"A taxonomy TOML file, or a bundled one: {', '.join(BUNDLED_TAXONOMIES)}.",
)
@click.option("--name", help="Project name (default: the folder name).")
@click.option(
    "--privileged-group",
    metavar="GROUP",
    help="The OS group of the adjudicators and admins: only they (and each "
    "journal's writer) may read the journals in DIR/labels.",
)
def init(project_dir: Path, taxonomy: str, name: str | None, privileged_group: str | None) -> None:
    """Create a project in DIR; the current user becomes its admin and owner. Create DIR
    and give it the project's group first (mkdir DIR && chgrp GROUP DIR): its folders
    keep that group."""
    project = Project.init(project_dir, taxonomy, name=name, privileged_group=privileged_group)
    click.echo(
        f"created project {project.name!r} in {project.root} "
        f"(taxonomy {project.taxonomy.name}, admin {identity.current_user()})"
    )


@click.command()
@project_dir
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(project_dir: Path, as_json: bool) -> None:
    """Images, labels per class, per annotator and per state."""
    s = project_status(open_project(project_dir), viewer=identity.current_user())
    if as_json:
        emit_json(s)
    else:
        click.echo(format_status(s))


@click.command()
@project_dir
@click.option("--json", "as_json", is_flag=True, help="One JSON list of findings.")
def check(project_dir: Path, as_json: bool) -> None:
    """List every inconsistent label (pass with boxes, fail without any box in a
    detection task, unknown class or severity): file, annotator, rule, detail.
    Exit code 1 when there is any."""
    from ..check import format_findings, project_findings

    findings = project_findings(open_project(project_dir), viewer=identity.current_user())
    if as_json:
        emit_json([f.to_dict() for f in findings])
    else:
        click.echo(format_findings(findings))
    if findings:
        sys.exit(1)


@click.group()
def role() -> None:
    """Manage who may annotate, review and adjudicate (admin only)."""


@role.command("add")
@project_dir
@click.argument("user")
@click.argument("role_name", metavar="ROLE", type=click.Choice(ROLES))
def role_add(project_dir: Path, user: str, role_name: str) -> None:
    """Give USER the ROLE."""
    open_project(project_dir).add_role(identity.current_user(), user, role_name)
    click.echo(f"{user} is now {role_name}")


@role.command("remove")
@project_dir
@click.argument("user")
@click.argument("role_name", metavar="ROLE", type=click.Choice(ROLES))
def role_remove(project_dir: Path, user: str, role_name: str) -> None:
    """Take the ROLE from USER."""
    open_project(project_dir).remove_role(identity.current_user(), user, role_name)
    click.echo(f"{user} is no longer {role_name}")


@role.command("list")
@project_dir
@click.option("--json", "as_json", is_flag=True)
def role_list(project_dir: Path, as_json: bool) -> None:
    """Show every role and its users."""
    table = open_project(project_dir).role_table()
    if as_json:
        emit_json(table)
        return
    for name, users in table.items():
        click.echo(f"{name:<12} {', '.join(users) or '-'}")


@click.command()
@project_dir
def permissions(project_dir: Path) -> None:
    """Check the folder modes and every file's owner (README: who can change which
    file); exit code 1 when something is off."""
    from ..store.folders import check_setup

    project = open_project(project_dir)
    checks = check_setup(project.root, project.config["qclabel"].get("privileged_group"))
    for c in checks:
        click.echo(f"{'OK  ' if c.ok else 'FAIL'} {c.line}")
    if not all(c.ok for c in checks):
        sys.exit(1)


def register(group: click.Group) -> None:
    for cmd in (init, status, check, role, permissions):
        group.add_command(cmd)
