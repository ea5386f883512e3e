"""Grid triage: page sized to the terminal, cursor, marks, accept = one event per image."""

from __future__ import annotations

import json

import pytest

from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.grid import GridScreen
from test_tui_support import burst, make_project, wire


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path)


async def open_grid(app, pilot):
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, GridScreen)
    return app.screen


async def test_page_fills_terminal_and_accept_commits_each_image(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="passfail", start="grid")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(app, pilot)
        lay = grid.sheet_layout
        assert lay.cols * lay.slot_w <= 100 and lay.rows * lay.slot_h <= 28
        assert lay.per_page >= 6  # all six images on one page
        assert grid.sheet.sent == 1  # one picture block for the page
        ids = grid.page_ids()
        await pilot.press("l", "h", "right", "space", "3")  # cell 2: fail, crack
        await pilot.press("j", "k", "down")
        await pilot.press("f")  # a second fail, no class
        marked_second = grid.page_ids()[grid.cursor]
        assert grid.sheet.sent == 1  # cursor and marks did not resend the page
        await pilot.press("enter")
    anns = Project.open(proj.root).store.state("admin").annotations("label")
    assert anns[ids[1]].defect_class == "crack" and anns[ids[1]].verdict == "fail"
    assert anns[marked_second].verdict == "fail" and anns[marked_second].defect_class is None
    passes = [i for i in ids if i not in (ids[1], marked_second)]
    assert all(anns[i].verdict == "pass" for i in passes)
    lines = (proj.root / "labels" / "admin.jsonl").read_text().splitlines()
    events = [json.loads(x) for x in lines]
    assert len([e for e in events if e.get("note") == "grid triage"]) == len(ids)


async def test_mark_toggle_and_undo_page(proj):
    app = build_app(proj, "admin", graphics="halfcell", start="grid")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(app, pilot)
        await pilot.press("space", "space")
        assert grid.marks == {}
        ids = grid.page_ids()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        assert all(app.session.annotation(i).verdict == "pass" for i in ids)
        await pilot.press("u")
        assert all(app.session.annotation(i).verdict is None for i in ids)


async def test_small_terminal_pages_and_resize(tmp_path):
    proj = make_project(tmp_path, n_rgb=9)
    app = build_app(proj, "admin", graphics="halfcell", start="grid")
    async with app.run_test(size=(80, 24)) as pilot:
        grid = await open_grid(app, pilot)
        per = grid.sheet_layout.per_page
        assert 2 <= per < len(app.labeler.queue)
        await pilot.press("n")
        await app.workers.wait_for_complete()
        assert grid.page_start == per
        await pilot.press("b")
        assert grid.page_start == 0
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert grid.sheet_layout.per_page > per


async def settled(app, pilot, out) -> None:
    """Until the page's picture is out and a pause writes nothing more (a loaded
    machine may finish the page's encode, or the start's repaints, late)."""
    grid = app.screen
    for _ in range(200):
        if out["sixels"] and grid.sheet.sent and not app.workers._workers:
            break
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    for _ in range(50):
        before = out["bytes"]
        await pilot.pause(0.1)
        if out["bytes"] == before:
            return


async def test_sixel_page_is_one_picture_and_the_cursor_sends_none(proj):
    app = build_app(proj, "admin", graphics="sixel", cell_px=(10, 20), start="grid")
    async with app.run_test(size=(100, 30)) as pilot:
        out = wire(app)
        grid = await open_grid(app, pilot)
        await settled(app, pilot, out)
        assert out["sixels"] >= 1 and grid.sheet.sent == 1
        out.update(bytes=0, sixels=0)
        grid.sheet.refresh()  # a full repaint writes the cells again: the picture once
        await pilot.pause()
        assert out["sixels"] == 1  # the whole page in one sixel frame
        out.update(bytes=0, sixels=0)
        await pilot.press("right", "space", "down")
        await pilot.pause()
        assert out["sixels"] == 0 and 0 < out["bytes"] < 2048
        assert grid.sheet.sixel.startswith("\x1bP")


