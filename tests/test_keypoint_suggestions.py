"""Suggested keypoints in keypoint mode, on the assembly sample: a prediction stored
through the formats API is drawn in its own style; `enter` accepts it (read back from
the journal on disk), `backspace` rejects it, and `enter` still places a point while an
instance is being placed. Real project, real app (half-cell forced)."""

from __future__ import annotations

import json

from qclabel.core.model import NOT_LABELED, VISIBLE, Annotation, Keypoint, KeypointSet
from qclabel.formats import suggestions
from qclabel.project import Project
from qclabel.render import cellmap as cm
from qclabel.tui.app import build_app
from qclabel.tui.screens.keypoint_suggest import SUGGESTED_POINT
from test_keypoint_screen import SIZE, open_image, proj, truth_points  # noqa: F401
from test_tui_support import settle

NAME = "bracket_0001.png"


def suggest(project) -> KeypointSet:
    """Store a prediction for NAME: three points at the known positions, screw unseen."""
    rec = next(r for r in project.store.catalog.all() if r.file.endswith(NAME))
    truth = truth_points(NAME)
    points = tuple(
        Keypoint(n, float(truth[n][0]), float(truth[n][1]), VISIBLE)
        for n in ("hole_left", "hole_right", "tab_tip")
    )
    kps = KeypointSet("bracket", points + (Keypoint("screw", 0.0, 0.0, NOT_LABELED),))
    suggestions.store(
        project,
        "kp-model",
        {rec.id: Annotation(keypoints=(kps,))},
        "preds.jsonl",
        "admin",
        scores={rec.id: [0.9]},
    )
    return kps


def on_disk(project, image) -> Annotation:
    return Project.open(project.root).store.state("admin").annotation(image)


async def test_enter_accepts_the_suggested_keypoints(proj):  # noqa: F811
    kps = suggest(proj)
    app = build_app(proj, "admin", graphics="halfcell", task="keypoint")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_image(app, pilot, NAME)
        image = app.labeler.current
        assert "suggested (kp-model): 1 keypoint sets, score 0.90" in screen.tool_text()
        vp = screen.image_view.frame.viewport
        x, y = kps.point("hole_right").x, kps.point("hole_right").y
        assert screen.image_view.overlay[cm.pixel_cell(vp, x, y)].char == SUGGESTED_POINT
        await pilot.press("enter")
        await settle(pilot, app)
        assert "accepted 1 suggested keypoint sets from kp-model" in str(
            screen.query_one("#message").render()
        )
        assert "suggested" not in screen.tool_text()
        await pilot.press("enter")  # the accepted set is complete: nothing is moved
    [got] = on_disk(proj, image).keypoints
    assert got == kps
    events = [
        json.loads(line) for line in (proj.root / "labels" / "admin.jsonl").read_text().splitlines()
    ]
    assert [e["note"] for e in events if e["image"] == image] == [
        "accepted suggestion from kp-model"
    ]


async def test_backspace_rejects_and_enter_places_while_placing(proj):  # noqa: F811
    suggest(proj)
    app = build_app(proj, "admin", graphics="halfcell", task="keypoint")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_image(app, pilot, NAME)
        image = app.labeler.current
        await pilot.press("i", "enter")  # a new instance: enter places hole_left
        await settle(pilot, app)
        [mine] = on_disk(proj, image).keypoints
        assert mine.point("hole_left").v == VISIBLE and mine.point("hole_right").v == 0
        assert screen.point_index == 1
        await pilot.press("backspace")
        assert "rejected suggestion from kp-model" in str(screen.query_one("#message").render())
        assert "suggested" not in screen.tool_text()
    assert on_disk(proj, image).keypoints == (mine,)  # labels untouched by the reject
    assert suggestions.get(proj, image, "admin") is None
