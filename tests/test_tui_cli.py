"""`qclabel label` / `qclabel demo` on the command line, and the command palette."""

from __future__ import annotations

import os

import subprocess
import sys

from click.testing import CliRunner

from qclabel.cli import main
from qclabel.tui.app import build_app
from qclabel.tui.screens.grid import GridScreen
from test_tui_support import SIZE, make_project, settle


def test_help_texts_and_no_textual_for_help():
    code = (
        "import sys\nfrom qclabel.cli import main\n"
        "for cmd in (['label', '--help'], ['demo', '--help']):\n"
        "    try:\n        main(cmd)\n    except SystemExit:\n        pass\n"
        "print('TEXTUAL' if 'textual' in sys.modules else 'NO-TEXTUAL')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "--graphics [auto|sixel|kitty|halfcell|unicode]" in out.stdout
    assert "--queue" in out.stdout and "--theme" in out.stdout and "--no-app" in out.stdout
    assert out.stdout.strip().endswith("NO-TEXTUAL")


def test_label_errors_are_one_line(tmp_path, as_user):
    runner = CliRunner()
    res = runner.invoke(main, ["label", str(tmp_path / "nothing"), "--graphics", "halfcell"])
    assert res.exit_code != 0 and "not a qclabel project" in res.output
    assert "Traceback" not in res.output
    proj = make_project(tmp_path / "p", grey16=False, jpeg=False)
    as_user("mallory")
    res = runner.invoke(main, ["label", str(proj.root), "--graphics", "halfcell"])
    assert res.exit_code == 3 and "annotator" in res.output
    res = runner.invoke(main, ["label", str(proj.root), "--theme", "neon"])
    assert res.exit_code == 2 and "neon" in res.output


def test_demo_without_app_builds_the_sample_project(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--no-app", "--dir", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    assert "demo project:" in res.output and "images" in res.output
    assert list((tmp_path / "d" / "project").glob("catalog.sqlite"))


async def test_command_palette_lists_modes_and_runs_them(tmp_path):
    proj = make_project(tmp_path, grey16=False, jpeg=False)
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Open Grid triage" in titles and "Next" in titles and "Zoom in" in titles
        nxt = next(c for c in app.get_system_commands(app.screen) if c.title == "Next")
        await nxt.callback()
        assert app.labeler.index == 1
        grid = next(c for c in app.get_system_commands(app.screen) if c.title == "Open Grid triage")
        grid.callback()
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CommandPalette"


def test_label_without_a_terminal_on_stdin_exits_at_once(tmp_path):
    """A pipe or /dev/null on stdin (cron, `ssh host qclabel label` without -t): one line,
    exit 2, within seconds instead of waiting forever for a terminal reply."""
    import subprocess
    import sys
    import pwd

    proj = make_project(tmp_path / "p", grey16=False, jpeg=False)
    proj.add_role("admin", pwd.getpwuid(os.geteuid()).pw_name, "annotator")
    cmd = [sys.executable, "-c", "from qclabel.entry import main; main()", "label", str(proj.root)]
    for extra, how in (
        ([], {"stdin": subprocess.DEVNULL}),
        ([], {"input": ""}),
        (["--graphics", "halfcell"], {"stdin": subprocess.DEVNULL}),
    ):
        out = subprocess.run(cmd + extra, capture_output=True, text=True, timeout=60, **how)
        assert out.returncode == 2, (out.returncode, out.stderr)
        assert out.stderr.strip().splitlines() == [
            "qclabel: error: the labeling app needs a terminal on stdin (it is a pipe or a "
            "file); run it in a terminal, or use `ssh -t` over SSH"
        ]
