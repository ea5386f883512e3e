"""Consistency rules in the app (half-cell forced, real projects on disk): refusals are
shown and save nothing, incomplete images are marked, a class with one severity is
saved without asking for it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from qclabel.core.edits import Change
from qclabel.core.model import Annotation, Box
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.tui.app import build_app
from test_box_screen import jump_keys, start as start_box, write_plates
from test_tui_classify import on_disk, start
from test_tui_support import SIZE, make_project, settle


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path)


@pytest.fixture
def box_proj(tmp_path):
    """Plates with one dark mark each, for snapping a box."""
    write_plates(tmp_path / "images")
    project = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp_path / "images"], executor=pool)
    return Project.open(project.root)


def message(screen) -> str:
    return str(screen.query_one("#message").render())


def commit(project: Project, image: str, ann: Annotation) -> None:
    with project.store.open_session("admin") as s:
        s.commit(Change(image, s.annotation(image), ann))


async def test_a_class_with_one_severity_is_saved_without_asking(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current
        await pilot.press("3")  # crack: its only severity is critical
        await settle(pilot, app)
        ann = on_disk(proj)[first]
        assert (ann.verdict, ann.defect_class, ann.severity) == ("fail", "crack", "critical")
        assert screen.pending is None and app.labeler.index == 1  # no question, advanced
        assert "saved: crack (critical)" in message(screen)
        await pilot.press("1")  # scratch has two: it still asks
        assert screen.pending is not None and app.labeler.index == 1


async def test_classify_marks_a_fail_without_a_box_incomplete(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("p")
        await settle(pilot, app)
        assert "INCOMPLETE" not in str(screen.query_one("#labels").render())
        await pilot.press("1", "1")  # scratch, minor: saved and advanced
        await settle(pilot, app)
        await pilot.press("b")
        await settle(pilot, app)
        labels = str(screen.query_one("#labels").render())
        assert "FAIL, scratch (minor)" in labels
        assert "INCOMPLETE: fail without any box" in labels


async def test_pass_on_an_image_with_boxes_is_refused_in_the_app(proj):
    first = proj.store.catalog.ids()[0]
    boxed = Annotation(
        verdict="fail",
        defect_class="scratch",
        severity="minor",
        boxes=(Box("scratch", 5, 5, 20, 20, "minor"),),
    )
    commit(proj, first, boxed)
    app = build_app(proj, "admin", graphics="halfcell", queue="all")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        assert app.labeler.current == first
        await pilot.press("p")
        await settle(pilot, app)
        assert "NOT saved" in message(screen) and "pass-with-objects" in message(screen)
        assert app.labeler.current == first  # stays on the image
        assert on_disk(proj)[first] == boxed


async def test_box_screen_refuses_a_box_on_a_pass_image_and_shows_incomplete(box_proj):
    ids = box_proj.store.catalog.ids()
    commit(box_proj, ids[0], Annotation(verdict="pass"))
    commit(box_proj, ids[1], Annotation(verdict="fail", defect_class="crack", severity="critical"))
    app = build_app(box_proj, "admin", graphics="halfcell", task="box", queue="all")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_box(app, pilot)
        assert app.labeler.current == ids[0]
        assert "INCOMPLETE" not in str(screen.query_one("#statusbar").render())
        await pilot.press("g", *jump_keys(screen, 148, 95), "s")  # snap a box
        await settle(pilot, app)
        assert "NOT saved" in message(screen) and "pass-with-objects" in message(screen)
        assert Project.open(box_proj.root).store.state("admin").annotation(ids[0]).boxes == ()
        await pilot.press("n")
        await settle(pilot, app)
        screen.load_pixels_now()
        assert app.labeler.current == ids[1]
        bar = str(screen.query_one("#statusbar").render())
        assert "INCOMPLETE: fail without any box" in bar
        await pilot.press("3")  # crack: one severity, set without asking
        assert screen.severity == "critical" and "crack (critical)" in screen.tool_text()
        await pilot.press("g", *jump_keys(screen, 148, 95), "s")
        await settle(pilot, app)
        [box] = Project.open(box_proj.root).store.state("admin").annotation(ids[1]).boxes
        assert (box.cls, box.severity) == ("crack", "critical")
        assert "INCOMPLETE" not in str(screen.query_one("#statusbar").render())
