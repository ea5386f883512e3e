"""qa golden (add, remove, list), qa lots, qa analytics: production QA (headless)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import identity
from ..errors import QclabelError
from ..formats.importing import IMPORT_FORMATS
from ..project import Project
from .common import emit_json, given, open_project, project_dir, refuse
from .qa_cmds import _image, qa

PRIVILEGED = "adjudicator"  # held by adjudicators and admins: sees everyone's labels


@qa.group("golden")
def golden_group() -> None:
    """Golden images: reference labels mixed blind into the annotators' queues."""


@golden_group.command("add")
@project_dir
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...")
@click.option("--note", required=True, help="Why these images are golden.")
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, path_type=Path),
    help="Take the references from this file (default: each image's "
    "adjudicated or agreed final label).",
)
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS), help="Format of --from.")
def golden_add(
    project_dir: Path, images: tuple[str, ...], note: str, source: Path | None, fmt: str | None
) -> None:
    """Promote IMAGE... to the golden set (admin)."""
    from ..qa.golden import promote

    project = open_project(project_dir)
    user = identity.current_user()
    project.require(user, "admin", "manage golden images")
    ids = [_image(project, ref) for ref in images]
    refs = _imported(project, source, fmt, ids) if source else {}
    with project.store.open_session(user) as session:
        for image in ids:
            promote(
                project,
                session,
                image,
                note,
                refs.get(image),
                f"import:{source}" if source else "final",
            )
    click.echo(f"{len(ids)} golden image(s) added")


def _imported(project: Project, source: Path, fmt: str | None, ids: list[str]) -> dict:
    from ..formats.importing import match_all
    from ..formats.sources import READERS

    if fmt is None:
        raise QclabelError("--from FILE needs --format (the format of FILE)")
    matched = match_all(project, READERS[fmt](project, source))
    missing = [i for i in ids if i not in matched]
    if missing:
        raise QclabelError(
            f"{source}: no label for image {missing[0]} ({len(missing)} of the images have none)"
        )
    return {i: matched[i].annotation for i in ids}


@golden_group.command("remove")
@project_dir
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...")
@click.option("--note", required=True, help="Why they leave the golden set.")
def golden_remove(project_dir: Path, images: tuple[str, ...], note: str) -> None:
    """Take IMAGE... out of the golden set (admin); earlier answers stop counting."""
    from ..qa.golden import remove

    project = open_project(project_dir)
    user = identity.current_user()
    ids = [_image(project, ref) for ref in images]
    with project.store.open_session(user) as session:
        for image in ids:
            remove(project, session, image, note)
    click.echo(f"{len(ids)} golden image(s) removed")


@golden_group.command("list")
@project_dir
@click.option("--json", "as_json", is_flag=True)
def golden_list(project_dir: Path, as_json: bool) -> None:
    """The golden images, their answers, and each annotator's golden accuracy
    (adjudicators and admins: it tells which images are golden)."""
    from ..qa.golden import answers, golden_set, summary

    project = open_project(project_dir)
    project.require(identity.current_user(), PRIVILEGED, "see the golden set")
    states = project.store.all_states()
    refs, given = golden_set(project, states), answers(project, states)
    rows = [
        {
            "image": i,
            "source": r.source,
            "by": r.by,
            "answers": sum(a.image == i for a in given),
            "correct": sum(a.image == i and a.correct for a in given),
        }
        for i, r in refs.items()
    ]
    accuracy = summary(project, states)
    if as_json:
        emit_json(
            {"images": rows, "accuracy": accuracy["annotators"], "flagged": accuracy["flagged"]}
        )
        return
    for r in rows:
        click.echo(
            f"{r['image']}  {r['source']:<12} answers {r['answers']}, correct {r['correct']}"
        )
    click.echo(format_accuracy(accuracy))


def format_accuracy(summary: dict) -> str:
    lines = [
        f"golden images {summary['images']}; flagged below "
        f"{summary['settings']['golden_min'] * 100:g} % after "
        f"{summary['settings']['golden_min_answers']} answers"
    ]
    for a in summary["annotators"]:
        ci = a["ci"] or [0, 0]
        lines.append(
            f"  {a['annotator']:<12} {a['correct']}/{a['answers']} "
            f"{a['accuracy'] * 100:5.1f} %  95 % CI [{ci[0] * 100:.1f}, "
            f"{ci[1] * 100:.1f}]" + ("  FLAGGED" if a["flagged"] else "")
        )
    return "\n".join(lines)


@qa.command("lots")
@project_dir
@click.option("--json", "as_json", is_flag=True)
def lots_cmd(project_dir: Path, as_json: bool) -> None:
    """Acceptance sampling per lot (spot_check_by = "aql"): plan, reviews, outcome."""
    from ..qa.aql import settings
    from ..qa.plan import build_plan

    project = open_project(project_dir)
    project.require(identity.current_user(), PRIVILEGED, "read the lot outcomes")
    if project.qa.get("spot_check_by") != "aql":
        raise QclabelError(
            f"{project.config_path}: qa.spot_check_by = "
            f"{project.qa.get('spot_check_by')!r}: lots are sampled only "
            'with spot_check_by = "aql"'
        )
    cfg, lots = settings(project), build_plan(project).lots
    if as_json:
        emit_json({"settings": cfg, "lots": [lot.to_dict() for lot in lots]})
        return
    click.echo(
        f"AQL {cfg['aql']}, inspection level {cfg['inspection_level']}, lots by {cfg['lot_by']}"
    )
    for lot in lots:
        p = lot.plan
        plan = (
            f"code {p['code']} n {p['n']} Ac {p['ac']} Re {p['re']}"
            if "ac" in p
            else f"100 % review of {p['n']}"
        )
        click.echo(
            f"  {lot.name:<12} {len(lot.images):>6} images  {lot.severity:<12} "
            f"{plan:<28} reviewed {lot.reviewed}/{len(lot.sample)}, corrections "
            f"{lot.corrections}: {lot.outcome}"
        )
    if not lots:
        click.echo("  no single-labeled images yet")


@qa.command("analytics")
@project_dir
@click.option("--user", help="Only this annotator.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def analytics_cmd(
    project_dir: Path, user: str | None, fmt: str, as_json: bool, output: Path | None
) -> None:
    """Per annotator and week: images, objects, seconds per image by task, agreement
    with the pair and with finals, golden accuracy, corrections, confusion, drift.
    Adjudicators and admins (it compares everyone's labels)."""
    import json
    from ..qa.analytics import build_analytics
    from ..qa.analytics_format import format_analytics

    if as_json and given("fmt") and fmt != "json":
        refuse(f"--json is --format json; it contradicts --format {fmt}")
    project = open_project(project_dir)
    project.require(identity.current_user(), PRIVILEGED, "read the annotator analytics")
    data = build_analytics(project, user)
    fmt = "json" if as_json else fmt
    text = json.dumps(data, indent=2) + "\n" if fmt == "json" else format_analytics(data, fmt)
    if output:
        output.write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def register(group: click.Group) -> None:
    """Nothing to add to the top level: these commands join qa_cmds' `qa` group."""
