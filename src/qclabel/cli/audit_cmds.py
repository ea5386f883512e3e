"""audit verify, audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..store.audit import format_event, iter_log, verify_all
from .common import open_project, project_dir


@click.group()
def audit() -> None:
    """Check and read the audit trail (the annotators' journals)."""


@audit.command("verify")
@project_dir
def verify(project_dir: Path) -> None:
    """Report OK, or the file and line where a journal was altered, reordered or cut."""
    project = open_project(project_dir)
    findings = verify_all(project.store.labels_dir)
    for f in findings:
        click.echo(f"{'OK  ' if f.ok else 'FAIL'} {f.message if not f.ok else f.file + ': ' + f.message}")
    if not findings:
        click.echo("OK   no journals yet")
    if not all(f.ok for f in findings):
        sys.exit(1)


@audit.command("log")
@project_dir
@click.option("--image", help="Only this image (id or id prefix).")
@click.option("--user", help="Only this annotator.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
def log(project_dir: Path, image: str | None, user: str | None, as_json: bool) -> None:
    """Who changed which label when, before -> after."""
    from .. import identity
    from ..qa.blind import hider, redact_event
    project = open_project(project_dir)
    hidden = hider(project, identity.current_user())  # blind dual annotation
    for event in iter_log(project.store.labels_dir, image=image, user=user):
        event = redact_event(event, hidden)
        if event is None:  # not for this viewer's eyes (golden references)
            continue
        click.echo(json.dumps(event) if as_json else format_event(event))


def register(group: click.Group) -> None:
    group.add_command(audit)
