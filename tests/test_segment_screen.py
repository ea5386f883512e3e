"""Segmentation mode through the real app (half-cell forced) on the bundled sample
images ingested into a real project: every tool by its keys, each change read back
from the journal on disk, undo/redo per stroke, taxonomy rules at edit time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qclabel.project import Project
from qclabel.tui.app import build_app
from segment_support import goto, jump_keys, on_disk, sample_project, start
from test_maskedit import iou, truth
from test_tui_support import settle

SIZE = (120, 40)


@pytest.fixture
def paint(tmp_path):
    return sample_project(tmp_path, "paint")


@pytest.fixture
def metal(tmp_path):
    return sample_project(tmp_path, "metal")


def app_for(project, graphics="halfcell"):
    return build_app(project, "admin", graphics=graphics, task="segmentation")


def message(screen) -> str:
    return str(screen.query_one("#message").render())


async def brush(pilot, screen, a, b):
    await goto(pilot, screen, *a)
    await pilot.press("space")
    await goto(pilot, screen, *b)
    await pilot.press("space")


async def test_the_home_screen_opens_the_mask_mode(paint):
    app = build_app(paint, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("m")
        await settle(pilot, app)
        from qclabel.tui.screens.segment import SegmentScreen

        assert isinstance(app.screen, SegmentScreen)


async def test_brush_stroke_is_one_edit_and_undo_restores_the_exact_raster(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("1", "]", "]")  # run, radius 5
        await brush(pilot, screen, (200, 230), (230, 260))
        [m] = on_disk(paint, image).masks
        assert m.cls == "run" and m.severity == "minor"  # 6.6 mm2 <= 20 mm2
        assert on_disk(paint, image).verdict == "fail"
        first = m.full(640, 480).copy()
        # an 11 px wide diagonal line from (200,230) to (230,260): its centre pixels set
        assert first[230, 200] and first[245, 215] and first[260, 230]
        assert not first[230, 230] and first.sum() == m.area
        # a second stroke goes into the same mask (one more edit)
        await brush(pilot, screen, (230, 230), (232, 232))
        [m2] = on_disk(paint, image).masks
        assert m2.id == m.id and m2.area > m.area
        await pilot.press("u")
        [back] = on_disk(paint, image).masks
        assert (back.full(640, 480) == first).all()  # the exact raster
        await pilot.press("u")
        assert on_disk(paint, image).masks == ()
        await pilot.press("r", "r")
        assert on_disk(paint, image).masks[0].area == m2.area


async def test_square_tip_and_eraser_on_the_selected_mask(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("1", "t", *["]"] * 9)  # square tip, radius 12: 25x25
        await goto(pilot, screen, 210, 240)
        await pilot.press("space", "space")  # one dab
        [m] = on_disk(paint, image).masks
        assert (m.left, m.top, m.width, m.height, m.area) == (198, 228, 25, 25, 625)
        await pilot.press("tab", "e", *["["] * 9)  # radius 3
        await goto(pilot, screen, 210, 240)
        await pilot.press("space", "space")
        [e] = on_disk(paint, image).masks
        assert e.area == 625 - 49 and not e.full(640, 480)[240, 210]


async def test_brush_is_clipped_to_the_image(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("3", *["]"] * 27)  # radius 30 at the corner
        await goto(pilot, screen, 0, 0)
        await pilot.press("space", "space")
        [m] = on_disk(paint, image).masks
        assert (m.left, m.top) == (0, 0) and m.x2 <= 640 and m.y2 <= 480
        assert m.area == int(
            np.sum([(x * x + y * y) <= 30.5**2 for x in range(31) for y in range(31)])
        )


async def test_polygon_with_vertex_edits_and_a_hole(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("3", "o")
        for p in ((100, 100), (160, 100), (160, 150), (100, 150)):
            await goto(pilot, screen, *p)
            await pilot.press("space")
        await goto(pilot, screen, 130, 98)
        await pilot.press("I")  # a vertex on the top edge
        await pilot.press("M")
        await goto(pilot, screen, 130, 90)  # ... moved up
        await pilot.press("M")
        await goto(pilot, screen, 100, 151)
        await pilot.press("D", "u")  # delete a corner, undo that
        assert screen.draft.ring == [(100, 100), (130, 90), (160, 100), (160, 150), (100, 150)]
        await pilot.press("O")  # close, start a hole
        for p in ((120, 115), (140, 115), (140, 135), (120, 135)):
            await goto(pilot, screen, *p)
            await pilot.press("space")
        await pilot.press("enter")
        [m] = on_disk(paint, image).masks
        full = m.full(640, 480)
        assert m.cls == "thin-spot" and full[110, 110] and not full[125, 130]
        assert full[95, 130] and not full[95, 105]  # the moved vertex's peak
        # vertices on pixel centres, pycocotools' rule: a centre on the left/top edge
        # is outside, on the right/bottom edge inside
        assert (m.left, m.top, m.x2, m.y2) == (101, 91, 161, 151)


async def test_flood_fill_tolerance_follows_live(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("1", "c")
        await goto(pilot, screen, 215, 245)
        await pilot.press("space")
        counts = [screen.preview.count]
        for key in ("]", "]", "[", "[", "["):
            await pilot.press(key)
            counts.append(screen.preview.count)
        # tolerance 24, 28, 32, 28, 24, 20: the preview follows every key
        assert counts[2] >= counts[1] >= counts[0] >= counts[5]
        assert counts[3] == counts[1] and counts[4] == counts[0] and counts[2] > counts[5]
        await pilot.press("enter")
        [m] = on_disk(paint, image).masks
        assert m.area == counts[-1] and m.full(640, 480)[245, 215]


async def test_grabcut_on_a_drawn_box_then_strokes_rerun(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        t = truth("paint/panel_0001.jpg", "run")
        await pilot.press("1", "m")
        await goto(pilot, screen, t.left, t.top)
        await pilot.press("space")
        await goto(pilot, screen, t.x2 - 1, t.y2 - 1)
        await pilot.press("enter")
        assert "grabcut" in message(screen)
        first = screen.proposal.count
        shown = screen.proposal.full(640, 480)
        assert iou(shown, t.full(640, 480).astype(bool)) >= 0.9
        await pilot.press("a")  # watershed, then back
        assert "watershed" in message(screen)
        await pilot.press("a", "a")
        assert screen.proposal.count == first
        await goto(pilot, screen, t.left + 2, t.top + 2)
        await pilot.press("comma")  # background pen
        await goto(pilot, screen, t.x2 - 3, t.top + 2)
        await pilot.press("comma")  # lifts it, re-runs
        assert screen.proposal.count != first
        proposed = screen.proposal.full(640, 480)
        [bg] = screen.marked[False]  # the stroke followed the cursor
        await pilot.press("enter")
        [m] = on_disk(paint, image).masks
        assert (m.full(640, 480).astype(bool) == proposed).all()  # saved as shown
        assert bg.count > 30 and not (m.full(640, 480) & bg.full(640, 480)).any()


async def test_a_pore_from_its_box_in_six_keys(metal):
    """g col row (cursor onto the pore), 4 (porosity), s (box it, GrabCut), enter."""
    app = app_for(metal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        rel = "metal/P1002_L09_S1_cam1_0012.jpg"
        target = next(
            i for i in app.labeler.queue if app.labeler.record(i).source.endswith(rel.split("/")[1])
        )
        app.labeler.index = app.labeler.queue.index(target)
        screen.show_image()
        await settle(pilot, app)
        screen.load_pixels_now()
        t = truth(rel, "porosity")
        cx, cy = t.left + t.width // 2, t.top + t.height // 2
        col, row = jump_keys(screen, cx, cy)
        keys = ["g", col, row, "4", "s", "enter"]
        await pilot.press(*keys)
        assert len(keys) <= 6
        [m] = on_disk(metal, target).masks
        assert m.cls == "porosity"
        # the truth is a cluster of pores; the mask is the one pore near the cursor
        got, want = m.full(800, 600).astype(bool), t.full(800, 600).astype(bool)
        assert (got & want).sum() / got.sum() >= 0.8 and m.area >= 20
        assert abs(m.left + m.width / 2 - screen.cursor[0]) < 40


async def test_protect_other_instances(metal):
    app = app_for(metal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("2", *["]"] * 5)  # dent, radius 8
        await brush(pilot, screen, (300, 300), (340, 300))
        await pilot.press("escape", "1")  # next mask: scratch
        await brush(pilot, screen, (320, 280), (320, 320))
        dent, scratch = on_disk(metal, image).masks
        assert dent.cls == "dent" and scratch.cls == "scratch"
        assert not (dent.full(800, 600) & scratch.full(800, 600)).any()
        before = dent.full(800, 600).copy()
        await pilot.press("P", "escape", "1")  # protection off: overlap allowed
        await brush(pilot, screen, (310, 290), (310, 310))
        masks = on_disk(metal, image).masks
        assert (masks[0].full(800, 600) == before).all()  # other masks never change
        assert (masks[-1].full(800, 600) & before).any()


async def test_select_reclass_delete_severity_and_refusals(metal):
    app = app_for(metal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("1")
        await goto(pilot, screen, 400, 300)
        await pilot.press("space", "space")  # a 7 px dab: below the minimum?
        assert on_disk(metal, image).masks or "smaller than the minimum" in message(screen)
        await pilot.press(*["]"] * 7)
        await brush(pilot, screen, (400, 300), (460, 360))  # a 60 px diagonal scratch
        masks = on_disk(metal, image).masks
        m = masks[-1]
        assert m.cls == "scratch"
        await pilot.press("escape", "2")  # no selection: class of the next
        assert on_disk(metal, image).masks[-1].cls == "scratch"
        await pilot.press("tab")
        while screen.selected != m.id:
            await pilot.press("tab")
        await pilot.press("2")  # explicit selection: re-class
        got = next(x for x in on_disk(metal, image).masks if x.id == m.id)
        assert got.cls == "dent"

        def sel():
            return next(x for x in on_disk(metal, image).masks if x.id == m.id)

        assert sel().severity is None  # dent: no thresholds
        await pilot.press("v", "v")
        assert sel().severity == "major" and not sel().severity_override
        await pilot.press("1")  # scratch: severity by length
        derived = sel().severity
        assert derived in ("minor", "major")
        await pilot.press("v")
        assert sel().severity != derived and sel().severity_override
        assert "mm2" in screen.tool_text() and "L " in screen.tool_text()
        await pilot.press("p")  # pass with a mask: refused
        assert on_disk(metal, image).verdict == "fail" and "NOT saved" in message(screen)
        await pilot.press("x")
        assert all(x.id != m.id for x in on_disk(metal, image).masks)


async def test_min_area_is_refused_with_the_minimum_named(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("1")  # run: min 4 mm2 = 400 px2
        await goto(pilot, screen, 300, 300)
        await pilot.press("space", "space")  # a 37 px dab
        assert on_disk(paint, image).masks == ()
        assert "smaller than the minimum size of run: 4 mm2" in message(screen)


async def test_edit_a_drawn_polygon_again_and_a_foreground_pen(paint):
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("3", "o")
        for p in ((100, 100), (160, 100), (160, 150), (100, 150)):
            await goto(pilot, screen, *p)
            await pilot.press("space")
        await pilot.press("enter")
        [m] = on_disk(paint, image).masks
        assert m.polygons
        await pilot.press("shift+tab", "E")  # select (from the end), edit it
        assert screen.draft.editing == m.id and len(screen.draft.ring) == 4
        await goto(pilot, screen, 160, 150)
        await pilot.press("M")
        await goto(pilot, screen, 180, 170)
        await pilot.press("M", "enter")
        [e] = on_disk(paint, image).masks
        assert e.id == m.id and e.x2 == 181 and e.y2 == 171 and e.area > m.area
        # box -> mask: a foreground stroke forces its pixels into the proposal
        await pilot.press("escape", "1", "m")  # drop the selection
        t = truth("paint/panel_0001.jpg", "run")
        await goto(pilot, screen, t.left, t.top)
        await pilot.press("space")
        await goto(pilot, screen, t.x2 + 10, t.y2 + 10)
        await pilot.press("enter")
        await goto(pilot, screen, t.x2 + 8, t.y2 + 2)
        await pilot.press("full_stop")
        await goto(pilot, screen, t.x2 + 8, t.y2 + 8)
        await pilot.press("full_stop")
        [fg] = screen.marked[True]
        assert (screen.proposal.full(640, 480) & fg.full(640, 480)).sum() == fg.count


async def test_mask_keys_remap_and_show_in_help(paint, tmp_path):
    paint.config["keys"] = {"seg.eraser": "ctrl+e", "seg.brush": "b"}
    paint.save_config()
    app = app_for(paint)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("ctrl+e")
        assert screen.tool == "eraser"
        await pilot.press("e")  # the old key does nothing now
        assert screen.tool == "eraser"
        await pilot.press("b")  # remapped over "previous image"
        assert screen.tool == "brush"
        await pilot.press("question_mark")
        table = app.screen.query_one("#help-table")
        rows = {table.get_row_at(i)[2]: table.get_row_at(i)[0] for i in range(table.row_count)}
        assert rows["seg.eraser"].lower() in ("ctrl+e", "^e")
        for bid in (
            "seg.polygon",
            "seg.fill",
            "seg.box",
            "seg.snap",
            "seg.hole",
            "seg.protect",
            "seg.display",
            "seg.smaller",
            "seg.bigger",
        ):
            assert bid in rows


async def test_masks_painted_in_the_editor_pass_the_checks_and_export_to_coco(metal, tmp_path):
    import json
    from pycocotools import mask as cocomask
    from qclabel.core import consistency
    from qclabel.formats import dataset_for, export_dataset

    app = app_for(metal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        image = app.labeler.current
        await pilot.press("2", *["]"] * 5)
        await brush(pilot, screen, (300, 300), (340, 330))
        await pilot.press("escape", "3", "o")
        for p in ((500, 100), (560, 110), (530, 160)):
            await goto(pilot, screen, *p)
            await pilot.press("space")
        await pilot.press("enter")
    ann = on_disk(metal, image)
    assert len(ann.masks) == 2
    assert not [f for f in consistency.check(ann, metal.taxonomy) if f.blocking]
    out = export_dataset(dataset_for(Project.open(metal.root)), "coco", tmp_path / "coco").out
    doc = json.loads(next((out / "annotations").glob("instances_*.json")).read_text())
    rec = metal.store.catalog.get(image)
    img = next(i for i in doc["images"] if i["file_name"].endswith(Path(rec.file).name))
    anns = [a for a in doc["annotations"] if a["image_id"] == img["id"]]
    assert len(anns) == 2
    by_area = sorted(ann.masks, key=lambda m: m.area)
    for a, m in zip(sorted(anns, key=lambda a: a["area"]), by_area):
        seg = a["segmentation"]
        rle = (
            cocomask.merge(cocomask.frPyObjects(seg, img["height"], img["width"]))
            if isinstance(seg, list)
            else seg
        )
        if isinstance(rle.get("counts"), str):
            rle = {**rle, "counts": rle["counts"].encode()}
        assert (cocomask.decode(rle) == m.full(img["width"], img["height"])).all()


async def test_two_pores_from_their_boxes_are_two_instances(metal):
    app = app_for(metal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        rel = "metal/P1002_L09_S1_cam1_0012.jpg"
        target = next(
            i for i in app.labeler.queue if app.labeler.record(i).source.endswith(rel.split("/")[1])
        )
        app.labeler.index = app.labeler.queue.index(target)
        screen.show_image()
        await settle(pilot, app)
        screen.load_pixels_now()
        t = truth(rel, "porosity")
        full = t.full(800, 600).astype(bool)
        import cv2

        n, labels, stats, cents = cv2.connectedComponentsWithStats(full.astype(np.uint8))
        big = sorted(range(1, n), key=lambda i: -stats[i][cv2.CC_STAT_AREA])[:2]
        for i in big:
            cx, cy = (int(v) for v in cents[i])
            await pilot.press("g", *jump_keys(screen, cx, cy), "4", "s", "enter")
        masks = on_disk(metal, target).masks
        assert len(masks) == 2 and len({m.id for m in masks}) == 2
