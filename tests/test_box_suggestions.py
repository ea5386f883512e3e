"""Suggested boxes in box mode: predictions imported through the real CLI
(`qclabel import DIR labels/ --format yolo --predictions NAME`, the output of
`yolo predict save_txt save_conf`), drawn dashed and rounded; `enter` accepts all of
them as one journaled change, `backspace` rejects them. Half-cell forced."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.project import Project
from qclabel.render import cellmap as cm
from qclabel.tui.app import build_app
from test_box_screen import DEFECT, H, W, start, write_plates
from test_tui_support import SIZE, settle


def yolo_row(cls: int, x, y, w, h, conf: float) -> str:
    return f"{cls} {(x + w / 2) / W:.6f} {(y + h / 2) / H:.6f} {w / W:.6f} {h / H:.6f} {conf}\n"


@pytest.fixture
def proj(tmp_path, as_user):
    as_user("admin")
    write_plates(tmp_path / "images")
    root = tmp_path / "proj"
    runner = CliRunner()
    r = runner.invoke(main, ["init", str(root), "--taxonomy", "metal-stamping"])
    assert r.exit_code == 0, r.output
    return root, runner


def import_predictions(root, runner, tmp_path):
    r = runner.invoke(main, ["ingest", str(root), str(tmp_path / "images")])
    assert r.exit_code == 0, r.output
    preds = tmp_path / "predict" / "labels"
    preds.mkdir(parents=True)
    (preds / "plate_0.txt").write_text(
        yolo_row(0, *DEFECT, 0.91) + yolo_row(1, 20, 240, 30, 30, 0.55)
    )
    (preds / "plate_1.txt").write_text(yolo_row(2, 300, 100, 40, 20, 0.7))
    r = runner.invoke(
        main, ["import", str(root), str(preds), "--format", "yolo", "--predictions", "yolo11n"]
    )
    assert r.exit_code == 0, r.output
    return Project.open(root)


def boxes_on_disk(project, image):
    return Project.open(project.root).store.state("admin").annotation(image).boxes


async def test_suggested_boxes_drawn_then_accepted_or_rejected(proj, tmp_path):
    project = import_predictions(*proj, tmp_path)
    app = build_app(project, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        first = app.labeler.current
        vp = screen.image_view.frame.viewport
        left, top = cm.pixel_cell(vp, DEFECT[0], DEFECT[1])
        corner = (left - 1, top - 1)  # outlines run just outside the box
        assert screen.image_view.overlay[corner].char == "╭"  # dashed, rounded
        tool = str(screen.query_one("#tool").render())
        assert "suggested (yolo11n): 2 boxes, scores 0.55-0.91" in tool
        await pilot.press("enter")
        await settle(pilot, app)
        got = sorted(
            (b.cls, round(b.x), round(b.y), round(b.w), round(b.h))
            for b in boxes_on_disk(project, first)
        )
        assert got == [("dent", 20, 240, 30, 30), ("scratch", *DEFECT)]
        assert screen.image_view.overlay[corner].char == "┌"  # now the operator's box
        assert "suggested" not in str(screen.query_one("#tool").render())
        await pilot.press("n")
        await settle(pilot, app)
        second = app.labeler.current
        assert "suggested (yolo11n): 1 box, score 0.70" in str(screen.query_one("#tool").render())
        await pilot.press("backspace")
        assert not any(g.char == "╭" for g in screen.image_view.overlay.values())
        await pilot.press("enter")  # nothing left to accept
        assert "nothing to complete" in str(screen.query_one("#message").render())
    assert boxes_on_disk(project, second) == ()
    events = [
        json.loads(line)
        for line in (project.root / "labels" / "admin.jsonl").read_text().splitlines()
    ]
    assert [e["note"] for e in events] == ["accepted suggestion from yolo11n"]


async def test_a_suggested_box_below_the_class_minimum_is_refused(tmp_path, as_user):
    as_user("admin")
    write_plates(tmp_path / "images")
    root, runner = tmp_path / "proj", CliRunner()
    assert runner.invoke(main, ["init", str(root), "--taxonomy", "pcb-solder"]).exit_code == 0
    assert runner.invoke(main, ["ingest", str(root), str(tmp_path / "images")]).exit_code == 0
    preds = tmp_path / "labels"
    preds.mkdir()
    (preds / "plate_0.txt").write_text(yolo_row(2, 100, 100, 4, 3, 0.9))  # bridged: min 6 px
    r = runner.invoke(
        main, ["import", str(root), str(preds), "--format", "yolo", "--predictions", "tiny"]
    )
    assert r.exit_code == 0, r.output
    project = Project.open(root)
    app = build_app(project, "admin", graphics="halfcell", task="box")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(app, pilot)
        await pilot.press("enter")
        message = str(screen.query_one("#message").render())
        assert message.startswith("refused:") and "minimum size" in message
        assert boxes_on_disk(project, app.labeler.current) == ()
