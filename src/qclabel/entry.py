"""The `qclabel` command's entry point: quiet on ctrl+c while it is still loading.

Importing the command modules (click, numpy, Pillow, ...) takes a moment; a SIGINT in
that moment would print a traceback from deep inside an import. Until the commands are
loaded, SIGINT ends the process at once with the shell's code for it (nothing has been
opened or written yet); then Python's usual handler is back, so every command handles
ctrl+c as it always does (click: "Aborted!"; the labeling app: like `q`).
"""

from __future__ import annotations

import os
import signal
import sys


def _leave(signum: int, frame: object) -> None:
    os.write(2, b"\n")
    os._exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGINT, _leave)
    from .cli import for_args

    cli = for_args(sys.argv[1:])  # `status` and `label` load only their own modules
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(cli())
