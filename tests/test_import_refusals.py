"""Malformed or inconsistent import files are refused with a clear error that names the
file and value, and nothing in the project changes (every file is validated first)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qclabel.errors import FormatError, PermissionDenied
from qclabel.formats import dataset_for, export_dataset, import_labels
from test_formats_common import make_box_project
from test_formats_common import tree_digest


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refusals")
    project = make_box_project(tmp)
    exports = {
        fmt: export_dataset(
            dataset_for(project),
            fmt,
            tmp / f"x-{fmt}",
            link="none" if fmt != "tfrecord" else "copy",
        ).out
        for fmt in ("coco", "yolo", "voc", "csv", "jsonl")
    }
    return project, exports


@pytest.fixture
def copy_of(base, tmp_path):
    """A private copy of one export, to damage."""

    def _copy(fmt: str) -> Path:
        dest = tmp_path / fmt
        shutil.copytree(base[1][fmt], dest)
        return dest

    return _copy


def refused(project, fmt, src, match, user="admin", **where):
    before = tree_digest(project.root)
    where = where or {"as_user": "bob"}
    with pytest.raises(FormatError, match=match):
        import_labels(project, fmt, src, user, **where)
    assert tree_digest(project.root) == before  # nothing written, not even partly


def test_bad_json(base, copy_of):
    src = copy_of("coco")
    (src / "annotations" / "instances_train.json").write_text('{"images": [')
    refused(base[0], "coco", src, r"instances_train.json: not valid JSON")


def test_unknown_class_names_file_and_value(base, copy_of):
    src = copy_of("coco")
    f = src / "annotations" / "instances_train.json"
    doc = json.loads(f.read_text())
    doc["categories"][1]["name"] = "rust"
    f.write_text(json.dumps(doc))
    refused(
        base[0],
        "coco",
        src,
        r"instances_train.json: box class = 'rust': not in the "
        r"taxonomy",
    )


def test_box_outside_image(base, copy_of):
    src = copy_of("yolo")
    (src / "labels" / "train" / "b.txt").write_text("2 0.950000 0.5 0.300000 0.1\n")
    refused(base[0], "yolo", src, r"b.txt: box crack at .* is outside the 48x64 image")


def test_yolo_class_index_out_of_range(base, copy_of):
    src = copy_of("yolo")
    (src / "labels" / "train" / "a.txt").write_text("9 0.5 0.5 0.1 0.1\n")
    refused(base[0], "yolo", src, r"a.txt:1: class = 9: not an index 0..5")


def test_missing_image(base, copy_of):
    src = copy_of("voc")
    xml = (src / "Annotations" / "c.xml").read_text().replace("c.png", "zz.png")
    (src / "Annotations" / "c.xml").write_text(xml)
    refused(base[0], "voc", src, r"c.xml: image 'zz.png' is not in the project's catalog")


def test_swapped_size_of_rotated_image_is_caught(base, copy_of):
    src = copy_of("coco")
    f = src / "annotations" / "instances_train.json"
    doc = json.loads(f.read_text())
    doc["images"][1]["width"], doc["images"][1]["height"] = 64, 48  # the EXIF bug
    f.write_text(json.dumps(doc))
    refused(base[0], "coco", src, r"size 64x48 of 'b.png' differs from the catalog's 48x64")


def test_bad_row_late_in_the_file_refuses_the_earlier_rows_too(base, copy_of):
    src = copy_of("csv")
    lines = (src / "objects.csv").read_text().splitlines()
    lines[-1] = lines[-1].replace("crack", "rust")
    (src / "objects.csv").write_text("\n".join(lines) + "\n")
    refused(base[0], "csv", src, r"box class = 'rust'")


def test_jsonl_bad_line(base, copy_of):
    src = copy_of("jsonl")
    with open(src / "objects.jsonl", "a") as fh:
        fh.write("{not json\n")
    refused(base[0], "jsonl", src, r"objects.jsonl:4: not valid JSON")


def test_invalid_severity(base, copy_of):
    src = copy_of("csv")
    text = (src / "objects.csv").read_text().replace("minor", "huge")
    (src / "objects.csv").write_text(text)
    refused(base[0], "csv", src, r"severity = 'huge': class scratch has \['minor', 'major'\]")


def test_labelme_linestrip_is_refused(base, tmp_path):
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "imagePath": "a.png",
                "shapes": [
                    {"label": "dent", "shape_type": "linestrip", "points": [[1, 1], [5, 1], [5, 5]]}
                ],
            }
        )
    )
    refused(base[0], "labelme", tmp_path / "a.json", r"shape_type = 'linestrip' with 3 points")


def test_only_an_admin_imports_as_another_annotator(base):
    project, exports = base
    before = tree_digest(project.root)
    with pytest.raises(PermissionDenied, match="admin"):
        import_labels(project, "coco", exports["coco"], "mallory", as_user="alice")
    assert tree_digest(project.root) == before


def test_target_must_be_named_once(base):
    project, exports = base
    refused(
        project,
        "coco",
        exports["coco"],
        "--as USER or --predictions NAME",
        as_user="bob",
        predictions="m",
    )


def test_ambiguous_file_name_is_refused(base, tmp_path):
    import numpy as np
    from PIL import Image
    from qclabel.ingest import ingest_paths

    exports = base[1]
    project = make_box_project(tmp_path)  # its own project: this one gets a second a.png
    other = tmp_path / "other"
    other.mkdir()
    Image.fromarray(np.full((80, 100, 3), 3, np.uint8)).save(other / "a.png")
    ingest_paths(project, [other], workers=1)
    refused(project, "voc", exports["voc"], r"a.xml: image 'a.png' matches 2 catalog images")
