"""A box to the exact pixel by keyboard, without snapping, in at most 8 keys (class
key included): `a`, the jump letters to the first corner (the jump goes on inside
the slot until the pixel is exact), then two letters for the opposite corner. The
letters are read off the rulers drawn on screen, as an operator would."""

from __future__ import annotations

import pytest

from qclabel.render import cellmap as cm
from qclabel.render.jumpgrid import COLUMN_COLOUR, ROW_COLOUR
from qclabel.tui.app import build_app
from test_box_screen import DEFECT, on_disk, proj, start  # noqa: F401  (fixture)
from test_tui_support import settle


def ruler_letters(screen, x: int, y: int) -> tuple[str, str]:
    """The column and row letters on the rulers nearest to pixel x, y on screen."""
    view = screen.image_view
    col, row = cm.pixel_cell(view.frame.viewport, x, y)
    cols = {c: g.char for (c, r), g in view.overlay.items() if g.colour == COLUMN_COLOUR}
    rows = {r: g.char for (c, r), g in view.overlay.items() if g.colour == ROW_COLOUR}
    assert cols and rows, "no rulers on screen"
    return cols[min(cols, key=lambda c: abs(c - col))], rows[min(rows, key=lambda r: abs(r - row))]


async def press_counted(pilot, counter: list, *keys: str) -> None:
    counter.extend(keys)
    await pilot.press(*keys)


async def draw_box_by_jumps(pilot, app, screen, x1, y1, x2, y2) -> list[str]:
    keys: list[str] = []
    await press_counted(pilot, keys, "2", "a")  # class dent, anchor by jump
    while screen.anchor is None:  # coarse, then exact pixel
        await settle(pilot, app)
        await press_counted(pilot, keys, *ruler_letters(screen, x1, y1))
    assert screen.anchor == (x1, y1)
    await settle(pilot, app)
    await press_counted(pilot, keys, *ruler_letters(screen, x2, y2))  # opposite corner
    await settle(pilot, app)
    return keys


DEFECT_CORNERS = (DEFECT[0], DEFECT[1], DEFECT[0] + DEFECT[2] - 1, DEFECT[1] + DEFECT[3] - 1)


@pytest.mark.parametrize(
    "graphics,size,corners",
    [
        ("halfcell", (100, 30), DEFECT_CORNERS),
        ("halfcell", (100, 30), (3, 280, 20, 299)),  # bottom-left of the image, last row included
        ("halfcell", (100, 30), (371, 5, 395, 14)),  # near the right edge, 25 px wide
        ("sixel", (160, 45), DEFECT_CORNERS),  # another cell size and terminal size
    ],
)
async def test_exact_box_in_eight_keys_without_snapping(proj, graphics, size, corners):  # noqa: F811
    x1, y1, x2, y2 = corners
    app = build_app(
        proj,
        "admin",
        graphics=graphics,
        task="box",
        cell_px=(10, 20) if graphics == "sixel" else None,
    )
    async with app.run_test(size=size) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        home = screen.viewport
        keys = await draw_box_by_jumps(pilot, app, screen, x1, y1, x2, y2)
        [box] = on_disk(proj, image).boxes
        assert (box.cls, box.x, box.y, box.w, box.h) == ("dent", x1, y1, x2 - x1 + 1, y2 - y1 + 1)
        assert len(keys) <= 8, keys
        assert screen.viewport == home and screen.anchor is None  # back where it started


async def test_g_twice_puts_the_cursor_on_the_exact_pixel(proj):  # noqa: F811
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await start(app, pilot)
        await pilot.press("g")
        await pilot.press(*ruler_letters(screen, 250, 120))
        assert screen.cursor != (250, 120)  # a slot spans pixels here
        await pilot.press("g")  # go on inside that slot
        await settle(pilot, app)
        await pilot.press(*ruler_letters(screen, 250, 120))
        assert screen.cursor == (250, 120)
        await pilot.press("g")  # not right after: the picture's grid
        assert screen.jump_area is None and screen.jumping == []
        await pilot.press("escape")
        assert screen.jumping is None


async def test_escape_in_the_corner_stage_keeps_the_anchor_and_the_view_returns(proj):  # noqa: F811
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await start(app, pilot)
        home = screen.viewport
        await pilot.press("a")
        while screen.anchor is None:
            await settle(pilot, app)
            await pilot.press(*ruler_letters(screen, 60, 40))
        await pilot.press("escape")  # the corner is further away
        await settle(pilot, app)
        assert screen.anchor == (60, 40) and screen.viewport == home
        await pilot.press("g")
        await pilot.press(*ruler_letters(screen, 200, 200), "g")
        await settle(pilot, app)
        await pilot.press(*ruler_letters(screen, 200, 200), "enter")
        [box] = on_disk(proj, app.labeler.current).boxes
        assert (box.x, box.y, box.w, box.h) == (60, 40, 141, 161)


async def test_q_quits_in_the_middle_of_a_jump(proj):  # noqa: F811
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await start(app, pilot)
        await pilot.press("a", "b")  # a jump waiting for its row letter
        assert screen.jumping == [1]
        await pilot.press("q")  # not a grid letter: quits at once
        assert app.return_code == 0 and app._closed


async def test_exact_box_on_a_sample_image(tmp_path):
    """The missing component of the sample bracket (ground truth 218,234 21x21)."""
    import json
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from conftest import SAMPLES
    from qclabel.ingest import ingest_paths
    from qclabel.project import Project

    name = "assembly/bracket_0003.png"
    [truth] = [
        b
        for b in json.loads((SAMPLES / "ground_truth.json").read_text())["files"][name]["boxes"]
        if b["cls"] == "missing-component"
    ]
    (tmp_path / "images").mkdir()
    shutil.copy(SAMPLES / name, tmp_path / "images")
    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp_path / "images"], executor=pool)
    project = Project.open(project.root)
    x1, y1 = truth["x"], truth["y"]
    x2, y2 = x1 + truth["w"] - 1, y1 + truth["h"] - 1
    app = build_app(project, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await start(app, pilot)
        keys = await draw_box_by_jumps(pilot, app, screen, x1, y1, x2, y2)
        [box] = on_disk(project, app.labeler.current).boxes
        assert (box.x, box.y, box.w, box.h) == (x1, y1, truth["w"], truth["h"])
        assert len(keys) == 8, keys
