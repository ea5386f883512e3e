"""Shared CLI helpers: the project argument, JSON output, contradictory options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

from ..project import Project

project_dir = click.argument(
    "project_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path)
)


def open_project(path: Path) -> Project:
    return Project.open(path)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output: one JSON document on stdout."
)


def given(name: str) -> bool:
    """Whether the user typed option `name` (not just its default)."""
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source(name)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def refuse(message: str) -> NoReturn:
    """Options that contradict each other: a usage error (exit 2), never a guess."""
    raise click.UsageError(message, ctx=click.get_current_context(silent=True))
