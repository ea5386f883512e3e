"""audit verify, audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..store.audit import format_event, iter_log, verify_project
from .common import emit_json, json_option, open_project, project_dir


@click.group()
def audit() -> None:
    """Check and read the audit trail (the annotators' journals)."""


@audit.command("verify")
@project_dir
@json_option
def verify(project_dir: Path, as_json: bool) -> None:
    """Report OK, or each file and line where a journal, its acknowledgement mark or its
    snapshot was altered, reordered, cut or deleted, where a file is not owned by the
    user it is named for, and every event whose author lacked the role it needs at its
    time. Only adjudicators and admins see the details of other people's journals."""
    from .. import identity
    from ..qa.blind import sees_everything

    project = open_project(project_dir)
    viewer = identity.current_user()
    everything = sees_everything(project, viewer)
    findings = verify_project(project.root, project.store.authority())

    def own(f) -> bool:
        name = Path(f.file).name
        return (
            everything
            or name in (f"{viewer}.jsonl", f"{viewer}.lock")
            or name.startswith(f"{viewer}@")
        )

    if as_json:
        emit_json([_finding(f, own(f)) for f in findings])
    for f in findings if not as_json else ():
        if not f.verified:  # file modes: not this user's to read
            click.echo(f"{'FAIL' if everything else 'SKIP'} {f.file}: {f.message} (not verified)")
            continue
        if not own(f):
            # event counts and failing lines would tell about blind labels
            click.echo(
                f"{'OK  ' if f.ok else 'FAIL'} {f.file}"
                + ("" if f.ok else ": damaged (an adjudicator or admin sees where)")
            )
            continue
        if f.ok:
            click.echo(f"OK   {f.file}: {f.message}")
        for problem in f.problems:
            click.echo(f"FAIL {problem}")
    if not findings and not as_json:
        click.echo("OK   no journals yet")
    if not all(f.ok and (f.verified or not everything) for f in findings):
        sys.exit(1)


def _finding(f: object, details: bool) -> dict[str, object]:
    """One journal's result; without `details` only whether it is intact (the counts
    and failing lines would tell about blind labels)."""
    from dataclasses import asdict

    d = asdict(f)  # type: ignore[call-overload]
    if details and d["verified"]:
        return d
    return {"file": d["file"], "ok": d["ok"], **({} if d["verified"] else {"verified": False})}


@audit.command("log")
@project_dir
@click.option("--image", help="Only this image (id or id prefix).")
@click.option("--user", help="Only this annotator (adjudicators and admins).")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
def log(project_dir: Path, image: str | None, user: str | None, as_json: bool) -> None:
    """Who changed which label when, before -> after. Annotators, reviewers: only
    your own events (blind dual annotation); adjudicators and admins: everyone's, and
    every role change (who gave whom which role)."""
    from .. import identity
    from ..qa.blind import log_reader, sees_everything

    project = open_project(project_dir)
    viewer = identity.current_user()
    user = log_reader(project, viewer, user)
    events = list(iter_log(project.store.labels_dir, image=image, user=user))
    if image is None and sees_everything(project, viewer):  # they name the annotators
        events += iter_log(project.store.roles_dir, user=user)
    events.sort(key=lambda e: (e["ts"], e["user"], e["seq"]))
    for event in events:
        click.echo(json.dumps(event) if as_json else _format(event))


def _format(event: dict) -> str:
    if event.get("kind") != "role":
        return format_event(event)
    after = event.get("after") or {}
    what = "given to" if after.get("held") else "taken from"
    return (
        f"{event['ts']}  {event['user']:<10} role      the {after.get('role')} role "
        f"{what} {after.get('user')}"
    )


def register(group: click.Group) -> None:
    group.add_command(audit)
