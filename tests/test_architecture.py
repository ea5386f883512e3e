"""Dependency direction: the headless packages never load Textual, and only the store
talks to TinyDB. Checked in fresh interpreters (sys.modules) and by reading the source.

textual-image's sixel encoder (`textual_image._sixel`) is plain PIL/numpy and render/
may use it; its `renderable` and `widget` modules probe the terminal on import and pull
in Textual, so headless code must not load them."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import qclabel

PKG = Path(qclabel.__file__).resolve().parent
HEADLESS = ("core", "store", "qa", "formats", "ingest", "render", "augment", "maskedit")
QCLABEL = Path(sys.executable).parent / "qclabel"

PROBE = """
import importlib, pkgutil, sys
import qclabel
names = []
for pkg in {packages!r}:
    mod = importlib.import_module("qclabel." + pkg)
    names.append(mod.__name__)
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []), mod.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
for extra in ("qclabel.project", "qclabel.status", "qclabel.cli"):
    importlib.import_module(extra)
    names.append(extra)
importlib.import_module("qclabel.cli").main  # every command's module
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "textual"
                or m.startswith(("textual_image.renderable", "textual_image.widget")))
print(len(names), ",".join(loaded))
"""


def test_headless_packages_do_not_load_textual() -> None:
    code = PROBE.format(packages=HEADLESS)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    count, loaded = (
        out.stdout.strip().split(" ", 1) if " " in out.stdout.strip() else (out.stdout.strip(), "")
    )
    assert int(count) >= len(HEADLESS) + 3 + 10  # the packages and their modules
    assert loaded == "", f"headless import loaded {loaded}"


def test_qclabel_help_does_not_load_textual() -> None:
    """The real console script, with Python's import trace switched on."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    out = subprocess.run(
        [str(QCLABEL), "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0 and "Usage: qclabel" in out.stdout
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "qclabel.cli" in imported and "click" in imported  # the trace is real
    assert not [
        m
        for m in imported
        if m.split(".")[0] == "textual"
        or m.startswith(("textual_image.renderable", "textual_image.widget"))
    ]


def imports_of(path: Path) -> set[str]:
    """Top-level module names a file imports, anywhere in it (also inside functions)."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module.split(".")[0], node.module}
    return found


def sources() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def test_only_the_store_imports_tinydb() -> None:
    offenders = [
        str(p.relative_to(PKG))
        for p in sources()
        if "tinydb" in imports_of(p) and p.parent.name != "store"
    ]
    assert offenders == []
    assert any("tinydb" in imports_of(p) for p in (PKG / "store").glob("*.py"))


def test_domain_core_source_never_imports_textual_or_click() -> None:
    offenders = []
    for pkg in HEADLESS:
        for path in sorted((PKG / pkg).rglob("*.py")):
            bad = imports_of(path) & {"textual", "textual_image.renderable", "textual_image.widget"}
            if pkg == "core":
                bad |= imports_of(path) & {"tinydb", "click"}
            if bad:
                offenders.append(f"{path.relative_to(PKG)}: {sorted(bad)}")
    assert offenders == []


def test_every_cli_command_has_help() -> None:
    from qclabel.cli import main

    def walk(cmd, path):
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, path + [name])

    missing = [" ".join(p) for p, c in walk(main, ["qclabel"]) if not (c.help or c.short_help)]
    assert missing == []
