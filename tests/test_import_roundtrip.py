"""export -> import -> export gives the same files, for every importable format; labelme
import; predictions become suggestions that are accepted or rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qclabel.core.model import Box
from qclabel.formats import dataset_for, export_dataset, import_labels, suggestions
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from test_formats_common import by_name, make_box_project, make_keypoint_project
from test_formats_golden import label_files, normalize

ROUND_TRIP = [
    ("boxes", "coco", "detect"),
    ("boxes", "yolo", "detect"),
    ("boxes", "voc", "detect"),
    ("boxes", "csv", "detect"),
    ("boxes", "jsonl", "detect"),
    ("keypoints", "yolo", "pose"),
    ("keypoints", "coco", "detect"),
    ("keypoints", "jsonl", "detect"),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    return tmp, {"boxes": make_box_project(tmp), "keypoints": make_keypoint_project(tmp)}


def fresh_copy(project: Project, dest: Path) -> Project:
    """A new project with the same taxonomy and images, and no labels."""
    taxonomy = project.taxonomy.name
    new = Project.init(dest, taxonomy, user="admin")
    new.add_role("admin", "alice", "annotator")
    sources = sorted({str(Path(r.source).parent) for r in project.store.catalog.all()})
    ingest_paths(new, [Path(s) for s in sources], workers=1)
    return new


@pytest.mark.parametrize("kind,fmt,task", ROUND_TRIP)
def test_export_import_export_is_identical(kind, fmt, task, sources):
    tmp, projects = sources
    original = projects[kind]
    first = export_dataset(
        dataset_for(original), fmt, tmp / f"1-{kind}-{fmt}-{task}", task=task
    ).out
    copy = fresh_copy(original, tmp / f"copy-{kind}-{fmt}-{task}")
    report = import_labels(copy, fmt, first, "admin", as_user="alice")
    assert report.images == 3 if kind == "boxes" else 2
    second = export_dataset(dataset_for(copy), fmt, tmp / f"2-{kind}-{fmt}-{task}", task=task).out
    a = {k: normalize(v, original) for k, v in label_files(first).items()}
    b = {k: normalize(v, copy) for k, v in label_files(second).items()}
    assert a == b
    events = [json.loads(x) for x in (copy.root / "labels" / "alice.jsonl").open()]
    assert all(e["note"] == f"imported from {first}" for e in events)


def test_reimporting_the_same_file_changes_nothing(sources):
    tmp, projects = sources
    out = export_dataset(dataset_for(projects["boxes"]), "coco", tmp / "again").out
    copy = fresh_copy(projects["boxes"], tmp / "copy-again")
    copy.add_role("admin", "bob", "annotator")
    assert import_labels(copy, "coco", out, "admin", as_user="bob").changed == 3
    copy.add_role("admin", "bob", "annotator")
    assert import_labels(copy, "coco", out, "admin", as_user="bob").changed == 0


def test_labelme_import(sources, tmp_path):
    _, projects = sources
    copy = fresh_copy(projects["keypoints"], tmp_path / "lm")
    doc = {
        "version": "5.4.1",
        "imagePath": "../ksrc/a.png",
        "imageWidth": 100,
        "imageHeight": 80,
        "shapes": [
            {
                "label": "missing-component",
                "shape_type": "rectangle",
                "points": [[60, 60], [40, 40]],
                "group_id": None,
            },
            {"label": "hole_left", "shape_type": "point", "points": [[20, 30]], "group_id": 1},
            {"label": "tab_tip", "shape_type": "point", "points": [[50, 10]], "group_id": 1},
        ],
    }
    src = tmp_path / "labelme"
    src.mkdir()
    (src / "a.json").write_text(json.dumps(doc))
    copy.add_role("admin", "carol", "annotator")
    import_labels(copy, "labelme", src, "admin", as_user="carol")
    ann = copy.store.state("carol").annotation(by_name(copy)["a.png"])
    assert [(b.cls, b.x, b.y, b.w, b.h) for b in ann.boxes] == [
        ("missing-component", 40, 40, 20, 20)
    ]
    (kps,) = ann.keypoints
    assert kps.template == "bracket" and kps.cls == "bracket"
    assert [(p.name, p.x, p.y, p.v) for p in kps.points] == [
        ("hole_left", 20, 30, 2),
        ("hole_right", 0, 0, 0),
        ("tab_tip", 50, 10, 2),
        ("screw", 0, 0, 0),
    ]


def test_predictions_become_suggestions_accepted_or_rejected(sources, tmp_path):
    tmp, projects = sources
    out = export_dataset(dataset_for(projects["boxes"]), "yolo", tmp / "preds").out
    copy = fresh_copy(projects["boxes"], tmp_path / "pred")
    copy.add_role("admin", "dave", "annotator")
    report = import_labels(copy, "yolo", out, "dave", predictions="model-7")
    assert report.images == 3
    assert copy.store.users() == []  # nobody's labels changed
    a = by_name(copy)["a.png"]
    sug = suggestions.get(copy, a)
    assert sug.source == "model-7"
    assert [b.cls for b in suggestions.suggestion_for(copy, a).boxes] == ["scratch", "dent"]
    with copy.store.open_session("dave") as session:
        change = suggestions.accept(sug, session.annotation(a))
        session.commit(change, note=suggestions.accept_note(sug))
    ann = copy.store.state("dave").annotation(a)
    assert [(b.cls, round(b.x, 3), round(b.w, 3)) for b in ann.boxes] == [
        ("scratch", 10, 30),
        ("dent", 60, 40),
    ]
    event = json.loads((copy.root / "labels" / "dave.jsonl").read_text().splitlines()[-1])
    assert event["note"] == "accepted suggestion from model-7"
    b = by_name(copy)["b.jpg"]
    suggestions.reject(copy, suggestions.get(copy, b, "dave"), "dave")
    assert suggestions.get(copy, b, "dave") is None
    assert suggestions.get(copy, b, "erin") is not None  # hidden only for dave


def test_accept_keeps_the_operators_own_labels(sources, tmp_path):
    from qclabel.core.model import Annotation

    sug = suggestions.Suggestion(
        "img",
        "m",
        Annotation(verdict="fail", defect_class="dent", boxes=(Box("dent", 1, 1, 5, 5, id="s"),)),
    )
    mine = Annotation(verdict="fail", defect_class="crack", boxes=(Box("crack", 9, 9, 2, 2),))
    change = suggestions.accept(sug, mine)
    assert change.before == mine
    assert change.after.defect_class == "crack"
    assert [b.cls for b in change.after.boxes] == ["crack", "dent"]


def test_yolo_predict_output_with_confidence_and_min_score(sources, tmp_path):
    """`yolo predict save_txt save_conf`: a labels folder, no data.yaml, class indices
    in taxonomy order (the model was trained on our export), a 6th value per row."""
    _, projects = sources
    copy = fresh_copy(projects["boxes"], tmp_path / "p")
    preds = tmp_path / "predict" / "labels"
    preds.mkdir(parents=True)
    (preds / "a.txt").write_text("0 0.25 0.34375 0.3 0.1875 0.91\n1 0.8 0.8125 0.4 0.375 0.30\n")
    (preds / "b.txt").write_text("2 0.208333 0.234375 0.208333 0.3125 0.55\n")
    report = import_labels(copy, "yolo", preds, "admin", predictions="yolo11n", min_score=0.5)
    assert report.images == 2
    a = suggestions.get(copy, by_name(copy)["a.png"])
    assert [b.cls for b in a.annotation.boxes] == ["scratch"] and a.scores == (0.91,)
    (box,) = a.annotation.boxes
    assert (round(box.x, 3), round(box.y, 3), round(box.w, 3), round(box.h, 3)) == (10, 20, 30, 15)
    b = suggestions.get(copy, by_name(copy)["b.jpg"])  # scaled by the canonical 48x64
    assert round(b.annotation.boxes[0].h, 2) == 20.0 and b.scores == (0.55,)
    (preds / "b.txt").write_text("2 0.2 0.2 0.2 0.3 0.55\n2 0.5 0.5 0.1 0.1\n")
    from qclabel.errors import FormatError

    with pytest.raises(FormatError, match="some rows have a confidence value"):
        import_labels(copy, "yolo", preds, "admin", predictions="again")
