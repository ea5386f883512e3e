"""CVAT for images 1.1 XML and Label Studio JSON: qclabel -> tool -> qclabel keeps every
box, keypoint, mask (pixel for pixel), class and severity; hand-written CVAT files
following CVAT's documented layout import; Label Studio's brush RLE matches the
reference implementation (label_studio_converter.brush) byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mask_projects import make_mask_project
from test_formats_common import by_name, make_box_project, make_keypoint_project
from test_import_roundtrip import fresh_copy

from qclabel.formats import dataset_for, export_dataset, import_labels, ls_brush
from qclabel.formats.safe_xml import parse_xml

DATA = Path(__file__).resolve().parent / "data"
FORMATS = ("cvat", "labelstudio")
LABEL_FILE = {"cvat": "annotations.xml", "labelstudio": "tasks.json"}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interchange")
    return tmp, {
        "boxes": make_box_project(tmp / "b"),
        "keypoints": make_keypoint_project(tmp / "k"),
        "masks": make_mask_project(tmp / "m"),
    }


def labels_by_name(project, user="alice"):
    cat = project.store.catalog
    return {
        Path(cat.get(i).source).name: a for i, a in project.store.state(user).annotations().items()
    }


def final_by_name(project):
    """The exported view of the labels: boxes and masks clipped to the image."""
    ds = dataset_for(project)
    from qclabel.formats.masks_common import export_masks

    return {Path(i.record.source).name: (i, ds.boxes(i), export_masks(ds, i)) for i in ds.images}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["boxes", "keypoints", "masks"])
def test_round_trip_keeps_every_label(projects, kind, fmt):
    tmp, all_projects = projects
    original = all_projects[kind]
    first = export_dataset(dataset_for(original), fmt, tmp / f"1-{kind}-{fmt}").out
    copy = fresh_copy(original, tmp / f"copy-{kind}-{fmt}")
    report = import_labels(copy, fmt, first, "admin", as_user="alice")
    assert report.images == len(dataset_for(original).images)
    got = labels_by_name(copy)
    for name, (image, boxes, masks) in final_by_name(original).items():
        ann, new = image.annotation, got[name]
        assert (new.verdict, new.defect_class, new.severity) == (
            ann.verdict,
            ann.defect_class,
            ann.severity,
        ), name
        assert [(b.cls, b.x, b.y, b.w, b.h, b.severity) for b in new.boxes] == [
            (b.cls, b.x, b.y, b.w, b.h, b.severity) for b in boxes
        ], name
        assert [(k.template, k.cls, k.points) for k in new.keypoints] == [
            (k.template, k.cls, k.points) for k in ann.keypoints
        ], name
        w, h = image.record.width, image.record.height
        assert len(new.masks) == len(masks), name
        for a, b in zip(masks, new.masks):
            assert (b.cls, b.severity, b.polygons) == (a.cls, a.severity, a.polygons)
            assert np.array_equal(a.full(w, h), b.full(w, h)), f"{name}: {a.id} pixels"
    second = export_dataset(dataset_for(copy), fmt, tmp / f"2-{kind}-{fmt}").out
    if fmt == "labelstudio":  # region ids are the object ids: the same file comes back

        def results(out):
            return [
                t["predictions"][0]["result"] for t in json.loads((out / "tasks.json").read_text())
            ]

        assert results(first) == results(second)
    assert import_labels(copy, fmt, second, "admin", as_user="alice").changed == 0


def test_masks_exercise_both_encodings(projects, tmp_path):
    """The mask project has painted masks (CVAT mask RLE / LS brush) and a polygon."""
    _, all_projects = projects
    out = export_dataset(dataset_for(all_projects["masks"]), "cvat", tmp_path / "c").out
    root = parse_xml(out / "annotations.xml")
    assert root.findall(".//mask") and root.findall(".//polygon")
    assert root.findtext("version") == "1.1"
    holey = [m for m in root.findall(".//mask") if "0, " not in m.get("rle")[:3]]
    assert holey  # runs start with the unset count
    out = export_dataset(dataset_for(all_projects["masks"]), "labelstudio", tmp_path / "l").out
    kinds = {
        r["type"]
        for t in json.loads((out / "tasks.json").read_text())
        for r in t["predictions"][0]["result"]
    }
    assert {"brushlabels", "polygonlabels", "choices"} <= kinds


def test_label_studio_config_declares_every_control(projects, tmp_path):
    _, all_projects = projects
    out = export_dataset(dataset_for(all_projects["keypoints"]), "labelstudio", tmp_path / "l").out
    view = parse_xml(out / "labeling_config.xml")
    names = {el.get("name") for el in view}
    tasks = json.loads((out / "tasks.json").read_text())
    used = {r["from_name"] for t in tasks for r in t["predictions"][0]["result"]}
    assert used <= names
    points = {el.get("value") for el in view.find("KeyPointLabels")}
    assert points == {"hole_left", "hole_right", "tab_tip", "screw"}
    assert tasks[0]["data"]["image"].startswith("/data/local-files/?d=images/")


# -- hand-written CVAT files, in CVAT's documented layout --------------------------------
def test_hand_written_cvat_file_imports(projects, tmp_path):
    _, all_projects = projects
    copy = fresh_copy(all_projects["boxes"], tmp_path / "copy")
    copy.add_role("admin", "carol", "annotator")
    import_labels(copy, "cvat", DATA / "cvat_metal.xml", "admin", as_user="carol")
    got = labels_by_name(copy, "carol")
    a = got["a.png"]
    assert a.verdict == "fail"
    assert [(b.cls, b.x, b.y, b.w, b.h, b.severity) for b in a.boxes] == [
        ("scratch", 10, 20, 30, 15, "minor")
    ]
    dent, pores = a.masks
    assert (dent.cls, dent.severity, dent.polygons) == (
        "dent",
        "major",
        ((60.0, 50.0, 90.0, 52.5, 80.0, 70.0),),
    )
    expected = np.zeros((80, 100), np.uint8)
    expected[60:63, 5:9] = [[1, 1, 0, 1], [1, 1, 0, 0], [0, 1, 1, 1]]
    assert (pores.cls, pores.severity) == ("porosity", None)
    assert np.array_equal(pores.full(100, 80), expected)
    b = got["b.jpg"]
    assert (b.verdict, b.defect_class, b.severity) == ("fail", "crack", "critical")
    assert [(x.cls, x.w, x.h, x.severity) for x in b.boxes] == [("crack", 10, 20, "critical")]
    assert got["c.png"].verdict == "pass" and not got["c.png"].has_objects


def test_hand_written_cvat_skeleton_and_points(projects, tmp_path):
    _, all_projects = projects
    copy = fresh_copy(all_projects["keypoints"], tmp_path / "copy")
    copy.add_role("admin", "carol", "annotator")
    import_labels(copy, "cvat", DATA / "cvat_assembly.xml", "admin", as_user="carol")
    got = labels_by_name(copy, "carol")
    (kps,) = got["a.png"].keypoints  # skeleton label found by its point names
    assert (kps.template, kps.cls) == ("bracket", "bracket")
    assert [(p.name, p.x, p.y, p.v) for p in kps.points] == [
        ("hole_left", 20, 30, 2),
        ("hole_right", 80, 30, 1),
        ("tab_tip", 50, 10, 2),
        ("screw", 0, 0, 0),
    ]  # outside = unlabeled, whatever its coordinates
    assert [b.cls for b in got["a.png"].boxes] == ["missing-component"]
    (plain,) = got["c.png"].keypoints
    assert [(p.name, p.x, p.y, p.v) for p in plain.points] == [
        ("hole_left", 1, 2, 2),
        ("hole_right", 3, 4, 2),
        ("tab_tip", 5, 6, 2),
        ("screw", 7, 8, 2),
    ]


# -- Label Studio brush RLE against label_studio_converter.brush ----------------------------
@pytest.fixture(scope="module")
def reference():
    """Made by label_studio_converter 0.0.59: brush.mask2rle of the mask (0/255), and
    brush.encode_rle of the RGBA raster the editor paints (label colour, alpha 255)."""
    d = json.loads((DATA / "ls_brush_reference.json").read_text())
    d["mask"] = np.array([[c == "1" for c in row] for row in d["mask_rows"]])
    return d


def test_brush_encode_is_the_reference_byte_for_byte(reference):
    assert ls_brush.encode(reference["mask"]) == reference["mask2rle"]
    big = np.ones((100, 200), bool)
    big[0, 0] = False  # one run of 79996 values: split at 65536 as the reference does
    assert ls_brush.encode(big) == reference["big_200x100_all_set_but_0_0"]


@pytest.mark.parametrize("key", ["mask2rle", "encode_rle_rgba_255_64_0_255"])
def test_brush_decode_reads_the_reference(reference, key):
    got = ls_brush.decode(reference[key], reference["width"], reference["height"], "t")
    assert np.array_equal(got, reference["mask"])


def test_brush_decode_uses_alpha_not_rgb():
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., :3] = 200  # colour everywhere
    rgba[1, 2, 3] = 255  # alpha only at (x=2, y=1)
    got = ls_brush.decode(ls_brush.encode_values(rgba.ravel()), 4, 3, "t")
    assert got.tolist() == [[False] * 4, [False, False, True, False], [False] * 4]


# -- Label Studio files made by Label Studio, not by us ------------------------------------
def _region(rid, kind, value, w=100, h=80, **extra):
    return {
        "id": rid,
        "type": kind,
        "from_name": "tag",
        "to_name": "image",
        "original_width": w,
        "original_height": h,
        "image_rotation": 0,
        "value": value,
        **extra,
    }


def test_label_studio_export_of_its_own_annotations(projects, tmp_path, reference):
    """An upload-prefixed image, a cancelled and a kept annotation, keypoints without
    parentID, a brush painted in the editor's colour (RGBA) and an image choice."""
    _, all_projects = projects
    copy = fresh_copy(all_projects["keypoints"], tmp_path / "copy")
    rgba = np.zeros((80, 100, 4), np.uint8)
    rgba[10:20, 30:35] = (255, 64, 0, 255)
    from qclabel.formats.ls_brush import encode_values

    kept = [
        _region(
            "r1",
            "rectanglelabels",
            {
                "x": 40,
                "y": 50,
                "width": 20,
                "height": 25,
                "rotation": 0,
                "rectanglelabels": ["missing-component"],
            },
        ),
        _region(
            "p1",
            "keypointlabels",
            {"x": 20, "y": 37.5, "width": 0.8, "keypointlabels": ["hole_left"]},
        ),
        _region(
            "p2",
            "keypointlabels",
            {"x": 50, "y": 12.5, "width": 0.8, "keypointlabels": ["tab_tip"]},
        ),
        _region(
            "b1",
            "brushlabels",
            {
                "format": "rle",
                "rle": encode_values(rgba.ravel()),
                "brushlabels": ["missing-component"],
            },
        ),
        {
            "id": "c1",
            "type": "choices",
            "from_name": "qc",
            "to_name": "image",
            "value": {"choices": ["fail"]},
        },
        {"id": "rel", "type": "relation", "from_id": "p1", "to_id": "p2", "direction": "right"},
    ]
    tasks = [
        {
            "id": 5,
            "data": {"img": "/data/upload/3/8f2c1a9e-a.png"},
            "annotations": [
                {"id": 1, "was_cancelled": True, "result": []},
                {"id": 2, "was_cancelled": False, "result": kept},
            ],
            "predictions": [{"model_version": "m", "result": []}],
        }
    ]
    (tmp_path / "ls.json").write_text(json.dumps(tasks))
    copy.add_role("admin", "erin", "annotator")
    import_labels(copy, "labelstudio", tmp_path / "ls.json", "admin", as_user="erin")
    ann = labels_by_name(copy, "erin")["a.png"]
    assert ann.verdict == "fail"
    assert [(b.cls, b.x, b.y, b.w, b.h, b.id) for b in ann.boxes] == [
        ("missing-component", 40, 40, 20, 20, "r1")
    ]
    (kps,) = ann.keypoints
    assert [(p.name, p.x, p.y, p.v) for p in kps.points] == [
        ("hole_left", 20, 30, 2),
        ("hole_right", 0, 0, 0),
        ("tab_tip", 50, 10, 2),
        ("screw", 0, 0, 0),
    ]
    (mask,) = ann.masks
    assert (mask.left, mask.top, mask.width, mask.height, mask.area) == (30, 10, 5, 10, 50)


