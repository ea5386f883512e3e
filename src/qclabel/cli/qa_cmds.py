"""qa plan, qa queue, qa report, review, consensus, adjudicate."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import identity
from ..core import edits, naming
from ..core.model import Annotation
from ..errors import QclabelError
from ..project import Project
from .common import emit_json, given, json_option, open_project, project_dir, refuse


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


def _edited(
    ann: Annotation, verdict: str | None, defect_class: str | None, severity: str | None
) -> Annotation:
    steps = []
    if verdict:
        steps.append(edits.set_verdict(verdict))
    if defect_class:
        steps.append(edits.set_class(defect_class, severity))
    elif severity:
        steps.append(edits.set_severity(severity))
    return edits.apply("", ann, *steps).after


def _check_class(project: Project, defect_class: str | None) -> None:
    if defect_class and defect_class not in project.taxonomy.class_names():
        raise QclabelError(
            f"--class {defect_class!r} is not a defect class of taxonomy "
            f"{project.taxonomy.name} ({', '.join(project.taxonomy.class_names())})"
        )


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
    if as_json:
        emit_json(plan.to_dict())
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
    if as_json:
        emit_json(
            [{"image": i.image, "file": _name(project, i.image), "role": i.role} for i in items]
        )
        return
    if notice:
        click.echo(f"notice: {notice}")
    for i in items:
        click.echo(f"{_name(project, i.image)}  {i.role}")
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


@click.command()
@project_dir
@click.argument("image")
@click.option("--verdict", type=click.Choice(["pass", "fail"]), help="Corrected verdict.")
@click.option("--class", "defect_class", help="Corrected defect class.")
@click.option("--severity", help="Corrected severity.")
@click.option("--note", help="Why (required for a correction).")
@json_option
def review(
    project_dir: Path,
    image: str,
    verdict: str | None,
    defect_class: str | None,
    severity: str | None,
    note: str | None,
    as_json: bool,
) -> None:
    """Spot-check IMAGE: with no correction it is confirmed ok. Reviewers only."""
    from ..qa.decisions import labelers, review as do_review

    project = open_project(project_dir)
    user = identity.current_user()
    project.require(user, "reviewer", "spot-check labels")
    image_id = _image(project, image)
    _check_class(project, defect_class)
    correction = None
    if verdict or defect_class or severity:
        labels = labelers(project.store.all_states(), image_id)
        correction = _edited(
            labels[0][1] if labels else Annotation(), verdict, defect_class, severity
        )
    with project.store.open_session(user) as session:
        event = do_review(project, session, image_id, correction, note)
    if as_json:
        emit_json(
            {
                "image": image_id,
                "name": _name(project, image_id),
                "outcome": event["after"]["outcome"],
                "of": event["after"]["of"],
                "by": user,
                "event": event["hash"],
            }
        )
        return
    click.echo(
        f"review of {_name(project, image_id)}: {event['after']['outcome']} "
        f"(labels by {event['after']['of']})"
    )


@click.command()
@project_dir
@click.argument("image")
@click.option("--note", required=True, help="Why this image needs consensus review.")
def consensus(project_dir: Path, image: str, note: str) -> None:
    """Send IMAGE to consensus review: it joins the adjudicators' queue."""
    from ..qa.decisions import request_consensus

    project = open_project(project_dir)
    user = identity.current_user()
    image_id = _image(project, image)
    with project.store.open_session(user) as session:
        request_consensus(project, session, image_id, note)
    click.echo(f"{_name(project, image_id)} sent to consensus review")


