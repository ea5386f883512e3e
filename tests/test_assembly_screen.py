"""Assembly verification on the assembly sample: expected positions overlaid, one key
per position, answers journaled through core.edits.set_check and undoable."""

from __future__ import annotations


from qclabel.project import Project
from qclabel.render import cellmap as cm
from qclabel.render.overlay import EXPECTED
from qclabel.tui.app import build_app
from qclabel.tui.screens.assembly import OUTCOME_COLOURS, AssemblyScreen
from test_keypoint_screen import TRUTH, proj  # noqa: F401  (fixture)
from test_tui_support import settle

SIZE = (100, 30)


def checks_on_disk(project, image):
    return dict(Project.open(project.root).store.state("admin").annotation(image).checks)


async def open_assembly(app, pilot, name) -> AssemblyScreen:
    await settle(pilot, app)
    app.open_mode("assembly")
    await settle(pilot, app)
    screen = app.screen
    assert isinstance(screen, AssemblyScreen)
    rec = next(r for r in app.project.store.catalog.all() if r.file.endswith(name))
    while app.labeler.current != rec.id:
        await pilot.press("n")
        await settle(pilot, app)
    return screen


async def test_one_key_per_position_and_overlay(proj):  # noqa: F811
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assembly(app, pilot, "bracket_0003.png")
        image = app.labeler.current
        positions = screen.template.positions
        assert screen.cursor == tuple(round(v) for v in positions[0][1:])
        vp = screen.image_view.frame.viewport
        overlay = screen.image_view.overlay
        for _name, x, y in positions[1:]:  # every expected position is drawn
            assert overlay[cm.pixel_cell(vp, x, y)].char == EXPECTED
        # the sample's screw is missing (v=0 in the ground truth)
        screw_truth = [
            p
            for p in TRUTH["assembly/bracket_0003.png"]["keypoints"][0]["points"]
            if p[0] == "screw"
        ][0]
        assert screw_truth[3] == 0
        await pilot.press("y", "y", "m", "x", "f")
        await settle(pilot, app)
        assert checks_on_disk(proj, image) == {
            "hole_left": "present",
            "hole_right": "present",
            "tab_tip": "misplaced",
            "screw": "absent",
        }
        ann = Project.open(proj.root).store.state("admin").annotation(image)
        assert ann.verdict == "fail"
        await pilot.press("J")  # move the cursor off the positions
        vp = screen.image_view.frame.viewport
        name, x, y = positions[3]
        assert (
            screen.image_view.overlay[cm.pixel_cell(vp, x, y)].colour == OUTCOME_COLOURS["absent"]
        )
        assert "4/4 checked" in str(screen.query_one("#tool").render())


async def test_revisit_position_and_undo(proj):  # noqa: F811
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await open_assembly(app, pilot, "bracket_0001.png")
        image = app.labeler.current
        await pilot.press("y", "y", "shift+tab", "x")  # hole_right: present, then absent
        await settle(pilot, app)
        assert checks_on_disk(proj, image) == {"hole_left": "present", "hole_right": "absent"}
        await pilot.press("u")
        await settle(pilot, app)
        assert checks_on_disk(proj, image) == {"hole_left": "present", "hole_right": "present"}


async def test_modes_without_templates_say_so_and_change_nothing(tmp_path):
    from test_tui_support import make_project

    project = make_project(tmp_path, n_rgb=1, grey16=False, jpeg=False)  # metal-stamping
    app = build_app(project, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        for mode, keys in (
            ("assembly", ("y", "x", "m", "tab")),
            ("keypoint", ("space", "o", "s", "i", "tab", "x")),
        ):
            app.open_mode(mode)
            await settle(pilot, app)
            assert "no" in str(app.screen.query_one("#message").render())
            await pilot.press(*keys)
            await settle(pilot, app)
            app.pop_screen()
        assert Project.open(project.root).store.state("admin").annotations() == {}
