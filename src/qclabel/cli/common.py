"""Shared CLI helpers: the project argument and JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..project import Project

project_dir = click.argument("project_dir", metavar="DIR",
                             type=click.Path(file_okay=False, path_type=Path))


def open_project(path: Path) -> Project:
    return Project.open(path)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
