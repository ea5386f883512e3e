"""Box mode through the real app (half-cell forced) on a real project on disk: boxes
drawn, edited, deleted at exact canonical pixels through zoom levels; every change
read back from the journal; undo; minimum-size refusal."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from textual.geometry import Region

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.render import cellmap as cm, jumpgrid
from qclabel.tui.app import build_app
from qclabel.tui.screens.box import BoxScreen
from test_tui_support import settle

SIZE = (100, 30)
W, H = 400, 300
DEFECT = (137, 91, 23, 9)  # x, y, w, h of the dark mark on image 0


def write_plates(folder):
    folder.mkdir(parents=True)
    for i in range(3):
        a = np.full((H, W), 170 + i, np.uint8)
        x, y, w, h = DEFECT
        a[y : y + h, x : x + w] = 30
        a[250:260, 20 + 5 * i : 40] = 60  # distinct content per image
        Image.fromarray(a).save(folder / f"plate_{i}.png")


@pytest.fixture
def proj(tmp_path):
    write_plates(tmp_path / "images")
    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp_path / "images"], executor=pool)
    return Project.open(project.root)


def on_disk(project, image):
    return Project.open(project.root).store.state("admin").annotation(image)


async def start(app, pilot) -> BoxScreen:
    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, BoxScreen)
    screen.load_pixels_now()
    return screen


def jump_keys(screen, x, y) -> tuple[str, str]:
    """The jump-grid letters (after g: column, row) landing nearest to pixel x, y."""
    vp = screen.image_view.frame.viewport
    ncol, nrow = jumpgrid.divisions(vp)
    col = min(
        range(ncol), key=lambda i: abs(cm.cell_pixel(vp, *jumpgrid.slot_cell(vp, i, 0))[0] - x)
    )
    row = min(
        range(nrow), key=lambda j: abs(cm.cell_pixel(vp, *jumpgrid.slot_cell(vp, 0, j))[1] - y)
    )
    return jumpgrid.LETTERS[col], jumpgrid.LETTERS[row]


async def goto(pilot, screen, x, y):
    """Drive the cursor with keys only: the jump grid when far, then cells (hjkl),
    tens (HJKL) and single pixels (ctrl+arrows)."""
    sx, sy = screen.step_px("cell")
    vp = screen.image_view.frame.viewport
    if (
        (abs(x - screen.cursor[0]) > 4 * sx or abs(y - screen.cursor[1]) > 4 * sy)
        and vp.x <= x < vp.x + vp.w
        and vp.y <= y < vp.y + vp.h
    ):
        await pilot.press("g", *jump_keys(screen, x, y))
    for _ in range(200):
        cx, cy = screen.cursor
        if (cx, cy) == (x, y):
            return
        sx, sy = screen.step_px("cell")
        dx, dy = x - cx, y - cy
        if abs(dx) >= 10 * sx:
            await pilot.press("L" if dx > 0 else "H")
        elif abs(dy) >= 10 * sy:
            await pilot.press("J" if dy > 0 else "K")
        elif abs(dx) >= sx:
            await pilot.press("l" if dx > 0 else "h")
        elif abs(dy) >= sy:
            await pilot.press("j" if dy > 0 else "k")
        elif dx:
            await pilot.press("ctrl+right" if dx > 0 else "ctrl+left")
        else:
            await pilot.press("ctrl+down" if dy > 0 else "ctrl+up")
        if screen.image_view.frame is None or screen.image_view.frame.viewport != screen.viewport:
            await settle(pilot, screen.app)  # the view panned: wait for the new frame
    raise AssertionError(f"cursor stuck at {screen.cursor}, wanted {(x, y)}")


@pytest.mark.parametrize("level", [0, 4])  # several px per cell; several cells per px
async def test_anchor_and_complete_at_exact_pixels_through_zoom(proj, level):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        for _ in range(level):
            await pilot.press("z")
        await settle(pilot, app)
        assert cm.level_of(screen.viewport) == level
        await pilot.press("2")  # class: dent
        await goto(pilot, screen, 137, 91)
        await pilot.press("space")
        await goto(pilot, screen, 159, 99)
        await pilot.press("enter")
        await settle(pilot, app)
        [box] = on_disk(proj, image).boxes
        assert (box.cls, box.x, box.y, box.w, box.h) == ("dent", 137, 91, 23, 9)
        # the overlay draws it where the frame shows those pixels
        vp = screen.image_view.frame.viewport
        overlay = screen.image_view.overlay
        assert any(g.char in "┌┐└┘─│" for g in overlay.values())  # drawn, not selected
        # the outline runs around the box, never over a cell showing one of its pixels
        shown = {vp.cell_of(x + 0.5, y + 0.5) for x in range(137, 160) for y in range(91, 100)}
        assert not shown & {c for c, g in overlay.items() if g.outline}
        left, top = vp.cell_of(137, 91)
        corner = (left - 1, top - 1)
        if vp.cell_in_frame(*corner):
            assert overlay[corner].char == "┌"
            # and the rendered picture line carries the glyph in that cell
            view = screen.image_view
            line = view.render_lines(Region(0, corner[1], view.size.width, 1))[0]
            assert line.crop(corner[0], corner[0] + 1).text == "┌"


async def test_snap_at_cursor_common_case(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        col, row = jump_keys(screen, 148, 95)  # the defect's middle
        await pilot.press("g", col, row, "s")  # 4 keys
        await settle(pilot, app)
        [box] = on_disk(proj, image).boxes
        assert (box.x, box.y, box.w, box.h) == DEFECT
        assert box.cls == "scratch"  # the first class until another is chosen


async def test_edit_edges_delete_and_undo(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("2")
        await goto(pilot, screen, 137, 91)
        await pilot.press("space")
        await goto(pilot, screen, 159, 99)
        await pilot.press("enter", "shift+tab", "e", "e")  # select it; target: left edge
        assert screen.edit_target == "left"
        await pilot.press("ctrl+left", "ctrl+left")  # two pixels left
        await pilot.press("e", "e", "ctrl+right")  # top -> right edge, one pixel
        await settle(pilot, app)
        [box] = on_disk(proj, image).boxes
        assert (box.x, box.y, box.w, box.h) == (135, 91, 26, 9)
        await pilot.press("escape", "u")  # end edit, undo last step
        await settle(pilot, app)
        [box] = on_disk(proj, image).boxes
        assert (box.x, box.w) == (135, 25)
        await pilot.press("tab", "x")
        await settle(pilot, app)
        assert on_disk(proj, image).boxes == ()
        await pilot.press("u")
        await settle(pilot, app)
        assert len(on_disk(proj, image).boxes) == 1


async def test_min_size_refused_with_minimum_in_message(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("6")  # class 6 has a minimum of 8 px
        cls = app.project.taxonomy.by_hotkey("6")
        await goto(pilot, screen, 50, 50)
        await pilot.press("space")
        await goto(pilot, screen, 53, 52)
        await pilot.press("enter")
        await settle(pilot, app)
        assert on_disk(proj, image).boxes == ()
        msg = str(screen.query_one("#message").render())
        assert "refused" in msg and "8 px" in msg and cls.name in msg


async def test_duplicate_copy_previous_class_and_severity(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current
        await pilot.press("2")
        await goto(pilot, screen, 137, 91)
        await pilot.press("space")
        await goto(pilot, screen, 159, 99)
        await pilot.press("enter", "shift+tab", "v", "ctrl+d")
        await settle(pilot, app)
        boxes = on_disk(proj, first).boxes
        assert [(b.x, b.y, b.severity) for b in boxes] == [(137, 91, "minor"), (147, 101, "minor")]
        await pilot.press("1")  # selected duplicate becomes a scratch
        await settle(pilot, app)
        assert [b.cls for b in on_disk(proj, first).boxes] == ["dent", "scratch"]
        await pilot.press("n")
        await settle(pilot, app)
        second = app.labeler.current
        assert second != first
        assert screen.current_class == "scratch"  # the last class is remembered
        await pilot.press("y")
        await settle(pilot, app)
        copied = on_disk(proj, second).boxes
        assert [(b.cls, b.x, b.y, b.w, b.h) for b in copied] == [
            (b.cls, b.x, b.y, b.w, b.h) for b in on_disk(proj, first).boxes
        ]
        assert not {b.id for b in copied} & {b.id for b in on_disk(proj, first).boxes}


async def test_mouse_drag_draws_and_click_selects(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        view = screen.image_view
        vp = view.frame.viewport
        a, b = (vp.offset[0] + 10, vp.offset[1] + 5), (vp.offset[0] + 20, vp.offset[1] + 9)
        await pilot.mouse_down(view, offset=a)
        await pilot.mouse_up(view, offset=b)
        await settle(pilot, app)
        [box] = on_disk(proj, image).boxes
        (x1, y1), (x2, y2) = cm.cell_pixel(vp, *a), cm.cell_pixel(vp, *b)
        assert (box.x, box.y, box.x2 - 1, box.y2 - 1) == (x1, y1, x2, y2)
        assert screen.selected is None  # a new box is not selected
        await pilot.click(view, offset=(a[0] + 3, a[1] + 2))
        assert screen.selected == box.id


async def test_a_class_key_after_a_box_is_for_the_next_box(proj):
    """The README's order: class, then box; class, then the next box. The class key
    after a box must not re-class it; neither must `v` or `s` act on it. Re-classing
    takes an explicit selection (tab/shift+tab/click)."""
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("2")  # dent
        await goto(pilot, screen, 137, 91)
        await pilot.press("space")
        await goto(pilot, screen, 159, 99)
        await pilot.press("enter")
        await pilot.press("1", "v")  # scratch (minor) for the NEXT box
        await settle(pilot, app)
        assert [(b.cls, b.severity) for b in on_disk(proj, image).boxes] == [("dent", None)]
        col, row = jump_keys(screen, 148, 95)
        await pilot.press("g", col, row)
        await goto(pilot, screen, 30, 30)
        await pilot.press("space")
        await goto(pilot, screen, 60, 50)
        await pilot.press("enter")
        await settle(pilot, app)
        got = [(b.cls, b.severity, b.x, b.y) for b in on_disk(proj, image).boxes]
        assert got == [("dent", None, 137, 91), ("scratch", "minor", 30, 30)]
        # `s` on the defect after drawing elsewhere boxes the defect (a third box)
        await goto(pilot, screen, 148, 95)
        await pilot.press("s")
        await settle(pilot, app)
        assert len(on_disk(proj, image).boxes) == 3
        # explicit selection, then a class key: that box changes
        await pilot.press("tab", "3")
        await settle(pilot, app)
        assert [b.cls for b in on_disk(proj, image).boxes] == ["crack", "scratch", "scratch"]


async def test_undo_on_an_earlier_image_keeps_the_queue_and_its_counter(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        queue = list(app.labeler.queue)
        assert len(queue) == 3
        for _ in range(2):  # a snapped box on images 1 and 2
            col, row = jump_keys(screen, 148, 95)
            await pilot.press("g", col, row, "s", "n")
            await settle(pilot, app)
        assert app.labeler.current == queue[2]
        await pilot.press("u")  # undoes image 2's box: back there
        await settle(pilot, app)
        assert app.labeler.current == queue[1] and app.labeler.queue == queue
        assert screen.status_text().startswith("2/3")
        assert on_disk(proj, queue[1]).boxes == ()
        await pilot.press("b")  # image 1 is still reachable
        assert app.labeler.current == queue[0]
        await pilot.press("r")  # redo: image 2's box again, shown
        await settle(pilot, app)
        assert app.labeler.current == queue[1] and len(on_disk(proj, queue[1]).boxes) == 1
        assert screen.status_text().startswith("2/3")


async def test_a_run_of_nudges_of_one_edge_is_one_undo_step_and_each_is_durable(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("2")
        await goto(pilot, screen, 137, 91)
        await pilot.press("space")
        await goto(pilot, screen, 159, 99)
        await pilot.press("enter", "shift+tab", "e", "e")  # select it; target: left edge
        await pilot.press(*["ctrl+left"] * 5)  # five nudges of one edge
        await settle(pilot, app)
        [box] = on_disk(proj, image).boxes  # each nudge was journaled
        assert (box.x, box.w) == (132, 28)
        journal = (proj.root / "labels" / "admin.jsonl").read_text().splitlines()
        assert sum(image in line for line in journal) == 6  # the box, five nudges
        await pilot.press("e", "e", "ctrl+right", "ctrl+right")  # right edge: a new run
        await settle(pilot, app)
        assert on_disk(proj, image).boxes[0].w == 30
        await pilot.press("u")  # undoes the right-edge run
        await settle(pilot, app)
        assert (on_disk(proj, image).boxes[0].x, on_disk(proj, image).boxes[0].w) == (132, 28)
        await pilot.press("u")  # undoes all five nudges
        await settle(pilot, app)
        [box] = on_disk(proj, image).boxes
        assert (box.x, box.y, box.w, box.h) == (137, 91, 23, 9)
        await pilot.press("u")  # then the box itself
        await settle(pilot, app)
        assert on_disk(proj, image).boxes == ()
        await pilot.press("r", "r")  # redo: box, then the run
        await settle(pilot, app)
        assert (on_disk(proj, image).boxes[0].x, on_disk(proj, image).boxes[0].w) == (132, 28)
