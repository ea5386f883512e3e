"""version create, list, show, diff (headless: no Textual)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import identity
from ..qa.final import STATUSES
from ..splits import parse_ratios
from .common import emit_json, json_option, open_project, project_dir, refuse


@click.group("version")
def version_group() -> None:
    """Freeze, list, show and compare dataset versions."""


@version_group.command("create")
@project_dir
@click.argument("name")
@click.option("--split", help="Train,val,test ratios, e.g. 0.8,0.1,0.1.")
@click.option("--group-by", help="Image field whose images stay in one split.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--min-status",
    type=click.Choice(STATUSES),
    default="single",
    show_default=True,
    help="Lowest final-label status to include.",
)
@click.option(
    "--override",
    is_flag=True,
    help="Release even if a quality gate fails "
    "(recorded, with --note, in the audit trail and the version's QA evidence).",
)
@click.option("--note", help="Why the gates are overridden (with --override).")
@json_option
def version_create(
    project_dir: Path,
    name: str,
    split: str | None,
    group_by: str | None,
    seed: int,
    min_status: str,
    override: bool,
    note: str | None,
    as_json: bool,
) -> None:
    """Freeze the current final labels of DIR as dataset version NAME (admin only).
    Refused, naming the gate, when a [qa.gates] quality gate fails."""
    from ..errors import QclabelError
    from ..versions import create_version, summary

    if note is not None and not override:
        refuse("--note is recorded only with --override (it says why a gate is overridden)")
    project = open_project(project_dir)
    user = identity.current_user()
    project.require(user, "admin", "create a dataset version")
    if override and not (note and note.strip()):
        raise QclabelError("--override needs --note WHY (it is recorded with the version)")
    m = create_version(
        project,
        name,
        user,
        override_note=note if override else None,
        min_status=min_status,
        ratios=parse_ratios(split),
        group_by=group_by,
        seed=seed,
    )
    gates = m["qa"]["evidence"]["gates"]
    if as_json:
        emit_json(summary(m))
        return
    click.echo(
        f"created dataset version {name}: {len(m['labels'])} images, "
        f"hash {m['hash'][:12]}; gates passed {sum(g['passed'] for g in gates)}"
        f"/{len(gates)}"
    )
    for o in m["qa"]["evidence"]["overrides"]:
        click.echo(f"overridden by {o['by']}: {', '.join(o['gates'])} ({o['note']})")


@version_group.command("list")
@project_dir
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def version_list(project_dir: Path, as_json: bool) -> None:
    """List the dataset versions of DIR, oldest first. Image counts and QA figures
    only for adjudicators and admins (they tell how many dual images agreed)."""
    from ..qa.blind import sees_everything
    from ..versions import all_summaries

    project = open_project(project_dir)
    rows = all_summaries(project)
    if not sees_everything(project, identity.current_user()):
        rows = [{k: r[k] for k in ("name", "created", "created_by", "hash")} for r in rows]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        count = f"{r['images']:>7} images  " if "images" in r else ""
        click.echo(f"{r['name']:<20} {r['created']}  {r['created_by']:<10} {count}{r['hash'][:12]}")
    if not rows:
        click.echo("no dataset versions yet (qclabel version create DIR NAME)")


@version_group.command("show")
@project_dir
@click.argument("name")
def version_show(project_dir: Path, name: str) -> None:
    """Counts, settings, QA summary and hash of version NAME (JSON). Adjudicators
    and admins only."""
    from ..qa.blind import require_sees_everything
    from ..versions import get_version, summary

    project = open_project(project_dir)
    require_sees_everything(project, identity.current_user(), "show a dataset version")
    emit_json(summary(get_version(project, name)))


@version_group.command("diff")
@project_dir
@click.argument("a")
@click.argument("b")
@click.option("--images", "per_image", is_flag=True, help="Also list, per image, what changed.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def version_diff(project_dir: Path, a: str, b: str, per_image: bool, as_json: bool) -> None:
    """Labels added, removed and changed per defect class from version A to B.
    Adjudicators and admins only."""
    from ..qa.blind import require_sees_everything
    from ..versions import diff_versions, get_version

    project = open_project(project_dir)
    require_sees_everything(project, identity.current_user(), "compare dataset versions")
    d = diff_versions(get_version(project, a), get_version(project, b))
    if not per_image:
        del d["images"]
    if as_json:
        emit_json(d)
        return
    click.echo(
        f"{a} -> {b}: images +{d['images_added']} -{d['images_removed']}"
        f"{'  (taxonomy changed)' if d['taxonomy_changed'] else ''}"
    )
    click.echo(f"  {'class':<20} {'added':>7} {'removed':>7} {'changed':>7}")
    for cls, c in d["classes"].items():
        click.echo(f"  {cls:<20} {c['added']:>7} {c['removed']:>7} {c['changed']:>7}")
    if not d["classes"]:
        click.echo("  no label differences")
    for c in d["changed"]:
        click.echo(
            f"  changed {c['object']} ({c['class']}) on {c['image']}: IoU {c['iou']:.3f} with {a}"
        )
    for image in d.get("images", []):
        click.echo(_image_line(image))
        for c in image["changes"]:
            click.echo(
                f"    {_SIGN[c['change']]} {c['object']:<24} {c['class']}"
                + (f"  IoU {c['iou']:.3f}" if "iou" in c else "")
                + (
                    f"  severity {c['severity'][0]} -> {c['severity'][1]}"
                    if "severity" in c
                    else ""
                )
            )


_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _image_line(image: dict) -> str:
    state = (
        " (image added)"
        if image.get("image_added")
        else " (image removed)"
        if image.get("image_removed")
        else ""
    )
    return f"  {image['name'] or image['image']} [{image['image'][:8]}]{state}"
