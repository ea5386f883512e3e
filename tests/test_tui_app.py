"""Home screen, help, key remapping, themes, resize, renderer choice, no-focus repaint."""

from __future__ import annotations

import pytest

from qclabel.errors import ConfigError, SessionLocked
from qclabel.tui import graphics as gfx
from qclabel.tui.app import build_app
from qclabel.tui.screens.classify import ClassifyScreen
from qclabel.tui.screens.grid import GridScreen
from qclabel.tui.screens.home import HomeScreen
from test_tui_support import SIZE, counted, make_project, settle


def as_text(renderable) -> str:
    from rich.console import Console

    console = Console(width=80, record=True)
    console.print(renderable)
    return console.export_text()


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path)


async def test_home_shows_status_and_opens_modes(proj):
    from qclabel.core import edits

    with proj.store.open_session("alice") as s:  # another annotator's progress
        first = proj.store.catalog.ids()[0]
        s.commit(edits.apply(first, s.annotation(first), edits.set_class("dent")))
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await counted(pilot, app)
        status = as_text(app.screen.query_one("#status").content)
        assert "images" in status and "dent 1" in status and "alice" in status
        with proj.store.open_session("bob") as s:  # progress made elsewhere meanwhile
            second = proj.store.catalog.ids()[1]
            s.commit(edits.apply(second, s.annotation(second), edits.set_verdict("pass")))
        assert "bob" not in as_text(app.screen.query_one("#status").content)
        await pilot.press("f5")
        await counted(pilot, app)
        assert "bob" in as_text(app.screen.query_one("#status").content)
        await pilot.press("c")
        await settle(pilot, app)
        assert isinstance(app.screen, ClassifyScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
        await pilot.press("escape", "down", "enter")  # option list: second mode
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)


