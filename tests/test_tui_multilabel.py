"""Multi-label image classification in the real app: `+` then a class key adds a
further class, again removes it; pass clears them; undo; exports and re-import keep
them; the queue's class filter sees them."""

from __future__ import annotations

from qclabel.core.model import Annotation
from qclabel.project import Project
from qclabel.tui.app import build_app
from test_tui_classify import on_disk, start
from test_tui_support import SIZE, make_project, settle


async def test_plus_then_class_key_adds_and_removes_a_further_class(tmp_path):
    proj = make_project(tmp_path)
    app = build_app(proj, "admin", graphics="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        first = app.labeler.current
        await pilot.press("1", "2")  # scratch (major): advances
        await pilot.press("b", "plus", "2")  # back; + dent
        await settle(pilot, app)
        ann = on_disk(proj)[first]
        assert (ann.defect_class, ann.severity, ann.also) == ("scratch", "major", ("dent",))
        assert app.labeler.current == first  # adding does not advance
        assert "+ dent" in str(app.screen.query_one("#labels").render())
        await pilot.press("plus", "3")  # + crack
        await pilot.press("plus", "1")  # scratch is the main class already
        await settle(pilot, app)
        assert on_disk(proj)[first].also == ("dent", "crack")
        assert "already the main class" in str(app.screen.query_one("#message").render())
        await pilot.press("plus", "2")  # the same key again: dent removed
        await settle(pilot, app)
        assert on_disk(proj)[first].also == ("crack",)
        await pilot.press("u")  # undo brings dent back
        await settle(pilot, app)
        assert on_disk(proj)[first].also == ("dent", "crack")
        await pilot.press("plus", "z")  # not a class key: zoom, nothing added
        await settle(pilot, app)
        assert on_disk(proj)[first].also == ("dent", "crack")
        await pilot.press("p")  # pass clears every class
        await settle(pilot, app)
        ann = on_disk(proj)[first]
        assert (ann.verdict, ann.defect_class, ann.also) == ("pass", None, ())


def test_further_classes_round_trip_through_csv_and_keep_old_bytes(tmp_path):
    from click.testing import CliRunner

    from qclabel.cli import main
    from qclabel.core.edits import Change

    old = Annotation(verdict="fail", defect_class="dent", severity="minor")
    assert "also" not in old.to_dict()  # older labels keep their bytes
    proj = make_project(tmp_path)
    proj.add_role("admin", "root", "admin")  # the exporting OS user
    ids = proj.store.catalog.ids()
    session = proj.store.open_session("admin")
    session.commit(
        Change(
            ids[0],
            Annotation(),
            Annotation(
                verdict="fail", defect_class="scratch", severity="major", also=("dent", "crack")
            ),
        )
    )
    session.close()
    out = tmp_path / "csv"
    res = CliRunner().invoke(
        main, ["export", str(proj.root), "--format", "csv", "--out", str(out), "--images", "none"]
    )
    assert res.exit_code == 0, res.output
    import csv

    rows = {r["image_id"]: r for r in csv.DictReader((out / "images.csv").open())}
    assert rows[ids[0]]["also"] == "dent;crack"
    from qclabel.formats import tabular

    templates = {t.name: t for t in proj.taxonomy.keypoint_templates}
    back = tabular.parse(out, "csv", templates)
    assert back[ids[0]][2].also == ("dent", "crack")
    assert back[ids[0]][2].defect_class == "scratch"


def test_queue_class_filter_and_consistency_see_further_classes(tmp_path):
    from qclabel.core import consistency
    from qclabel.core.edits import Change
    from qclabel.tui.labeling import Labeler

    proj = make_project(tmp_path)
    ids = proj.store.catalog.ids()
    lab = Labeler(proj, proj.store.open_session("admin"))
    try:
        lab.session.commit(
            Change(
                ids[1],
                Annotation(),
                Annotation(verdict="fail", defect_class="scratch", also=("burr",)),
            )
        )
        lab.load_queue("all,class=burr")
        assert lab.queue == [ids[1]]
    finally:
        lab.session.close()
    bad = Annotation(verdict="fail", defect_class="scratch", also=("no-such-class",))
    assert any(
        "no-such-class" in f.detail
        for f in consistency.check(bad, Project.open(proj.root).taxonomy)
    )