async def test_coalesced_keys_on_the_top_and_bottom_rows_send_no_picture(tmp_path):
    """Keys that arrive together and touch captions on the page's first and last rows:
    the compositor renders the sheet's whole bounding box, but only the caption rows
    are written, and the picture is not sent again (it would flicker over SSH)."""
    proj = make_project(tmp_path, n_rgb=12)
    app = build_app(proj, "admin", graphics="sixel", cell_px=(10, 20), start="grid")
    async with app.run_test(size=(100, 40)) as pilot:
        out = wire(app)
        grid = await open_grid(app, pilot)
        await settled(app, pilot, out)
        lay = grid.sheet_layout
        assert lay.rows >= 2
        out.update(bytes=0, sixels=0)
        burst(app, *["down"] * (lay.rows - 1), "space", *["up"] * (lay.rows - 1), "space")
        await pilot.pause(0.3)
        assert len(grid.marks) == 2
        assert out["sixels"] == 0 and 0 < out["bytes"] < 4096


async def test_a_full_repaint_with_a_caption_refresh_sends_the_picture(proj):
    """A full repaint in the same frame as a caption refresh writes every picture cell
    again (blank over the old pixels): the picture must go out with it, once."""
    app = build_app(proj, "admin", graphics="sixel", cell_px=(10, 20), start="grid")
    async with app.run_test(size=(100, 30)) as pilot:
        out = wire(app)
        grid = await open_grid(app, pilot)
        await settled(app, pilot, out)
        out.update(bytes=0, sixels=0)
        grid.sheet.refresh()
        grid.refresh_text({0, len(grid.page_ids()) - 1})
        await pilot.pause()
        assert out["sixels"] == 1


async def test_page_commit_failure_keeps_marks_and_page(proj, monkeypatch):
    from qclabel.errors import StoreWriteError

    app = build_app(proj, "admin", graphics="halfcell", start="grid")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(app, pilot)
        await pilot.press("space")

        def full_disk(bodies):
            raise StoreWriteError("labels/admin.jsonl: No space left on device")

        monkeypatch.setattr(app.session._writer, "append_many", full_disk)
        await pilot.press("enter")
        assert grid.page_start == 0 and len(grid.marks) == 1
        assert "NOT saved" in str(grid.query_one("#message").render())
    assert Project.open(proj.root).store.state("admin").annotations("label") == {}


def _counts(project):
    """Every image's label as a fresh reader of the journal sees it."""
    p = Project.open(project.root)
    state = p.store.state("admin")
    return {
        i: (a.verdict, a.defect_class, a.severity, a.flag)
        for i in p.store.catalog.ids()
        for a in [state.annotation(i)]
    }


