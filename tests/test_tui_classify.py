"""Classification screen: every key path, through a real app (half-cell forced) on a
real project; labels are read back from the journal on disk."""

from __future__ import annotations

import pytest

from qclabel.errors import StoreWriteError
from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.classify import ClassifyScreen
from qclabel.tui.screens.help import HelpScreen
from qclabel.tui.screens.dialogs import PromptScreen
from test_tui_support import SIZE, make_project, settle, wire


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path)


def on_disk(project: Project, user: str = "admin"):
    """Labels as a fresh reader of the journal sees them."""
    return Project.open(project.root).store.state(user).annotations("label")


async def start(app, pilot):
    await settle(pilot, app)
    assert isinstance(app.screen, ClassifyScreen)
    return app.screen


async def test_pass_key_saves_and_advances(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current
        assert screen.image_view.frame is not None and screen.image_view.frame.image_id == first
        await pilot.press("p")
        await settle(pilot, app)
        assert on_disk(proj)[first].verdict == "pass"
        assert app.labeler.index == 1
        assert screen.image_view.frame.image_id == app.labeler.current
        assert "saved: pass" in str(screen.query_one("#message").render())


async def test_class_key_then_severity_key(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current
        await pilot.press("1")  # scratch has severities: wait for one
        assert screen.pending is not None and app.labeler.current == first
        assert on_disk(proj)[first].defect_class == "scratch"
        await pilot.press("2")
        ann = on_disk(proj)[first]
        assert (ann.verdict, ann.defect_class, ann.severity) == ("fail", "scratch", "major")
        assert app.labeler.index == 1


async def test_escape_leaves_severity_unset_and_stays(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current
        await pilot.press("4", "escape")
        assert screen.pending is None and app.labeler.current == first
        assert isinstance(app.screen, ClassifyScreen)  # escape did not go home
        assert on_disk(proj)[first].severity is None


async def test_another_label_key_ends_the_prompt_and_does_its_job(proj):
    """A class key, then a label key instead of a severity: the severity stays unset
    and the key is not lost (a burst `1 p` is the class, then pass), and a class key
    given instead picks that class."""
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current
        await pilot.press("1", "p")
        await settle(pilot, app)
        assert screen.pending is None
        assert on_disk(proj)[first].verdict == "pass"  # the p was applied, not swallowed
        second = app.labeler.current
        assert second != first
        await pilot.press("1", "3")  # scratch, then crack instead of a severity
        await settle(pilot, app)
        assert on_disk(proj)[second].defect_class == "crack"


async def test_fail_key_waits_for_class_and_cycle_severity(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        first = app.labeler.current
        await pilot.press("f")
        assert app.labeler.current == first and on_disk(proj)[first].verdict == "fail"
        await pilot.press("1", "escape", "v")
        assert on_disk(proj)[first].severity == "minor"
        await pilot.press("v")
        assert on_disk(proj)[first].severity == "major"


async def test_back_forward_skip_and_bounds(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("n", "right")
        assert app.labeler.index == 2
        await pilot.press("b", "left", "left")
        assert app.labeler.index == 0
        assert "start of queue" in str(screen.query_one("#message").render())
        first = app.labeler.current
        await pilot.press("s")
        assert on_disk(proj)[first].skipped and app.labeler.index == 1


async def test_undo_redo_are_journaled(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        first = app.labeler.current
        await pilot.press("p")
        assert app.labeler.index == 1
        await pilot.press("u")  # undo goes back to the image it changed
        assert app.labeler.current == first and on_disk(proj)[first].verdict is None
        await pilot.press("r")
        assert on_disk(proj)[first].verdict == "pass"
    notes = [e.get("note") for e in _events(proj)]
    assert notes[-2:] == ["undo", "redo"]


def _events(project):
    import json

    path = project.root / "labels" / "admin.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_flag_with_note(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        first = app.labeler.current
        await pilot.press("x")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"glare q", "enter")  # 'q' typed into the note does not quit
        assert app.is_running and on_disk(proj)[first].flag == "glare q"
        await pilot.press("b", "x", "escape")  # cancelled: flag unchanged
        assert on_disk(proj)[first].flag == "glare q"


async def test_jump_and_bad_jump(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("g", "4", "enter")
        assert app.labeler.index == 3
        await pilot.press("g", "9", "9", "enter")
        assert app.labeler.index == 3
        assert "no image" in str(screen.query_one("#message").render())


async def test_queue_cycle_and_auto_advance_toggle(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("a")
        assert screen.auto_advance is False
        first = app.labeler.current
        await pilot.press("p")
        assert app.labeler.current == first  # stayed
        await pilot.press("slash")  # unlabeled -> mine
        assert app.labeler.queue_name == "mine" and app.labeler.queue == [first]
        await pilot.press("slash", "slash")  # flagged -> all
        assert app.labeler.queue_name == "all" and len(app.labeler.queue) == 6


async def test_commit_failure_shows_error_and_stays(proj, monkeypatch):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current

        def full_disk(bodies):
            raise StoreWriteError("labels/admin.jsonl: No space left on device")

        monkeypatch.setattr(app.session._writer, "append_many", full_disk)
        await pilot.press("p")
        assert app.labeler.current == first
        msg = screen.query_one("#message")
        assert "NOT saved" in str(msg.render()) and msg.has_class("error")
        assert first not in on_disk(proj)


async def test_zoom_pan_and_fit(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("z")
        await settle(pilot, app)
        vp = screen.image_view.frame.viewport
        assert vp.zoom == pytest.approx(2, rel=0.05) and vp.x > 0
        await pilot.press("l", "j")
        await settle(pilot, app)
        moved = screen.image_view.frame.viewport
        assert moved.x > vp.x and moved.y > vp.y and moved.w == vp.w
        assert "zoom x2" in str(screen.query_one("#statusbar").render())
        await pilot.press("h", "k")
        await settle(pilot, app)
        assert screen.image_view.frame.viewport.region == vp.region
        await pilot.press("z", "minus")
        await settle(pilot, app)
        assert screen.image_view.frame.viewport.zoom == pytest.approx(2, rel=0.05)
        await pilot.press("equals_sign")
        await settle(pilot, app)
        assert screen.image_view.frame.viewport.zoom == 1


async def test_window_level_keys_on_16_bit(proj):
    app = build_app(proj, "admin", graphics="halfcell", queue="all")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("g", "6", "enter")
        await settle(pilot, app)
        frame = screen.image_view.frame
        assert frame.high_bit and frame.window == (22000.0, 4000.0)  # the catalog default
        before = frame.picture.getextrema()
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert screen.image_view.frame.window[0] == pytest.approx(22400)
        assert screen.image_view.frame.picture.getextrema()[1] < before[1]
        await pilot.press("left_square_bracket", "left_curly_bracket")
        await settle(pilot, app)
        assert screen.image_view.frame.window == pytest.approx((22000, 3200))
        await pilot.press("right_curly_bracket", "right_curly_bracket")
        await settle(pilot, app)
        assert screen.image_view.frame.window[1] == pytest.approx(5000)
        await pilot.press("w")  # back to the image's default window
        await settle(pilot, app)
        assert screen.image_view.frame.window == (22000.0, 4000.0)


async def test_info_panel_and_toggle(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("1", "escape")  # scratch has two severities: escape, none
        info = str(screen.query_one("#info").render())
        assert "rgb_0.png" in info and "120x90" in info and "scratch" in info
        assert "FAIL, scratch" in str(screen.query_one("#labels").render())
        assert "Linear surface mark" in info  # the highlighted class's description
        await pilot.press("i")
        assert screen.query_one("#side").has_class("hidden")


async def test_help_lists_bindings_and_class_keys(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-table")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        ids = {r[2] for r in rows}
        assert {"classify.next", "classify.undo", "view.zoom_in", "app.quit"} <= ids
        assert any(r[1] == "class scratch" and r[0] == "1" for r in rows)
        await pilot.press("escape")
        assert isinstance(app.screen, ClassifyScreen)


async def test_q_quits_at_once_and_releases_session(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("p", "q")
        assert app.return_code == 0 and app._closed  # quitting, checked while running
    assert not app.is_running
    with proj.store.open_session("admin") as again:  # lock released
        assert len(again.state.annotations("label")) == 1


def test_info_panel_text_has_exif_and_manufacturing_fields():
    from qclabel.core.model import ImageRecord
    from qclabel.tui.widgets.panels import info_text

    rec = ImageRecord(
        id="x",
        sha256="0" * 64,
        source="/cam/IMG_1.jpg",
        file="/cam/IMG_1.jpg",
        width=960,
        height=720,
        orientation=6,
        exif={"make": "Google", "model": "Pixel 8", "exposure_time": 1 / 120, "orientation": 6},
        fields={"part": "P1001", "lot": "L07"},
    )
    text = info_text(rec, None).plain
    assert "make Google, model Pixel 8, exposure time 1/120 s, orientation 6" in text
    assert "part: P1001" in text and "lot: L07" in text and "960x720" in text


async def test_q_quits_even_while_a_severity_is_pending(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        first = app.labeler.current
        await pilot.press("1", "q")
        assert app.return_code == 0 and app._closed  # quitting, checked while running
    assert not app.is_running
    assert on_disk(proj)[first].defect_class == "scratch"


async def test_sixel_frames_sent_once_per_image_and_never_for_text(proj):
    from textual import events

    app = build_app(proj, "admin", graphics="sixel", cell_px=(10, 20))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        view = screen.image_view
        assert view.frame.sixel.startswith("\x1bP")
        out = wire(app)
        await pilot.press("n")
        await settle(pilot, app)
        assert out["sixels"] == 1 and out["bytes"] >= len(view.frame.sixel)
        out.update(bytes=0, sixels=0)
        await pilot.press("a", "p", "v", "v")  # labels and panels: text only
        app.post_message(events.AppBlur())
        app.post_message(events.AppFocus())
        await pilot.pause()
        assert out["sixels"] == 0 and out["bytes"] < 4 * 1024  # four keys, a few lines each
        narrow = view.frame.viewport.cols
        await pilot.press("i")  # side panel hidden: a wider frame, sent once
        await settle(pilot, app)
        assert out["sixels"] == 1 and view.frame.viewport.cols > narrow


async def test_empty_project_says_so(project):
    app = build_app(project, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.screen.image_view
        assert view.frame is None and "is empty" in view.message_text
        await pilot.press("p", "n", "x", "s", "u")  # nothing to label: nothing happens
        assert isinstance(app.screen, ClassifyScreen) and app.session.state.annotations() == {}


async def test_help_shows_only_qclabel_keys_and_the_remap_hint(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("question_mark")
        table = app.screen.query_one("#help-table")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        # every row is one of ours (an id) or a taxonomy class key; no focus/copy keys
        assert all(r[2] or r[1].startswith(("class ", "pass", "fail", "severity")) for r in rows), (
            rows
        )
        assert not any("Focus" in str(r[1]) or "Copy" in str(r[1]) for r in rows)
        from textual.widgets import Label

        title = str(app.screen.query_one(Label).render())
        assert "[keys]" in title
