"""The public API and the headless packages pass `mypy --strict`; the source passes
`ruff check`. Both read their settings from pyproject.toml, so this is what a developer
runs by hand too: `mypy` and `ruff check src`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())
HEADLESS = ("core", "store", "formats", "qa", "ingest", "render")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=900)


def test_mypy_config_is_strict_over_the_api_and_the_headless_packages():
    cfg = CONFIG["tool"]["mypy"]
    assert cfg["strict"] is True
    files = set(cfg["files"])
    assert "src/qclabel/api.py" in files
    assert {f"src/qclabel/{p}" for p in HEADLESS} <= files
    # Relaxations are named per module and per error code, never a module switched off.
    for override in cfg.get("overrides", []):
        assert not override.get("ignore_errors"), override
        assert set(override) <= {"module", "ignore_missing_imports", "disable_error_code"}


def test_mypy_strict_passes():
    res = _run("mypy")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "Success: no issues found" in res.stdout


def test_ruff_check_passes():
    res = _run("ruff", "check", "src")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
