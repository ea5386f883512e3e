"""audit verify, audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..store.audit import format_event, iter_log, verify_all
from .common import emit_json, json_option, open_project, project_dir


@click.group()
def audit() -> None:
    """Check and read the audit trail (the annotators' journals)."""


@audit.command("verify")
@project_dir
@json_option
def verify(project_dir: Path, as_json: bool) -> None:
    """Report OK, or each file and line where a journal, its acknowledgement mark or its
    snapshot was altered, reordered, cut or deleted. Only adjudicators and admins see
    the details of other people's journals."""
    from .. import identity
    from ..qa.blind import sees_everything
    project = open_project(project_dir)
    viewer = identity.current_user()
    everything = sees_everything(project, viewer)
    findings = verify_all(project.store.labels_dir)
    if as_json:
        emit_json([_finding(f, everything or Path(f.file).name == f"{viewer}.jsonl")
                   for f in findings])
    for f in findings if not as_json else ():
        if not (everything or Path(f.file).name == f"{viewer}.jsonl"):
            # event counts and failing lines would tell about blind labels
            click.echo(f"{'OK  ' if f.ok else 'FAIL'} {f.file}"
                       + ("" if f.ok else ": damaged (an adjudicator or admin sees where)"))
            continue
        if f.ok:
            click.echo(f"OK   {f.file}: {f.message}")
        for problem in f.problems:
            click.echo(f"FAIL {problem}")
    if not findings and not as_json:
        click.echo("OK   no journals yet")
    if not all(f.ok for f in findings):
        sys.exit(1)


def _finding(f: object, details: bool) -> dict[str, object]:
    """One journal's result; without `details` only whether it is intact (the counts
    and failing lines would tell about blind labels)."""
    from dataclasses import asdict
    d = asdict(f)  # type: ignore[call-overload]
    return d if details else {"file": d["file"], "ok": d["ok"]}


@audit.command("log")
@project_dir
@click.option("--image", help="Only this image (id or id prefix).")
@click.option("--user", help="Only this annotator (adjudicators and admins).")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
def log(project_dir: Path, image: str | None, user: str | None, as_json: bool) -> None:
    """Who changed which label when, before -> after. Annotators, reviewers: only
    your own events (blind dual annotation); adjudicators and admins: everyone's."""
    from .. import identity
    from ..qa.blind import log_reader
    project = open_project(project_dir)
    user = log_reader(project, identity.current_user(), user)
    for event in iter_log(project.store.labels_dir, image=image, user=user):
        click.echo(json.dumps(event) if as_json else format_event(event))


def register(group: click.Group) -> None:
    group.add_command(audit)
