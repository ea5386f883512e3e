"""The public API and the headless packages pass `mypy --strict`; the source, the tests and
the benchmarks pass `ruff check` and are formatted as `ruff format` writes them; every
source module stays small. All read their settings from pyproject.toml, so this is what a
developer runs by hand too: `mypy`, `ruff check src tests benchmarks` and
`ruff format --check src tests benchmarks`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())
HEADLESS = ("core", "store", "formats", "qa", "ingest", "render")
LINTED = ("src", "tests", "benchmarks")
# Small modules, split by responsibility; counted as `ruff format` writes them.
MAX_MODULE_LINES = 300


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=900
    )


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
    res = _run("ruff", "check", *LINTED)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_ruff_format_leaves_the_tree_as_it_is():
    res = _run("ruff", "format", "--check", *LINTED)
    assert res.returncode == 0, (
        "run `ruff format src tests benchmarks`:\n" + res.stdout[-4000:] + res.stderr[-2000:]
    )


def test_ruff_settings_cover_the_tree_and_check_line_length():
    ruff = CONFIG["tool"]["ruff"]
    assert ruff["line-length"] == 100
    assert "E" in ruff["lint"]["select"] and "E501" not in ruff["lint"].get("ignore", [])
    assert ruff["format"]["quote-style"] == "double"


def test_every_source_module_is_small():
    sizes = {
        str(p.relative_to(REPO)): len(p.read_text().splitlines())
        for p in (REPO / "src").rglob("*.py")
    }
    assert len(sizes) > 100  # the walk found the package
    too_big = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_big, f"split by responsibility (<= {MAX_MODULE_LINES} lines): {too_big}"
