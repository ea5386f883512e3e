"""Keys apply in the order typed, to the image on screen when each was typed.

Keys are handed to the app in one burst (as one read from an SSH connection delivers
them), without letting the app go idle in between; every test checks the labels a fresh
reader finds in the journal. The pixel tools are also checked the strong way: the same
keys typed one at a time and in one burst (with the next picture still loading) give
the same labels.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from textual import events

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.classify import ClassifyScreen
from qclabel.tui.screens.grid import GridScreen
from test_box_screen import write_plates
from test_tui_support import SIZE, FrameGate, burst, make_project, settle
from conftest import SAMPLES


def labels(project: Project) -> dict:
    p = Project.open(project.root)
    state = p.store.state("admin")
    return {i: state.annotation(i) for i in p.store.catalog.ids()}


def short(ann) -> tuple:
    return (ann.verdict, ann.defect_class, ann.severity)


async def classify(app, pilot) -> ClassifyScreen:
    await settle(pilot, app)
    assert isinstance(app.screen, ClassifyScreen)
    return app.screen


@pytest.fixture
def proj(tmp_path):
    return make_project(tmp_path)


@pytest.mark.parametrize("loading", [False, True])
async def test_class_key_after_next_labels_the_next_image(proj, loading):
    """`right 4 2` on image 1 labels image 2 porosity (major): also while image 2's
    picture is still loading."""
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await classify(app, pilot)
        q = list(app.labeler.queue)
        gate = FrameGate(app) if loading else None
        burst(app, "right", "4", "2")
        await pilot.pause()
        if gate:
            assert app.screen.image_view.frame is None  # still loading image 2
            gate.open()
        await settle(pilot, app)
        assert app.labeler.current == q[2]
    got = labels(proj)
    assert short(got[q[0]]) == (None, None, None)
    assert short(got[q[1]]) == ("fail", "porosity", "major")


async def test_a_long_burst_with_back_severity_and_skip(proj):
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await classify(app, pilot)
        q = list(app.labeler.queue)
        burst(
            app,
            "1",
            "1",  # image 1: scratch, severity 1 (minor), advance
            "p",  # image 2: pass, advance
            "left",
            "2",
            "2",  # back to image 2: dent major, advance
            "s",
            "left",  # skip image 3 (advance), back to it
            "f",
            "6",
            "escape",
        )  # image 3: fail, contamination, no severity
        await settle(pilot, app)
        assert app.labeler.current == q[2]
    got = labels(proj)
    assert short(got[q[0]]) == ("fail", "scratch", "minor")
    assert short(got[q[1]]) == ("fail", "dent", "major")
    assert short(got[q[2]]) == ("fail", "contamination", None)
    assert not got[q[3]].is_labeled and not got[q[3]].skipped


async def test_keys_after_a_dialog_wait_for_its_answer(proj):
    """`g 3 enter p`: the go-to prompt opens, takes `3`, jumps, and only then does `p`
    label image 3; `x` + note + enter flags and advances before the next key."""
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await classify(app, pilot)
        q = list(app.labeler.queue)
        burst(app, "g", "3", "enter", "p", "x", "g", "l", "a", "r", "e", "enter", "p")
        await settle(pilot, app)
        assert isinstance(app.screen, ClassifyScreen)
    got = labels(proj)
    assert short(got[q[2]]) == ("pass", None, None)
    assert got[q[3]].flag == "glare"
    assert short(got[q[4]]) == ("pass", None, None)
    assert short(got[q[0]]) == (None, None, None)


async def test_keys_typed_while_a_mode_opens_go_to_that_mode(proj):
    """From home, `t 2 right 3 enter`: the grid opens, then its cells get the marks."""
    app = build_app(proj, "admin", graphics="halfcell", start="home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        burst(app, "t", "2", "right", "3", "enter")
        await settle(pilot, app)
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, GridScreen)
    q = Project.open(proj.root).store.catalog.ids()
    got = labels(proj)
    assert short(got[q[0]]) == ("fail", "dent", None)
    assert short(got[q[1]]) == ("fail", "crack", "critical")  # its only severity
    assert all(short(got[i])[0] == "pass" for i in q[2:])


async def test_grid_mark_move_mark(proj):
    """`2 right 3` marks cell 1 dent and cell 2 crack (not cell 2 dent)."""
    app = build_app(proj, "admin", graphics="halfcell", start="grid")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        grid = app.screen
        ids = grid.page_ids()
        burst(app, "2", "right", "3", "right", "right", "space", "left", "f")
        await pilot.pause()
        assert {i: (m.verdict, m.defect_class) for i, m in grid.marks.items()} == {
            ids[0]: ("fail", "dent"),
            ids[1]: ("fail", "crack"),
            ids[3]: ("fail", None),
            ids[2]: ("fail", None),
        }


async def test_paste_labels_nothing(proj):
    """A bracketed paste is text, not keys: nothing is labeled, the app says so."""
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        screen = await classify(app, pilot)
        app._driver.send_message(events.Paste("4242pppp"))
        await settle(pilot, app)
        assert app.labeler.index == 0
        assert "paste" in str(screen.query_one("#message").render())
    assert all(not a.is_labeled for a in labels(proj).values())


# -- pixel tools: a burst gives what slow typing gives ---------------------------------------
async def _run(project, task, keys, slow: bool):
    app = build_app(Project.open(project.root), "admin", graphics="halfcell", task=task)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.screen.load_pixels_now()
        if slow:
            for key in keys:
                await pilot.press(key)
                await settle(pilot, app)
        else:
            gate = FrameGate(app)  # every picture after the first is still loading
            burst(app, *keys)
            await pilot.pause()
            gate.open()
            await settle(pilot, app)
        await pilot.press("q")
    return labels(project)


def _copy(project, tmp_path, name):
    shutil.copytree(project.root.parent, tmp_path / name)
    return Project.open(tmp_path / name / project.root.name)


@pytest.fixture
def plates(tmp_path):
    write_plates(tmp_path / "p" / "images")
    project = Project.init(tmp_path / "p" / "proj", "metal-stamping", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp_path / "p" / "images"], executor=pool)
    return Project.open(project.root)


BOX_KEYS = (
    "2",
    "space",
    "l",
    "l",
    "l",
    "j",
    "j",
    "enter",  # a dent box on image 1
    "n",
    "3",
    "g",
    "c",
    "d",
    "space",
    "L",
    "J",
    "enter",  # jump + box on image 2
    "z",
    "space",
    "l",
    "l",
    "j",
    "enter",
)  # zoomed, a third box


async def test_box_keys_in_a_burst_equal_the_same_keys_typed_slowly(plates, tmp_path):
    slow = await _run(_copy(plates, tmp_path, "slow"), "box", BOX_KEYS, slow=True)
    fast = await _run(_copy(plates, tmp_path, "fast"), "box", BOX_KEYS, slow=False)

    def boxes(got):
        return {i: [(b.cls, b.x, b.y, b.w, b.h) for b in a.boxes] for i, a in got.items()}

    assert boxes(fast) == boxes(slow)
    assert sum(len(v) for v in boxes(slow).values()) == 3
    assert sorted(len(v) for v in boxes(slow).values()) == [0, 1, 2]


@pytest.fixture
def assembly(tmp_path):
    shutil.copytree(SAMPLES / "assembly", tmp_path / "a" / "assembly")
    project = Project.init(tmp_path / "a" / "proj", "assembly-keypoints", user="admin")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(project, [tmp_path / "a" / "assembly"], executor=pool)
    return Project.open(project.root)


KEYPOINT_KEYS = ("space", "l", "space", "o", "n", "space", "j", "j", "space", "s")


async def test_keypoint_keys_in_a_burst_equal_the_same_keys_typed_slowly(assembly, tmp_path):
    slow = await _run(_copy(assembly, tmp_path, "slow"), "keypoint", KEYPOINT_KEYS, True)
    fast = await _run(_copy(assembly, tmp_path, "fast"), "keypoint", KEYPOINT_KEYS, False)

    def points(got):
        return {
            i: [[(p.name, p.x, p.y, p.v) for p in k.points] for k in a.keypoints]
            for i, a in got.items()
            if a.keypoints
        }

    assert points(fast) == points(slow)
    assert len(points(slow)) == 2