@click.command()
@project_dir
@click.option("--list", "list_only", is_flag=True, help="Print the disagreement queue.")
@click.option("--image", help="Decide this image without the app (with --take).")
@click.option("--take", type=click.Choice(["A", "B"]), help="Take annotator A's or B's labels.")
@click.option("--verdict", type=click.Choice(["pass", "fail"]), help="Then set the verdict.")
@click.option("--class", "defect_class", help="Then set the defect class.")
@click.option("--severity", help="Then set the severity.")
@click.option("--note", help="Why (recorded with the decision).")
@click.option(
    "--graphics",
    type=click.Choice(["auto", "sixel", "kitty", "halfcell", "unicode"]),
    default="auto",
    show_default=True,
    help="How images reach the terminal.",
)
@json_option
def adjudicate(
    project_dir: Path,
    list_only: bool,
    image: str | None,
    take: str | None,
    verdict: str | None,
    defect_class: str | None,
    severity: str | None,
    note: str | None,
    graphics: str,
    as_json: bool,
) -> None:
    """Resolve disagreements between two blind annotators. Adjudicators only.

    With no options, opens the app on the adjudication screen."""
    from ..qa.decisions import adjudication_queue

    _adjudicate_conflicts(list_only, as_json)
    project = open_project(project_dir)
    user = identity.current_user()
    project.require(user, "adjudicator", "adjudicate")
    if list_only:
        queue = adjudication_queue(project)
        if as_json:
            emit_json(
                [
                    {
                        "image": d.image,
                        "name": _name(project, d.image),
                        "kind": d.kind,
                        "annotators": list(d.annotators),
                        "detail": d.detail,
                    }
                    for d in queue
                ]
            )
            return
        for d in queue:
            click.echo(
                f"{_name(project, d.image)}  {d.kind:<9} {' / '.join(d.annotators):<20} {d.detail}"
            )
        return
    if image or take:
        _decide(project, user, image, take, verdict, defect_class, severity, note)
        return
    raise SystemExit(_run_app(project, user, graphics))


def _adjudicate_conflicts(list_only: bool, as_json: bool) -> None:
    """--list prints, --image/--take decides, no option opens the app: never two."""
    deciding = [
        f"--{n.replace('defect_class', 'class')}"
        for n in ("image", "take", "verdict", "defect_class", "severity", "note")
        if given(n)
    ]
    if list_only and deciding:
        refuse(f"--list prints the queue; it takes no {', '.join(deciding)}")
    if not list_only and deciding and not (given("image") and given("take")):
        refuse(
            f"{', '.join(deciding)} decide an image without the app: give --image and --take A|B"
        )
    if as_json and not list_only:
        refuse("--json goes with --list (the queue as JSON)")
    if given("graphics") and (list_only or deciding):
        refuse("--graphics is for the app; --list and --image/--take do not open it")


def _run_app(project: Project, user: str, graphics: str) -> int:
    from ..tui import graphics as gfx

    mode = gfx.prepare(graphics)  # probe the terminal before Textual owns it
    from ..tui.app import build_app  # loads textual: only here

    app = build_app(project, user, graphics=mode, start="adjudicate", handle_hangup=True)
    try:
        app.run()
    finally:
        app.close_session()
    return app.return_code or 0


def _decide(
    project: Project,
    user: str,
    image: str | None,
    take: str | None,
    verdict: str | None,
    defect_class: str | None,
    severity: str | None,
    note: str | None,
) -> None:
    from ..qa.decisions import adjudicate as do_adjudicate, labelers

    if not (image and take):
        raise QclabelError("deciding without the app needs both --image and --take A|B")
    image_id = _image(project, image)
    _check_class(project, defect_class)
    labels = labelers(project.store.all_states(), image_id)
    index = 0 if take == "A" else 1
    if index >= len(labels):
        raise QclabelError(f"image {_name(project, image_id)} has no labels from annotator {take}")
    ann = _edited(labels[index][1], verdict, defect_class, severity)
    source = "edited" if ann != labels[index][1] else take
    with project.store.open_session(user) as session:
        do_adjudicate(project, session, image_id, source, ann, note)
    click.echo(f"{_name(project, image_id)}: final label from {source} ({labels[index][0]})")


def register(group: click.Group) -> None:
    for cmd in (qa, review, consensus, adjudicate):
        group.add_command(cmd)


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
