"""qa plan, qa queue, qa report (review, consensus and adjudicate: cli.review_cmds)."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import click

from .. import identity
from ..core import naming
from ..errors import QclabelError
from ..project import Project
from .common import open_project, project_dir
from .jsonout import Rows, emit_streamed, first_key_varies

if TYPE_CHECKING:
    from ..qa.plan import QueueItem


def _image(project: Project, ref: str) -> str:
    """A person's name for an image: file name, path tail, id or id prefix, position."""
    catalog = project.store.catalog
    if ref in catalog:
        return ref
    hits = naming.find(catalog.all(), ref)
    if not hits and (rec := catalog.find(ref)) is not None:  # a 1-based position
        hits = [rec]
    if len(hits) > 1:
        raise QclabelError(
            f"{project.root}: {len(hits)} images match {ref!r} "
            f"({', '.join(r.source for r in hits[:3])}): give more of the path"
        )
    if not hits:
        raise QclabelError(
            f"{project.root}: no image {ref!r} in the catalog (give a file "
            "name, an id or a 1-based position)"
        )
    return hits[0].id


def _name(project: Project, image_id: str) -> str:
    rec = project.store.catalog.get(image_id)
    return naming.image_name(rec) if rec else image_id


def _named(project: Project, items: list[QueueItem]) -> Iterator[tuple[QueueItem, str]]:
    """Each item with its image's name, the records read 500 at a time (a queue can
    hold half a million images; one query per image costs tens of seconds)."""
    catalog = project.store.catalog
    for n in range(0, len(items), 500):
        page = items[n : n + 500]
        records = catalog.get_many(i.image for i in page)
        for i in page:
            rec = records.get(i.image)
            yield i, naming.image_name(rec) if rec else i.image


@click.group()
def qa() -> None:
    """Dual annotation plan, queues and the agreement report."""


@qa.command("plan")
@project_dir
@click.option("--json", "as_json", is_flag=True, help="Every image's assignment as JSON.")
@click.option(
    "--publish",
    is_flag=True,
    help="Write each user's queue to queues/USER.json with golden images mixed in (admin).",
)
def plan_cmd(project_dir: Path, as_json: bool, publish: bool) -> None:
    """Who labels, reviews and adjudicates which image, from the [qa] config."""
    from ..qa.plan import build_plan

    project = open_project(project_dir)
    if publish:
        from ..qa.queues import publish as do_publish

        changed = do_publish(project, identity.current_user())
        click.echo(f"published queues of {len(changed)} users ({sum(changed.values())} changed)")
        return
    plan = build_plan(project)
    if as_json:  # a million rows: written as they are made (cli.jsonout)
        emit_streamed(
            {**plan.head(), "images": Rows(plan.image_dicts(), first_key_varies("image"))}
        )
        return
    s, cfg = plan.summary(), plan.settings
    click.echo(
        f"policy     first {cfg['dual_first_n']} images of each task dual-annotated; "
        f"spot checks {cfg['spot_check_rate'] * 100:g} %"
        + (f" per {cfg['spot_check_by']}" if cfg["spot_check_by"] else "")
        + f" (seed {cfg['seed']})"
    )
    click.echo(
        f"images     {s['images']}: dual {s['dual']}, single {s['single']}, "
        f"spot checks {s['spot_checks']}"
    )
    click.echo(f"annotators {', '.join(plan.annotators) or '-'}")
    click.echo(f"reviewers  {', '.join(plan.reviewers) or '-'}")
    for user, n in sorted(s["per_user"].items()):
        click.echo(f"  {user}: label {n['label']}, review {n['review']}")
    for w in plan.warnings:
        click.echo(f"warning: {w}", err=True)


@qa.command("queue")
@project_dir
@click.option("--user", help="Whose queue (default: you).")
@click.option("--all", "show_all", is_flag=True, help="Include items already done.")
@click.option("--json", "as_json", is_flag=True)
def queue_cmd(project_dir: Path, user: str | None, show_all: bool, as_json: bool) -> None:
    """The images a user should work on next, and in which role. Another user's queue
    (what they have not labeled yet) only for adjudicators and admins."""
    from ..qa.blind import require_sees_everything
    from ..qa.plan import queue_items
    from ..qa.queues import read_published

    project, me = open_project(project_dir), identity.current_user()
    if user not in (None, me):  # also: another user's queue may hold golden images
        require_sees_everything(project, me, f"see the queue of {user}")
    user = user or me
    items = queue_items(project, user, pending_only=not show_all)
    notice = (read_published(project, user) or {}).get("notice", "")
    named = _named(project, items)
    if as_json:
        emit_streamed(Rows({"image": i.image, "file": f, "role": i.role} for i, f in named))
        return
    if notice:
        click.echo(f"notice: {notice}")
    for _ in range(0, len(items), 1000):
        click.echo("".join(f"{f}  {i.role}\n" for i, f in islice(named, 1000)), nl=False)
    if not items:
        click.echo("nothing to do")


@qa.command("report")
@project_dir
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Local worker processes comparing the dual labels.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Compare on an existing Dask distributed cluster (needs qclabel[dask]).",
)
def report_cmd(
    project_dir: Path, fmt: str, output: Path | None, workers: int, scheduler: str | None
) -> None:
    """Agreement metrics against their targets, worst classes and annotators, and every
    disagreement. Needs the adjudicator role: it shows both annotators' labels."""
    from ..qa.report_format import format_report

    project = open_project(project_dir)
    project.require(identity.current_user(), "adjudicator", "read the QA report")
    report = _report_on(project, workers, scheduler)
    text = json.dumps(report, indent=2) + "\n" if fmt == "json" else format_report(report, fmt)
    if output:
        output.write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def register(group: click.Group) -> None:
    group.add_command(qa)


def _report_on(project, workers: int, scheduler: str | None) -> dict:
    """The QA report, its comparisons on a Dask cluster or local processes if asked."""
    from contextlib import nullcontext
    from ..qa.report import build_report

    if scheduler:
        from ..ingest.parallel import dask_executor

        context = dask_executor(scheduler)
    elif workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
    else:
        context = nullcontext(None)
    with context as executor:
        return build_report(project, executor=executor)
