"""qclabel completion bash|zsh|fish: click's shell completion script for qclabel."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (commands, options, choices, paths).

    bash: eval "$(qclabel completion bash)" in ~/.bashrc; zsh: the same in ~/.zshrc;
    fish: qclabel completion fish > ~/.config/fish/completions/qclabel.fish"""
    cls = get_completion_class(shell)
    assert cls is not None  # the three SHELLS are click's built-in ones
    root = click.get_current_context().find_root().command
    click.echo(cls(root, {}, "qclabel", "_QCLABEL_COMPLETE").source())


def register(group: click.Group) -> None:
    group.add_command(completion)
