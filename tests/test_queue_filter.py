"""Queue filters: `--queue 'lot=L07'`, in the app with `:`, parsed with one-line errors,
matching ingest fields, file globs, and only the annotator's own labels."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from qclabel.core.model import Annotation, Box
from qclabel.core.queue_filter import parse_queue
from qclabel.project import Project
from qclabel.tui.app import build_app
from qclabel.tui.labeling import QUEUES, Labeler
from test_tui_support import make_project, settle


@pytest.fixture
def proj(tmp_path):
    project = make_project(tmp_path)
    cat = project.store.catalog
    recs = cat.all()
    lots = ["L07", "L07", "L08", "L07", "L09", "L08"]
    stations = ["S1", "S2", "S2", "S3", "S1", "S2"]
    cat.update(
        dataclasses.replace(r, fields={**r.fields, "lot": lot, "station": st})
        for r, lot, st in zip(recs, lots, stations)
    )
    return Project.open(project.root)


def labeler(project, user="admin") -> Labeler:
    return Labeler(project, project.store.open_session(user))


def lots(project, ids):
    return [project.store.catalog.get(i).fields["lot"] for i in ids]


def test_parse_and_one_line_errors():
    spec = parse_queue("all, station=S2|S3 ,lot!=L09", QUEUES)
    assert spec.name == "all" and str(spec) == "all,station=S2|S3,lot!=L09"
    assert parse_queue("lot=L07", QUEUES).name is None
    for bad, word in (
        ("everything", "queue 'everything'"),
        ("all,mine", "two queues"),
        ("lot=", "key=value"),
        ("=x", "key=value"),
        ("state=done", "state is one of"),
    ):
        with pytest.raises(ValueError, match=word):
            parse_queue(bad, QUEUES)


def test_field_filters_alternatives_and_exclusion(proj):
    lab = labeler(proj)
    try:
        lab.load_queue("all,lot=L07")
        assert lots(proj, lab.queue) == ["L07", "L07", "L07"]
        order = proj.store.catalog.ids()
        assert lab.queue == [i for i in order if i in lab.queue]  # catalog order kept
        lab.load_queue("all,lot=L07|L09,station!=S1")
        assert [proj.store.catalog.get(i).fields["station"] for i in lab.queue] == ["S2", "S3"]
        lab.load_queue("all,camera=c1")  # a field no image has: none
        assert lab.queue == []
        name = proj.store.catalog.get(order[2]).file.rsplit("/", 1)[-1]
        lab.load_queue(f"all,file={name[:3]}*")
        assert order[2] in lab.queue
    finally:
        lab.session.close()


def test_class_and_state_filters_see_only_own_labels(proj):
    proj.add_role("admin", "bob", "annotator")
    ids = proj.store.catalog.ids()
    bob = proj.store.open_session("bob")
    from qclabel.core.edits import Change

    bob.commit(Change(ids[0], Annotation(), Annotation(verdict="fail", defect_class="crack")))
    bob.close()
    lab = labeler(proj)
    try:
        lab.apply(
            ids[1],
            lambda a: dataclasses.replace(a, verdict="fail", boxes=(Box("crack", 1, 1, 9, 9),)),
        )
        lab.load_queue("all,class=crack")
        assert lab.queue == [ids[1]]  # bob's crack is not revealed
        lab.load_queue("all,state=unlabeled")
        assert ids[1] not in lab.queue and ids[0] in lab.queue
    finally:
        lab.session.close()


async def test_cli_spec_resumes_and_the_app_filters_with_colon(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="classification", queue="all,lot=L08")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert lots(proj, app.labeler.queue) == ["L08", "L08"]
        await pilot.press("colon")
        await pilot.pause()
        for ch in "station=S1":
            await pilot.press({"=": "equals_sign"}.get(ch, ch))
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.labeler.queue_name == "all"  # the queue stays, filter replaced
        assert [proj.store.catalog.get(i).fields["station"] for i in app.labeler.queue] == [
            "S1",
            "S1",
        ]
        await pilot.press("slash")  # cycling keeps the filter
        await settle(pilot, app)
        assert app.labeler.queue_terms and str(app.labeler.queue_terms[0]) == "station=S1"
        await pilot.press("q")
    again = build_app(Project.open(proj.root), "admin", graphics="halfcell", task="classification")
    async with again.run_test(size=(100, 30)) as pilot:  # resumes with its filter
        await settle(pilot, again)
        assert again.labeler.queue_terms and str(again.labeler.queue_terms[0]) == "station=S1"
        await pilot.press("q")


def test_a_bad_spec_on_the_command_line_is_one_line(proj):
    from qclabel.cli import main

    res = CliRunner().invoke(main, ["label", str(proj.root), "--queue", "lot"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "queue 'lot'" in res.output


async def test_an_empty_filtered_queue_names_its_filter(proj):
    app = build_app(proj, "admin", graphics="halfcell", task="classification", queue="all,lot=L99")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert app.labeler.queue == []
        text = app.screen.empty_text()
        assert "all,lot=L99" in text and "press :" in text
        await pilot.press("q")


def test_the_demo_project_has_the_fields_its_file_names_carry(tmp_path):
    from qclabel.demo import make_demo_project

    project = make_demo_project(tmp_path / "demo")
    recs = project.store.catalog.all()
    assert all(r.fields.get("lot") and r.fields.get("station") for r in recs)
    spec = parse_queue("all,lot=L07", QUEUES)
    assert 0 < sum(spec.matches(r) for r in recs) <= len(recs)
