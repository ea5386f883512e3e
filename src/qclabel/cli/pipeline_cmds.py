"""pipeline run: ingest, QA plan, gates, version, exports in one idempotent command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import identity
from ..pipeline import RunReport
from .common import emit_json, open_project, project_dir


@click.group("pipeline")
def pipeline_group() -> None:
    """The repeatable pipeline configured in [pipeline] (for a timer or cron)."""


@pipeline_group.command("run")
@project_dir
@click.option("--dry-run", is_flag=True, help="Say what a run would do; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="The run's report as JSON.")
def run_cmd(project_dir: Path, dry_run: bool, as_json: bool) -> None:
    """Ingest new source images, publish the QA plan, and when the gates pass create
    the next dataset version and write every configured export (admin). A run with
    nothing new changes nothing; a run that changed something is in `audit log`.
    Exit code 1 when some source files could not be ingested."""
    from ..pipeline import run
    from .export_cmds import terminate_cleanly

    project = open_project(project_dir)
    with terminate_cleanly():
        report = run(project, identity.current_user(), dry_run=dry_run)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo("\n".join(describe(report)))
    sys.exit(1 if report.failed else 0)


def describe(report: RunReport) -> list[str]:
    would = "would " if report.dry_run else ""
    lines = [
        f"{'dry run: ' if report.dry_run else ''}"
        + ("nothing new" if not report.changed else "changes")
    ]
    for path, n in report.ingested.items():
        lines.append(f"  ingest {path}: {would}add {n} image(s)")
    for path, reason in report.failed:
        lines.append(f"  not ingested: {path}: {reason}")
    if report.queues_changed:
        lines.append(f"  queues {would}change for: {', '.join(report.queues_changed)}")
    for g in report.gates:
        lines.append(f"  gate {g['gate']}: {'pass' if g['passed'] else 'FAIL'} ({g['detail']})")
    if report.version_new:
        lines.append(f"  version {report.version}: {would}create ({report.version_note})")
    else:
        lines.append(f"  no new version: {report.version_note}")
    for e in report.exports:
        state = f"{would}write" if e["written"] else "up to date"
        lines.append(
            f"  export {e['format']} -> {e['out']}: "
            + (state if e["version"] else "no version to export yet")
        )
    return lines


def register(group: click.Group) -> None:
    group.add_command(pipeline_group)
