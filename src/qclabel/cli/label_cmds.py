"""demo (and, with the labeling app, label)."""

from __future__ import annotations

from pathlib import Path

import click

from ..demo import make_demo_project
from ..status import format_status, project_status


@click.command()
@click.option("--dir", "dest", type=click.Path(file_okay=False, path_type=Path),
              help="Where to put the demo project (default: a new temporary folder).")
@click.option("--no-app", is_flag=True, help="Only build the project and print its status.")
def demo(dest: Path | None, no_app: bool) -> None:
    """Open the labeling app on a throwaway copy of the sample project."""
    project = make_demo_project(dest)
    click.echo(f"demo project: {project.root}")
    click.echo(format_status(project_status(project)))


def register(group: click.Group) -> None:
    group.add_command(demo)