async def test_project_and_user_key_remap(proj, tmp_path):
    proj.config["keys"] = {"classify.next": "space"}
    proj.save_config()
    user_keys = tmp_path / "keys.toml"
    user_keys.write_text('[keys]\n"classify.undo" = "ctrl+z"\n')
    app = build_app(proj, "admin", graphics="halfcell", user_keys=user_keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("space")
        assert app.labeler.index == 1
        await pilot.press("n")  # the old key no longer moves
        assert app.labeler.index == 1
        await pilot.press("p", "ctrl+z")
        assert app.session.annotation(app.labeler.queue[1]).verdict is None
        await pilot.press("question_mark")
        table = app.screen.query_one("#help-table")
        rows = {table.get_row_at(i)[2]: table.get_row_at(i)[0] for i in range(table.row_count)}
        assert "space" in rows["classify.next"].lower()


def test_bad_key_config_is_a_clear_error(proj, tmp_path):
    user_keys = tmp_path / "keys.toml"
    user_keys.write_text('[keys]\n"classify.next" = 5\n')
    with pytest.raises(ConfigError, match="classify.next"):
        build_app(proj, "admin", graphics="halfcell", user_keys=user_keys)
    with proj.store.open_session("admin"):  # nothing left open by the failed build
        pass


@pytest.mark.parametrize("theme", ["dark", "light", "high-contrast"])
async def test_themes_apply(proj, theme):
    app = build_app(proj, "admin", graphics="halfcell", theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.theme == f"qclabel-{theme}"
        bg = app.screen.query_one("#side").styles.background
        assert (
            bg.hex.lower()
            == {"dark": "#2a2a2a", "light": "#e8e8e8", "high-contrast": "#000000"}[theme]
        )


def test_unknown_theme_and_second_session(proj):
    with pytest.raises(ConfigError, match="theme"):
        build_app(proj, "admin", graphics="halfcell", theme="neon")
    app = build_app(proj, "admin", graphics="halfcell")
    with pytest.raises(SessionLocked):
        build_app(proj, "admin", graphics="halfcell")
    app.close_session()


async def test_small_terminal_and_resize_rebuild_the_frame(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot, app) or app.screen
        small = screen.image_view.frame.viewport
        assert small.cols <= 80 and small.rows <= 24
        await pilot.resize_terminal(140, 44)
        await pilot.pause()
        await settle(pilot, app)
        big = screen.image_view.frame.viewport
        assert big.cols > small.cols and big.frame_size[0] > small.frame_size[0]
        await pilot.press("p")  # still labels after the resize
        assert app.labeler.index == 1


async def test_focus_changes_do_not_repaint_the_picture(proj):
    from textual import events

    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        view = app.screen.image_view
        sent = view.sent
        app.post_message(events.AppBlur())
        app.post_message(events.AppFocus())
        await pilot.pause()
        assert view.sent == sent
        await pilot.press("a")  # a key that changes only text
        await pilot.pause()
        assert view.sent == sent


async def test_one_frame_per_image_change(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        view = app.screen.image_view
        sent = view.sent
        await pilot.press("n")
        await settle(pilot, app)
        assert view.sent == sent + 1


def test_graphics_prepare(monkeypatch):
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    monkeypatch.delenv("COLORTERM", raising=False)
    assert gfx.prepare("halfcell") == "halfcell"
    import os

    assert os.environ["TEXTUAL_COLOR_SYSTEM"] == "truecolor"
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "256")
    gfx.ensure_colour_system()
    assert os.environ["TEXTUAL_COLOR_SYSTEM"] == "256"  # the user's choice wins
    assert gfx.prepare("auto") == "unicode"  # pytest's stdout is not a terminal
    with pytest.raises(ValueError):
        gfx.prepare("ascii-art")
    with pytest.raises(ValueError):
        build_app(None, "admin", graphics="auto")


async def test_unicode_mode_shows_shades(proj):
    app = build_app(proj, "admin", graphics="unicode")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        frame = app.screen.image_view.frame
        text = "".join(seg.text for row in frame.cells for seg in row)
        assert set(text) <= set(" ░▒▓█") and len(set(text)) >= 3
        assert app.screen.image_view.sent == 1


def test_forced_text_modes_never_probe_the_terminal(proj):
    import subprocess
    import sys

    code = (
        f"import sys; sys.path.insert(0, 'tests')\n"
        f"from qclabel.project import Project\nfrom qclabel.tui.app import build_app\n"
        f"app = build_app(Project.open({str(proj.root)!r}), 'admin', graphics='halfcell')\n"
        f"import qclabel.tui.screens.classify, qclabel.tui.screens.grid\n"
        f"app.close_session()\n"
        f"print('PROBED' if 'textual_image.renderable' in sys.modules else 'NO-PROBE')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("NO-PROBE"), out.stderr


def test_readme_key_table_matches_the_bindings():
    import re
    from pathlib import Path
    from qclabel.tui.app import QclabelApp

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("<!-- section:labeling -->")[1].split("<!-- /section:labeling -->")[0]
    documented = set(re.findall(r"`((?:app|home|classify|view|grid)\.[a-z_]+)`", section))
    bound = {
        b.id for cls in (QclabelApp, HomeScreen, ClassifyScreen, GridScreen) for b in cls.BINDINGS
    }
    assert documented == bound


async def test_home_takes_keys_while_its_status_is_counted(proj, monkeypatch):
    """A million images take over a second to count: home is usable meanwhile."""
    import threading
    import time

    from qclabel.tui.screens import home

    release = threading.Event()
    real = home.project_status

    def slow(project, viewer=None):
        release.wait(10)
        return real(project, viewer)

    monkeypatch.setattr(home, "project_status", slow)
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and not app.screen.counted
        assert "counting" in as_text(app.screen.query_one("#status").content)
        t0 = time.perf_counter()
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen) and time.perf_counter() - t0 < 5
        release.set()
        await pilot.press("escape")
        await counted(pilot, app)
        assert "images" in as_text(app.screen.query_one("#status").content)
