"""Keypoint mode on the assembly sample (known geometry in samples/ground_truth.json):
points placed by keyboard at exact pixels, durable, undoable; the mm tolerance
verdicts match the sample's known measurements."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qclabel.core.measure import FAIL, PASS, check_template
from qclabel.core.model import NOT_LABELED, OCCLUDED, VISIBLE
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.keypoint import KeypointScreen
from test_box_screen import goto
from test_tui_support import settle
from conftest import SAMPLES

SIZE = (100, 30)
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())["files"]


@pytest.fixture
def proj(tmp_path):
    shutil.copytree(SAMPLES / "assembly", tmp_path / "assembly")
    project = Project.init(tmp_path / "proj", "assembly-keypoints", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp_path / "assembly"], executor=pool)
    return Project.open(project.root)


def truth_points(name):
    return {
        p[0]: (round(p[1]), round(p[2]), p[3])
        for p in TRUTH[f"assembly/{name}"]["keypoints"][0]["points"]
    }


async def open_image(app, pilot, name) -> KeypointScreen:
    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, KeypointScreen)
    rec = next(r for r in app.project.store.catalog.all() if r.file.endswith(name))
    while app.labeler.current != rec.id:
        await pilot.press("n")
        await settle(pilot, app)
    return screen


def stored(project, image):
    [kps] = Project.open(project.root).store.state("admin").annotation(image).keypoints
    return kps


@pytest.mark.parametrize(
    "name,verdicts",
    [
        ("bracket_0001.png", [PASS, PASS]),  # 40.0 mm and 25.0 mm
        ("bracket_0002.png", [FAIL, PASS]),  # holes 41.2 mm apart: nominal 40 +- 0.5
    ],
)
async def test_place_points_and_tolerance_verdicts(proj, name, verdicts):
    app = build_app(proj, "admin", graphics="halfcell", task="keypoint")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_image(app, pilot, name)
        image = app.labeler.current
        truth = truth_points(name)
        for point in ("hole_left", "hole_right", "tab_tip"):
            x, y, _ = truth[point]
            await goto(pilot, screen, x, y)
            await pilot.press("space")
        await pilot.press("s")  # screw: skipped (v=0)
        await settle(pilot, app)
        kps = stored(proj, image)
        for point in ("hole_left", "hole_right", "tab_tip"):
            p = kps.point(point)
            assert (p.x, p.y, p.v) == (*truth[point][:2], VISIBLE)
        assert kps.point("screw").v == NOT_LABELED
        rec = app.labeler.record()
        checks = check_template(kps, app.project.taxonomy.template("bracket"), rec.mm_per_px)
        assert [c.verdict for c in checks] == verdicts
        known = TRUTH[f"assembly/{name}"]["measurements_mm"]
        assert checks[0].mm == pytest.approx(known["hole_left-hole_right"], abs=0.3)
        panel = str(screen.query_one("#tool").render())
        assert f"hole_left-hole_right: {checks[0].mm:.2f} mm" in panel
        assert verdicts[0].upper() in panel.split("hole_left-hole_right")[1].splitlines()[0]


async def test_occluded_step_back_and_undo(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="keypoint")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_image(app, pilot, "bracket_0003.png")
        image = app.labeler.current
        expected = {
            name: (round(x), round(y)) for name, x, y in proj.taxonomy.template("bracket").positions
        }
        left = expected["hole_left"]
        assert screen.cursor == left  # hole_left's expected position
        await pilot.press("o")  # hole_left occluded at the cursor
        await settle(pilot, app)
        p = stored(proj, image).point("hole_left")
        assert (p.x, p.y, p.v) == (*left, OCCLUDED)
        assert screen.point_index == 1
        # the cursor went to hole_right's expected position from the template
        assert screen.cursor == expected["hole_right"]
        await pilot.press("space", "comma", "comma")
        assert screen.point_index == 0
        await pilot.press("u")  # undo hole_right
        await settle(pilot, app)
        assert stored(proj, image).point("hole_right").v == NOT_LABELED
        await pilot.press("J")  # cursor off the point: it shows
        vp = screen.image_view.frame.viewport
        from qclabel.render import cellmap as cm

        assert screen.image_view.overlay[cm.pixel_cell(vp, *left)].char == "○"


async def test_click_puts_cursor_then_place(proj):
    from qclabel.render import cellmap as cm

    app = build_app(proj, "admin", graphics="halfcell", task="keypoint")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_image(app, pilot, "bracket_0001.png")
        image = app.labeler.current
        view = screen.image_view
        vp = view.frame.viewport
        cell = (vp.offset[0] + 12, vp.offset[1] + 7)
        await pilot.click(view, offset=cell)
        assert screen.cursor == cm.cell_pixel(vp, *cell)
        await pilot.press("enter")
        await settle(pilot, app)
        p = stored(proj, image).point("hole_left")
        assert (p.x, p.y, p.v) == (*cm.cell_pixel(vp, *cell), VISIBLE)


@pytest.mark.parametrize("name", ["bracket_0002.png", "bracket_0003.png"])
async def test_snap_places_each_point_in_at_most_three_keys(proj, name):
    """The parts sit up to 27 px off their fixture positions: `m` (and `m` again when
    the nearest feature is not the one meant) then `space` lands on the true point."""
    app = build_app(proj, "admin", graphics="halfcell", task="keypoint")
    truth = truth_points(name)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_image(app, pilot, name)
        image = app.labeler.current
        keys = 0
        for point in proj.taxonomy.template("bracket").points:
            tx, ty, v = truth[point]
            if v == NOT_LABELED:
                await pilot.press("s")
                continue
            start = screen.cursor
            for presses in (1, 2):  # noqa: B007  (the count is read after the loop)
                await pilot.press("m")
                if abs(screen.cursor[0] - tx) <= 2 and abs(screen.cursor[1] - ty) <= 2:
                    break
            else:
                pytest.fail(f"{point}: snap from {start} never reached {tx},{ty}")
            await pilot.press("space")
            keys += presses + 1
            assert presses + 1 <= 2  # on these samples the nearest feature is the point
        await settle(pilot, app)
        kps = stored(proj, image)
        for point in proj.taxonomy.template("bracket").points:
            tx, ty, v = truth[point]
            p = kps.point(point)
            assert p.v == v
            if v:
                assert abs(p.x - tx) <= 2 and abs(p.y - ty) <= 2, point


def test_features_near_the_fixture_positions_are_the_true_points():
    import cv2

    from qclabel.render.point_snap import features_near

    expected = {
        "hole_left": (136, 203),
        "hole_right": (336, 189),
        "tab_tip": (231, 121),
        "screw": (239, 241),
    }
    grey = cv2.imread(str(SAMPLES / "assembly" / "bracket_0002.png"), cv2.IMREAD_GRAYSCALE)
    for point, (tx, ty, _v) in truth_points("bracket_0002.png").items():
        found = features_near(grey, *expected[point])
        assert found[0].distance(tx, ty) <= 2, point
    flat = np.full((100, 100), 128, np.uint8)
    assert features_near(flat, 50, 50) == []