def test_label_studio_predictions_keep_scores(projects, tmp_path):
    _, all_projects = projects
    copy = fresh_copy(all_projects["boxes"], tmp_path / "copy")
    copy.add_role("admin", "dave", "annotator")
    box = {
        "x": 10,
        "y": 25,
        "width": 30,
        "height": 18.75,
        "rotation": 0,
        "rectanglelabels": ["scratch"],
    }
    tasks = [
        {
            "data": {"image": "s3://bucket/line4/a.png"},
            "predictions": [
                {
                    "model_version": "det-3",
                    "score": 0.4,
                    "result": [
                        _region("x1", "rectanglelabels", box, score=0.9),
                        _region("x2", "rectanglelabels", {**box, "x": 50}),
                    ],
                }
            ],
        }
    ]
    (tmp_path / "p.json").write_text(json.dumps(tasks))
    import_labels(
        copy, "labelstudio", tmp_path / "p.json", "dave", predictions="det-3", min_score=0.5
    )
    from qclabel.formats import suggestions

    sug = suggestions.suggestion_for(copy, by_name(copy)["a.png"])
    assert [(b.cls, b.x, b.y, b.w, b.h) for b in sug.boxes] == [("scratch", 10, 20, 30, 15)]


def test_cli_export_and_import(projects, tmp_path, as_user):
    from click.testing import CliRunner

    from qclabel.cli import main

    _, all_projects = projects
    as_user("admin")
    source = all_projects["boxes"]
    copy = fresh_copy(source, tmp_path / "copy")
    for fmt in FORMATS:
        copy.add_role("admin", f"u{fmt}", "annotator")
        out = tmp_path / fmt
        r = CliRunner().invoke(
            main,
            ["export", str(source.root), "--format", fmt, "--out", str(out), "--images", "none"],
        )
        assert r.exit_code == 0, r.stderr
        assert (out / LABEL_FILE[fmt]).is_file() and (out / "qclabel_version.json").is_file()
        r = CliRunner().invoke(
            main,
            [
                "import",
                str(copy.root),
                str(out / LABEL_FILE[fmt]),
                "--format",
                fmt,
                "--as",
                f"u{fmt}",
            ],
        )
        assert r.exit_code == 0, r.stderr
        assert "imported 3 images" in r.stdout


