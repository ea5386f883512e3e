"""review, consensus, adjudicate: a reviewer's correction, a call for consensus, and the
adjudicator's final label."""

from __future__ import annotations

from pathlib import Path

import click

from .. import identity
from ..core import edits
from ..core.model import Annotation
from ..errors import QclabelError
from ..project import Project
from .common import emit_json, given, json_option, open_project, project_dir, refuse
from .qa_cmds import _image, _name


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
    for cmd in (review, consensus, adjudicate):
        group.add_command(cmd)
