"""Adjudicators see both sides in full; images are named to people by file name.

The adjudication panel is read as the screen shows it (the widget's visible lines at
80x24 and 100x30), so a panel too small to hold B's labels fails here."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from textual.geometry import Region

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Box, ImageRecord
from qclabel.core.naming import find, image_name
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.screens.adjudicate import AdjudicateScreen
from test_qa_support import label, qa_project, set_fields
from test_tui_support import SIZE, make_project, settle


def visible(widget) -> str:
    """The text a widget shows on screen (cut to its size, as the terminal shows it)."""
    w, h = widget.size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, w, h)))


@pytest.fixture
def disputed(tmp_path):
    p = qa_project(tmp_path, 3, dual_first_n=3, spot_check_rate=0.0, size=(120, 90))
    ids = p.store.catalog.ids()
    p = set_fields(p, {ids[0]: {"lot": "L42", "station": "press-3"}})
    label(
        p,
        "ann1",
        ids[0],
        edits.set_class("dent", "minor"),
        edits.add_box(Box("dent", 10, 10, 40, 30)),
        edits.add_box(Box("dent", 70, 50, 20, 20)),
    )
    label(
        p,
        "ann2",
        ids[0],
        edits.set_class("scratch", "major"),
        edits.add_box(Box("scratch", 60, 40, 40, 30)),
        edits.add_box(Box("scratch", 5, 5, 9, 9)),
        edits.add_box(Box("scratch", 90, 5, 11, 12)),
    )
    return p, ids


async def read_sides(pilot, screen) -> str:
    """The labels column as the adjudicator reads it: what is on screen, then what
    pagedown brings into view (a small terminal cannot hold both sides at once)."""
    column, labels = screen.query_one("#sides"), screen.query_one("#labels")
    seen = []
    for _ in range(10):
        top = int(column.scroll_y)
        rows = min(column.size.height, labels.size.height - top)
        seen += [
            strip.text for strip in labels.render_lines(Region(0, top, labels.size.width, rows))
        ]
        if column.scroll_y >= column.max_scroll_y:
            break
        await pilot.press("pagedown")
        await pilot.pause()
    await pilot.press("pageup", "pageup", "pageup")
    return "\n".join(seen)


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_adjudication_shows_both_sides_in_full(disputed, size):
    p, ids = disputed
    app = build_app(p, "adj", graphics="halfcell", start="adjudicate")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, AdjudicateScreen) and screen.current.image == ids[0]
        case = visible(screen.query_one("#case"))
        assert "part_0000.png" in case and ids[0] not in case
        sides = await read_sides(pilot, screen)
        assert "lot L42" in case and "station press-3" in case
        for text in (
            "ann1",
            "ann2",
            "dent",
            "scratch",
            "minor",
            "major",
            "dent 10,10 40x30",
            "dent 70,50 20x20",
            "scratch 60,40 40x30",
            "scratch 5,5 9x9",
            "scratch 90,5 11x12",
        ):
            assert text in sides, (text, sides)
        rows = {line.split()[0]: line for line in sides.splitlines() if line.strip()}
        assert "≠" in rows["class"] and "≠" in rows["severity"] and "≠" in rows["boxes"]
        assert "≠" not in rows["verdict"]  # both fail
        await pilot.press("o")  # the picture shows A only
        assert "(hidden)" in await read_sides(pilot, screen)
        assert "picture: A only" in visible(screen.query_one("#statusbar"))
        await pilot.press("o")
        assert "picture: B only" in visible(screen.query_one("#statusbar"))
        assert "e/t start from B" in visible(screen.query_one("#statusbar"))
        await pilot.press("a")
        await settle(pilot, app)
        assert "final label saved for part_0000.png" in visible(screen.query_one("#message"))


async def test_go_to_by_file_name_and_undo_names_the_file(tmp_path):
    proj = make_project(tmp_path)
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        target = next(r for r in proj.store.catalog.all() if r.source.endswith("rgb_2.png"))
        await pilot.press("g", *"rgb_2.png", "enter")
        await settle(pilot, app)
        assert app.labeler.current == target.id
        assert "rgb_2.png" in visible(screen.query_one("#info"))
        await pilot.press("p", "u")
        await settle(pilot, app)
        assert visible(screen.query_one("#message")).strip() == "undone: rgb_2.png"
        await pilot.press("g", *"nothing.png", "enter")
        await settle(pilot, app)
        assert "no image 'nothing.png'" in visible(screen.query_one("#message"))


def _rec(source: str, image_id: str, page: int = 0) -> ImageRecord:
    return ImageRecord(
        id=image_id, sha256=image_id * 4, source=source, file=source, width=1, height=1, page=page
    )


def test_names_and_lookup_by_name():
    recs = [
        _rec("/line/cam1/0042.png", "aa11"),
        _rec("/line/cam2/0042.png", "bb22"),
        _rec("/line/scan.tif", "cc33"),
        _rec("/line/scan.tif", "dd44", page=1),
        _rec("/line/aa1.png", "ee55"),
    ]
    assert [image_name(r) for r in recs] == [
        "0042.png",
        "0042.png",
        "scan.tif",
        "scan.tif (page 2)",
        "aa1.png",
    ]
    assert [r.id for r in find(recs, "0042.png")] == ["aa11", "bb22"]  # ambiguous
    assert [r.id for r in find(recs, "cam2/0042.png")] == ["bb22"]  # path tail
    assert [r.id for r in find(recs, "scan.tif (page 2)")] == ["dd44"]
    assert [r.id for r in find(recs, "bb")] == ["bb22"]  # id prefix
    assert [r.id for r in find(recs, "aa1.png")] == ["ee55"]  # name, not prefix
    assert find(recs, "  ") == [] and find(recs, "zz") == []


def test_cli_names_images_by_file_and_json_keeps_ids(disputed, as_user):
    p, ids = disputed
    as_user("adj")
    runner = CliRunner()
    listed = runner.invoke(main, ["adjudicate", str(p.root), "--list"]).output
    assert listed.split()[0] == "part_0000.png" and ids[0] not in listed
    text = runner.invoke(main, ["qa", "report", str(p.root)]).output
    assert "part_0000.png" in text and ids[0] not in text
    report = json.loads(
        runner.invoke(main, ["qa", "report", str(p.root), "--format", "json"]).output
    )
    assert report["disagreements"][0]["image"] == ids[0]
    assert report["disagreements"][0]["file"] == "part_0000.png"
    r = runner.invoke(
        main,
        [
            "adjudicate",
            str(p.root),
            "--image",
            "part_0000.png",
            "--take",
            "B",
            "--note",
            "scratch under raking light",
        ],
    )
    assert r.exit_code == 0 and r.output.startswith("part_0000.png: final label from B")


def test_cli_refuses_an_ambiguous_file_name(tmp_path, as_user):
    rng = np.random.default_rng(3)
    for cam in ("cam1", "cam2"):
        (tmp_path / cam).mkdir()
        Image.fromarray((rng.random((20, 20)) * 255).astype("uint8")).save(
            tmp_path / cam / "0042.png"
        )
    p = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    p.add_role("admin", "adj", "adjudicator")
    p.add_role("admin", "ann1", "annotator")
    with ThreadPoolExecutor(1) as pool:
        ingest_paths(p, [tmp_path / "cam1", tmp_path / "cam2"], executor=pool)
    as_user("ann1")
    r = CliRunner().invoke(main, ["consensus", str(p.root), "0042.png", "--note", "why"])
    assert r.exit_code != 0 and "2 images match '0042.png'" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(main, ["consensus", str(p.root), "cam2/0042.png", "--note", "why"])
    assert r.exit_code == 0 and r.output.strip() == "0042.png sent to consensus review"