def test_unlabeled_images_stay_unlabeled(projects, tmp_path):
    """CVAT lists every image of a task; one without a tag or shape was not labeled.
    A Label Studio task without annotations or predictions was not labeled either,
    while a submitted empty annotation means nothing was found: pass."""
    _, all_projects = projects
    copy = fresh_copy(all_projects["boxes"], tmp_path / "copy")
    copy.add_role("admin", "carol", "annotator")
    xml = (
        (DATA / "cvat_metal.xml")
        .read_text()
        .replace('<tag label="pass" source="manual">\n    </tag>\n', "")
    )
    (tmp_path / "a.xml").write_text(xml)
    report = import_labels(copy, "cvat", tmp_path / "a.xml", "admin", as_user="carol")
    assert report.changed == 2
    assert "c.png" not in labels_by_name(copy, "carol")
    tasks = [
        {"data": {"image": "/data/upload/1/a.png"}, "annotations": []},
        {"data": {"image": "/data/upload/1/c.png"}, "annotations": [{"id": 9, "result": []}]},
    ]
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    copy.add_role("admin", "erin", "annotator")
    report = import_labels(copy, "labelstudio", tmp_path / "t.json", "admin", as_user="erin")
    assert report.images == 1
    assert {n: a.verdict for n, a in labels_by_name(copy, "erin").items()} == {"c.png": "pass"}
