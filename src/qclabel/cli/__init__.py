"""The `qclabel` command. Headless commands never import Textual; only `label`,
`demo` and `adjudicate` load the app, inside the command."""

from __future__ import annotations

import importlib
import os
import select
import signal
import sys
from typing import Any

import click

from .. import __version__
from ..errors import QclabelError

# Each module defines `register(group)`; one module per area keeps this file stable.
COMMAND_MODULES = (
    "project_cmds",
    "audit_cmds",
    "label_cmds",
    "qa_cmds",
    "qa_production_cmds",
    "review_cmds",
    "ingest_cmds",
    "export_cmds",
    "augment_cmds",
    "pipeline_cmds",
    "images_cmds",
    "completion_cmds",
)


class _Group(click.Group):
    """Print QclabelError as one line (no traceback) and exit with its code; click's
    own usage errors (unknown option, missing argument, bad choice) in the same style."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except QclabelError as exc:
            click.echo(f"qclabel: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            if not _stdout_gone():
                raise
            # The reader of our output left (`| head`): stop quietly, as a tool that
            # SIGPIPE ends does, and give Python's exit flush nowhere to fail.
            _quiet_stdout()
            sys.exit(128 + signal.SIGPIPE)
        except OSError as exc:
            # The last line of defence: a disk or permission error that no command
            # turned into a typed error is still one line (code 5: not written/read).
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"qclabel: error: {where}{exc.strerror or exc}", err=True)
            sys.exit(5)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            # Not standalone: click raises its errors here instead of printing them.
            super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # a bare group: its help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
            one_line = " ".join(exc.format_message().split())  # click lists choices on lines
            click.echo(f"qclabel: error: {one_line}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"qclabel: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(0)


def _stdout_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (another broken pipe, of a
    socket or a child, is an error like any other)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & select.POLLERR for _, ev in poll.poll(0))
    except (OSError, ValueError):
        return False


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _group() -> click.Group:
    @click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="qclabel")
    def main() -> None:
        """Label inspection images in the terminal: ingest, label, QA, export."""

    return main


# Commands run often enough that loading every other command's modules first (the
# export formats, ingest, OpenCV: about 0.2 s) would show: the module defining each.
# `for_args` runs them from a group holding only that module's commands.
# A key of two words is a subcommand whose group's other modules are not needed.
QUICK = {
    **dict.fromkeys(("status", "check", "init", "role", "permissions"), "project_cmds"),
    "label": "label_cmds",
    **dict.fromkeys(("qa plan", "qa queue", "qa report"), "qa_cmds"),
    "audit": "audit_cmds",
}
_FULL: list[click.Group] = []


def full() -> click.Group:
    """The `qclabel` group with every command (also `from qclabel.cli import main`)."""
    if not _FULL:
        group = _group()
        for name in COMMAND_MODULES:
            importlib.import_module(f"{__name__}.{name}").register(group)
        _FULL.append(group)
    return _FULL[0]


def for_args(args: list[str]) -> click.Group:
    """The group to run the command line `args` (after the program name) with."""
    module = QUICK.get(" ".join(args[:2])) or (QUICK.get(args[0]) if args else None)
    if module is None:
        return full()
    group = _group()
    importlib.import_module(f"{__name__}.{module}").register(group)
    return group


def __getattr__(name: str) -> Any:
    if name == "main":
        return full()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
