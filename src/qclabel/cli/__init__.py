"""The `qclabel` command. Headless commands never import Textual; only `label`,
`demo` and `adjudicate` load the app, inside the command."""

from __future__ import annotations

import importlib
import sys

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
    "ingest_cmds",
    "export_cmds",
    "augment_cmds",
    "pipeline_cmds",
    "images_cmds",
)


class _Group(click.Group):
    """Print QclabelError as one line (no traceback) and exit with its code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except QclabelError as exc:
            click.echo(f"qclabel: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            # The last line of defence: a disk or permission error that no command
            # turned into a typed error is still one line (code 5: not written/read).
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"qclabel: error: {where}{exc.strerror or exc}", err=True)
            sys.exit(5)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qclabel")
def main() -> None:
    """Label inspection images in the terminal: ingest, label, QA, export."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(main)
