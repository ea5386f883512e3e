"""label and demo: the commands that open the labeling app (Textual is imported inside
the command, after the terminal probe)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import identity
from ..errors import QclabelError
from ..demo import make_demo_project
from ..status import format_status, project_status
from ..tui.labeling import QUEUES  # no Textual in there
from .common import open_project, project_dir

GRAPHICS = ("auto", "sixel", "kitty", "halfcell", "unicode")
THEMES = ("dark", "light", "high-contrast")

graphics_opt = click.option(
    "--graphics",
    type=click.Choice(GRAPHICS),
    default="auto",
    show_default=True,
    help="How images reach the terminal: auto asks the terminal (sixel, then kitty, "
    "then half-cell); force one when detection guesses wrong (tmux: halfcell).",
)
theme_opt = click.option(
    "--theme", type=click.Choice(THEMES), default="dark", show_default=True, help="Colour theme."
)


def _queue_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from ..core.queue_filter import parse_queue

    try:
        parse_queue(value, QUEUES)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def run_app(project, graphics: str, theme: str, task: str | None, queue: str | None) -> int:
    from ..render.sheet import grid_thumb_cols

    grid_thumb_cols(project.config)  # a bad setting is one line now, not a crash later
    user = identity.current_user()
    project.require(user, "annotator", "label images")
    if graphics == "auto":
        require_terminal()  # probing asks the terminal and would wait for its answer
    from ..tui import graphics as gfx

    mode = gfx.prepare(graphics)  # probe the terminal before Textual owns it
    from ..tui.app import build_app

    app = build_app(
        project, user, graphics=mode, theme=theme, task=task, queue=queue, handle_hangup=True
    )
    try:
        require_terminal()  # after the session opened: its refusals come first
        app.run()
    finally:
        app.close_session()
    return app.return_code or 0


def require_terminal() -> None:
    """The app reads keys from stdin: without a terminal there (cron, a pipe, `ssh host
    cmd` without -t) it would wait forever for a terminal reply, so say so instead."""
    if not sys.stdin.isatty():
        raise QclabelError(
            "the labeling app needs a terminal on stdin (it is a pipe or "
            "a file); run it in a terminal, or use `ssh -t` over SSH"
        )


@click.command()
@project_dir
@click.option(
    "--task",
    help="Taxonomy task to label (passfail, classification, ...); default: the project's first.",
)
@click.option(
    "--queue",
    callback=_queue_spec,
    metavar="SPEC",
    help="Which images: unlabeled (default), mine, flagged by anyone, all, "
    "plan (what the QA plan gives you), and/or filters such as "
    "'lot=L07', 'all,station=S2|S3,class=crack' (see the README). "
    "Default: the queue you last used.",
)
@graphics_opt
@theme_opt
def label(
    project_dir: Path, task: str | None, queue: str | None, graphics: str, theme: str
) -> None:
    """Label the images of the project in DIR with the keyboard.

    Every label is on disk (journaled, fsynced) before the app moves on; q quits at
    once, a dropped connection loses nothing, and the next start resumes at the same
    image. Press ? in the app for the keys.
    """
    project = open_project(project_dir)
    raise SystemExit(run_app(project, graphics, theme, task, queue))


@click.command()
@click.option(
    "--dir",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to put the demo project (default: a new temporary folder).",
)
@click.option("--no-app", is_flag=True, help="Only build the project and print its status.")
@graphics_opt
@theme_opt
def demo(dest: Path | None, no_app: bool, graphics: str, theme: str) -> None:
    """Open the labeling app on a throwaway copy of the sample project."""
    project = make_demo_project(dest)
    click.echo(f"demo project: {project.root}")
    if no_app:
        click.echo(format_status(project_status(project)))
        return
    raise SystemExit(run_app(project, graphics, theme, None, None))


def register(group: click.Group) -> None:
    group.add_command(label)
    group.add_command(demo)