async def test_accept_never_overwrites_a_label_the_page_did_not_touch(tmp_path):
    """A page whose cells already read `fail crack`, `pass` and a flag: enter writes
    pass only on the unlabeled cells and on nothing else; the status bar counts that."""
    from qclabel.core import edits

    proj = make_project(tmp_path, n_rgb=6)
    app = build_app(proj, "admin", graphics="halfcell", start="grid", queue="all")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(app, pilot)
        ids = grid.page_ids()
        assert len(ids) >= 6
        lab = app.labeler
        lab.apply(ids[0], edits.set_class("crack", "critical"))
        lab.apply(ids[1], edits.set_verdict("pass"))
        lab.apply(ids[2], edits.set_class("dent", "minor"))
        lab.apply(ids[3], edits.set_flag("glare"))
        grid.load_page()
        await pilot.pause()
        before = _counts(proj)
        captions = [c.plain for c in grid.captions()]
        assert captions[0] == "1 fail crack" and captions[2] == "3 fail dent"
        # the operator changes cell 3 (dent -> explicit pass) and cell 5 (fail, porosity)
        await pilot.press("right", "right", "p", "right", "right", "4")
        status = str(grid.query_one("#statusbar").render())
        unlabeled = len(ids) - 4
        assert f"enter: {unlabeled - 1 + 1} pass, 1 fail, 3 kept as labeled" in status
        await pilot.press("enter")
        assert "saved: " in str(grid.query_one("#message").render())
        assert "3 kept as labeled" in str(grid.query_one("#message").render())
        after = _counts(proj)
        assert after[ids[0]] == before[ids[0]] == ("fail", "crack", "critical", None)
        assert after[ids[1]] == before[ids[1]]
        assert after[ids[3]] == before[ids[3]] == (None, None, None, "glare")
        assert after[ids[2]] == ("pass", None, None, None)  # changed here: pass
        assert after[ids[4]] == ("fail", "porosity", None, None)  # changed here: porosity
        assert all(after[i][0] == "pass" for i in ids[5:])  # unlabeled: pass
        grid_events = [
            json.loads(x) for x in (proj.root / "labels" / "admin.jsonl").read_text().splitlines()
        ]
        grid_events = [e for e in grid_events if e.get("note") == "grid triage"]
        assert len(grid_events) == 2 + len(ids[5:])  # only the images that changed
        # undo of the page restores exactly what was there
        await pilot.press("u")
        assert _counts(proj) == before


async def test_grid_accept_on_a_labeled_queue_keeps_every_fail(tmp_path):
    """The reported case: `--queue all` after classification, a page of fails, enter."""
    from qclabel.core import edits

    proj = make_project(tmp_path, n_rgb=6)
    app = build_app(proj, "admin", graphics="halfcell", start="grid", queue="all")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(app, pilot)
        for image_id in grid.page_ids():
            app.labeler.apply(image_id, edits.set_class("crack", "critical"))
        grid.load_page()
        await pilot.pause()
        before = _counts(proj)
        await pilot.press("enter")
        assert "saved: 0 pass, 0 fail" in str(grid.query_one("#message").render())
    assert _counts(proj) == before


async def test_thumbnail_size_setting_and_keys_make_the_page_denser(tmp_path):
    proj = make_project(tmp_path)
    big = build_app(proj, "admin", graphics="halfcell", task="passfail", start="grid")
    async with big.run_test(size=(160, 45)) as pilot:
        default = (await open_grid(big, pilot)).sheet_layout.per_page
    cfg = (proj.root / "qclabel.toml").read_text()
    (proj.root / "qclabel.toml").write_text(cfg + "\n[grid]\nthumb_cols = 12\n")
    proj = Project.open(proj.root)
    app = build_app(proj, "admin", graphics="halfcell", task="passfail", start="grid")
    async with app.run_test(size=(160, 45)) as pilot:
        grid = await open_grid(app, pilot)
        dense = grid.sheet_layout.per_page
        assert grid.sheet_layout.slot_w <= 13 and dense >= 3 * default
        await pilot.press("equals_sign", "equals_sign")  # two steps larger
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert grid.slot_cols == 20 and grid.sheet_layout.per_page < dense
        assert "per page" in str(grid.query_one("#message").render())
        await pilot.press("minus", "minus", "minus", "minus", "minus")
        assert grid.slot_cols == 8  # stops at the minimum
        sent = grid.sheet.sent
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert grid.sheet.sent >= sent  # the page was rebuilt


@pytest.mark.parametrize("value", ["0", "'wide'", "true", "500"])
def test_a_bad_thumbnail_setting_is_one_line(tmp_path, value):
    from click.testing import CliRunner

    from qclabel.cli import main

    proj = make_project(tmp_path)
    cfg = (proj.root / "qclabel.toml").read_text()
    (proj.root / "qclabel.toml").write_text(cfg + f"\n[grid]\nthumb_cols = {value}\n")
    res = CliRunner().invoke(main, ["label", str(proj.root), "--graphics", "halfcell"])
    assert res.exit_code != 0
    assert "[grid] thumb_cols" in res.output and "Traceback" not in res.output
