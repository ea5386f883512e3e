"""A corpus of hostile import files: each gets one `qclabel: error:` line and exit code 2
from the real CLI, quickly, and the project folder stays byte-identical. Covers the
shapes that used to crash or slip through: a COCO top-level array, `file_name` as a
list, 200k-deep nesting, 5000-digit numbers, YOLO class `nan`/`inf`, non-UTF-8 files,
labelme shapes as strings or null, odd or exponential ("billion laughs") data.yaml,
NaN coordinates that were accepted and later dropped from exports."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from test_formats_common import make_box_project, tree_digest

DEEP = "[" * 200_000 + "]" * 200_000
DIGITS = "9" * 5000
NOT_UTF8 = b"\xff\xfe\x00garbage \xc3\x28 \xa0\xa1"
LAUGHS = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}]\n"
        for i in range(8)
    )
    + "names: *i\n"
)
XML_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i + 1} "{("&lol" + (str(i) if i else "") + ";") * 10}">' for i in range(9)
    )
    + "]>\n<annotation><filename>&lol9;</filename></annotation>\n"
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    project = make_box_project(tmp)
    from qclabel.formats import dataset_for, export_dataset

    exports = {
        fmt: export_dataset(dataset_for(project), fmt, tmp / f"x-{fmt}", link="none").out
        for fmt in ("coco", "yolo", "voc", "csv", "jsonl")
    }
    return project, exports


def coco_doc(**images) -> dict:
    im = {"id": 1, "file_name": "a.png", "width": 100, "height": 80, **images}
    return {
        "images": [im],
        "categories": [{"id": 1, "name": "scratch"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 15]}],
    }


def coco_with(annotation: dict) -> str:
    doc = coco_doc()
    doc["annotations"][0].update(annotation)
    return json.dumps(doc)


def labelme(shapes) -> str:
    return json.dumps(
        {"imagePath": "a.png", "imageWidth": 100, "imageHeight": 80, "shapes": shapes}
    )


RECT = {"label": "scratch", "shape_type": "rectangle", "points": [[10, 20], [40, 35]]}

# (format, file to write relative to the source folder, content, expected message)
CASES: dict[str, tuple[str, str, str | bytes, str]] = {
    "coco top-level array": (
        "coco",
        "annotations/instances_train.json",
        "[]",
        "the top level = \\[\\]: expected an object",
    ),
    "coco top-level null": (
        "coco",
        "annotations/instances_train.json",
        "null",
        "expected an object",
    ),
    "coco file_name list": (
        "coco",
        "annotations/instances_train.json",
        json.dumps(coco_doc(file_name=["a.png"])),
        "file_name = \\['a.png'\\]: expected a non-empty string",
    ),
    "coco file_name null": (
        "coco",
        "annotations/instances_train.json",
        json.dumps(coco_doc(file_name=None)),
        "file_name = None",
    ),
    "coco image as string": (
        "coco",
        "annotations/instances_train.json",
        json.dumps({**coco_doc(), "images": ["a.png"]}),
        "images\\[0\\] = 'a.png': expected an object",
    ),
    "coco annotation null": (
        "coco",
        "annotations/instances_train.json",
        json.dumps({**coco_doc(), "annotations": [None]}),
        "annotations\\[0\\] = None",
    ),
    "coco deep nesting": (
        "coco",
        "annotations/instances_train.json",
        DEEP,
        "nested too deeply|nested deeper",
    ),
    "coco 5000-digit id": (
        "coco",
        "annotations/instances_train.json",
        json.dumps(coco_doc()).replace('"id": 1,', f'"id": {DIGITS},', 1),
        "number with 5000 digits",
    ),
    "coco 5000-digit bbox": (
        "coco",
        "annotations/instances_train.json",
        coco_with({"bbox": [10, 20, 30, 15]}).replace(
            "[10, 20, 30, 15]", f"[10, 20, {DIGITS}.5, 15]"
        ),
        "number with 5002 characters",
    ),
    "coco NaN bbox": (
        "coco",
        "annotations/instances_train.json",
        coco_with({"bbox": [10, 20, 30, 15]}).replace("[10, 20", "[NaN, 20"),
        "NaN is not a number JSON allows",
    ),
    "coco Infinity bbox": (
        "coco",
        "annotations/instances_train.json",
        coco_with({}).replace("[10, 20", "[Infinity, 20"),
        "Infinity is not a number",
    ),
    "coco 1e999 bbox": (
        "coco",
        "annotations/instances_train.json",
        coco_with({}).replace("[10, 20", "[1e999, 20"),
        "out of range",
    ),
    "coco bbox strings": (
        "coco",
        "annotations/instances_train.json",
        coco_with({"bbox": ["10", "20", "30", "15"]}),
        "bbox\\[0\\] = '10': expected a number",
    ),
    "coco bbox bool": (
        "coco",
        "annotations/instances_train.json",
        coco_with({"bbox": [True, 20, 30, 15]}),
        "expected a number",
    ),
    "coco category id list": (
        "coco",
        "annotations/instances_train.json",
        json.dumps({**coco_doc(), "categories": [{"id": [1], "name": "scratch"}]}),
        "categories\\[0\\].id",
    ),
    "coco image_id object": (
        "coco",
        "annotations/instances_train.json",
        coco_with({"image_id": {"a": 1}}),
        "image_id = {'a': 1}",
    ),
    "coco duplicate file_name": (
        "coco",
        "annotations/instances_train.json",
        json.dumps(
            {
                **coco_doc(),
                "images": [coco_doc()["images"][0], {**coco_doc()["images"][0], "id": 2}],
            }
        ),
        "file_name = 'a.png' is listed twice",
    ),
    "coco duplicate image id": (
        "coco",
        "annotations/instances_train.json",
        json.dumps(
            {
                **coco_doc(),
                "images": [
                    coco_doc()["images"][0],
                    {**coco_doc()["images"][0], "file_name": "b.jpg"},
                ],
            }
        ),
        "id = 1 is used twice",
    ),
    "coco not UTF-8": ("coco", "annotations/instances_train.json", NOT_UTF8, "not UTF-8 text"),
    "coco empty": ("coco", "annotations/instances_train.json", "", "not valid JSON"),
    "coco giant polygon": (
        "coco",
        "annotations/instances_train.json",
        coco_with({"segmentation": [[0, 0, 1e9, 0, 0, 1e9]]}),
        "polygon spans",
    ),
    "coco giant RLE": (
        "coco",
        "annotations/instances_train.json",
        json.dumps(
            {
                **json.loads(
                    coco_with({"segmentation": {"size": [10**6, 10**6], "counts": [10**12]}})
                ),
                "images": [{"id": 1, "file_name": "a.png"}],
            }
        ),
        "RLE size",
    ),
    "yolo class nan": (
        "yolo",
        "labels/train/a.txt",
        "nan 0.5 0.5 0.1 0.1\n",
        "a.txt:1: .*NaN, inf",
    ),
    "yolo class inf": (
        "yolo",
        "labels/train/a.txt",
        "inf 0.5 0.5 0.1 0.1\n",
        "NaN, inf and numbers",
    ),
    "yolo coordinate nan": (
        "yolo",
        "labels/train/a.txt",
        "0 nan 0.5 0.1 0.1\n",
        "NaN, inf and numbers",
    ),
    "yolo width -inf": (
        "yolo",
        "labels/train/a.txt",
        "0 0.5 0.5 -inf 0.1\n",
        "NaN, inf and numbers",
    ),
    "yolo 1e999": ("yolo", "labels/train/a.txt", "0 0.5 0.5 1e999 0.1\n", "NaN, inf and numbers"),
    "yolo not UTF-8": ("yolo", "labels/train/a.txt", NOT_UTF8, "a.txt: not UTF-8 text"),
    "yolo NUL bytes": ("yolo", "labels/train/a.txt", "0 0.5\x00 0.5 0.1 0.1\n", "NUL"),
    "yolo 5000 digits": (
        "yolo",
        "labels/train/a.txt",
        f"0 0.5{DIGITS} 0.5 0.1 0.1\n",
        "numbers of over 40 characters",
    ),
    "yolo long but valid": (
        "yolo",
        "labels/train/a.txt",
        "0 0.5000000000000000001 0.5 0.1 0.1\n",
        None,
    ),
    "data.yaml billion laughs": ("yolo", "data.yaml", LAUGHS, "aliases"),
    "data.yaml top-level list": ("yolo", "data.yaml", "- a\n- b\n", "field names = None"),
    "data.yaml names string": ("yolo", "data.yaml", "names: scratch\n", "field names = 'scratch'"),
    "data.yaml mixed keys": (
        "yolo",
        "data.yaml",
        "names: {0: a, x: b}\n",
        "names keys must be 0..1",
    ),
    "data.yaml nested names": ("yolo", "data.yaml", "names: [{a: 1}, [b]]\n", "is not a string"),
    "data.yaml kpt_shape string": (
        "yolo",
        "data.yaml",
        "names: [a]\nkpt_shape: x\n",
        "kpt_shape = 'x'",
    ),
    "data.yaml kpt_shape nan": (
        "yolo",
        "data.yaml",
        "names: [a]\nkpt_shape: [.nan, 3]\n",
        "kpt_shape = \\[nan, 3\\]",
    ),
    "data.yaml invalid": ("yolo", "data.yaml", "names: [\n", "not valid YAML"),
    "data.yaml deep": ("yolo", "data.yaml", "names: " + "[" * 100_000, "YAML"),
    "data.yaml huge": (
        "yolo",
        "data.yaml",
        "names: [a]\n" + "#" * (2 << 20) + "\n",
        "larger than 1 MB",
    ),
    "data.yaml not UTF-8": ("yolo", "data.yaml", NOT_UTF8, "not UTF-8"),
    "data.yaml python tag": (
        "yolo",
        "data.yaml",
        "names: !!python/object/apply:os.system [true]\n",
        "not valid YAML",
    ),
    "voc entity expansion": ("voc", "Annotations/a.xml", XML_LAUGHS, "DOCTYPE"),
    "voc xmin nan": ("voc", "Annotations/a.xml", "xmin>nan<", "xmin = 'nan': not a finite"),
    "voc xmax inf": ("voc", "Annotations/a.xml", "xmax>inf<", "xmax = 'inf': not a finite"),
    "voc 5000-digit width": ("voc", "Annotations/a.xml", f"width>{DIGITS}<", "size/width = '9999"),
    "voc not XML": ("voc", "Annotations/a.xml", NOT_UTF8, "not a readable VOC XML"),
    "labelme shapes string": (
        "labelme",
        "a.json",
        json.dumps({"imagePath": "a.png", "shapes": "rectangle"}),
        "field shapes missing",
    ),
    "labelme shapes null": (
        "labelme",
        "a.json",
        json.dumps({"imagePath": "a.png", "shapes": None}),
        "field shapes missing",
    ),
    "labelme shape string": (
        "labelme",
        "a.json",
        labelme(["rectangle"]),
        "shapes\\[0\\] = 'rectangle': expected an object",
    ),
    "labelme shape null": ("labelme", "a.json", labelme([None]), "shapes\\[0\\] = None"),
    "labelme points null": (
        "labelme",
        "a.json",
        labelme([{**RECT, "points": None}]),
        "points = None: expected a list",
    ),
    "labelme points strings": (
        "labelme",
        "a.json",
        labelme([{**RECT, "points": "ab"}]),
        "points = 'ab'",
    ),
    "labelme point 1e999": (
        "labelme",
        "a.json",
        labelme([{**RECT}]).replace("[10, 20]", "[1e999, 20]"),
        "out of range",
    ),
    "labelme point text": (
        "labelme",
        "a.json",
        labelme([{**RECT, "points": [["1", "x"], [3, 4]]}]),
        "points\\[0\\] = '1': expected a number",
    ),
    "labelme label null": ("labelme", "a.json", labelme([{**RECT, "label": None}]), "label = None"),
    "labelme imagePath list": (
        "labelme",
        "a.json",
        json.dumps({"imagePath": ["a.png"], "shapes": [RECT]}),
        "imagePath = \\['a.png'\\]",
    ),
    "labelme group_id list": (
        "labelme",
        "a.json",
        labelme([{**RECT, "group_id": [1]}]),
        "group_id = \\[1\\]",
    ),
    "labelme shape_type list": (
        "labelme",
        "a.json",
        labelme([{**RECT, "shape_type": ["x"]}]),
        "shape_type = \\['x'\\]",
    ),
    "csv x nan": ("csv", "objects.csv", "x=nan", "x = 'nan': not a finite number"),
    "csv w inf": ("csv", "objects.csv", "w=inf", "w = 'inf': not a finite number"),
    "csv not UTF-8": ("csv", "images.csv", NOT_UTF8, "images.csv: not UTF-8"),
    "csv extra cells": ("csv", "objects.csv", "extra", "more or fewer cells"),
    "jsonl NaN": ("jsonl", "objects.jsonl", "x=NaN", "NaN is not a number JSON allows"),
    "jsonl line array": (
        "jsonl",
        "objects.jsonl",
        "line=[1, 2]",
        "objects.jsonl:1: the line = \\[1, 2\\]",
    ),
    "jsonl deep line": ("jsonl", "images.jsonl", "line=" + DEEP, "nested"),
    "jsonl unknown kind": (
        "jsonl",
        "objects.jsonl",
        "kind=circle",
        "kind = 'circle': expected box, keypoints or mask",
    ),
    "jsonl verdict list": ("jsonl", "images.jsonl", "verdict=[1]", "verdict = \\[1\\]"),
}


def _edit(path: Path, fmt: str, content: str | bytes) -> None:
    """Write `content`, or apply a small edit to the existing file: 'x=nan' sets a
    column of the first object row, 'line=...' replaces the first line, VOC
    'tag>value<' replaces a tag's value."""
    if (
        isinstance(content, bytes)
        or content == ""
        or fmt in ("coco", "labelme", "yolo")
        or content.startswith("<?xml")
    ):
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return
    text = path.read_text()
    if fmt == "voc":
        tag, value = content.rstrip("<").split(">")
        start = text.index(f"<{tag}>") + len(tag) + 2
        path.write_text(text[:start] + value + text[text.index(f"</{tag}>", start) :])
    elif content == "extra":
        lines = text.splitlines()
        path.write_text("\n".join([lines[0], lines[1] + ",extra", *lines[2:]]) + "\n")
    elif fmt == "csv":
        col, value = content.split("=", 1)
        lines = text.splitlines()
        head = lines[0].split(",")
        cells = lines[1].split(",")
        cells[head.index(col)] = value
        path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    else:
        key, value = content.split("=", 1)
        lines = text.splitlines()
        if key == "line":
            lines[0] = value
        else:
            row = json.loads(lines[0])
            row[key] = (
                "@@" if value == "NaN" else json.loads(value) if value.startswith("[") else value
            )
            lines[0] = json.dumps(row).replace('"@@"', "NaN")
        path.write_text("\n".join(lines) + "\n")


def _source(base, tmp_path: Path, fmt: str) -> Path:
    if fmt == "labelme":
        src = tmp_path / "labelme"
        src.mkdir()
        return src
    src = tmp_path / fmt
    shutil.copytree(base[1][fmt], src)
    if fmt == "yolo":  # hand-edited label files, as another tool writes them: no sidecar
        (src / "qclabel_attributes.json").unlink(missing_ok=True)
    return src


def run_import(project, src: Path, fmt: str):
    return CliRunner().invoke(
        main, ["import", str(project.root), str(src), "--format", fmt, "--as", "bob"]
    )


def assert_one_line_refusal(result, code: int = 2, match: str | None = None) -> str:
    import re

    assert not isinstance(result.exception, (Exception,)) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qclabel: error: "), result.stderr
    assert len(lines[0]) < 400, lines[0]
    if match:
        assert re.search(match, lines[0]), lines[0]
    return lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_import_is_one_line_and_changes_nothing(case, base, tmp_path, as_user):
    as_user("admin")
    project = base[0]
    fmt, rel, content, match = CASES[case]
    src = _source(base, tmp_path, fmt)
    (src / rel).parent.mkdir(parents=True, exist_ok=True)
    _edit(src / rel, fmt, content)
    before = tree_digest(project.root)
    start = time.monotonic()
    result = run_import(project, src, fmt)
    assert time.monotonic() - start < 10
    if match is None:  # valid after all: imported as usual
        assert result.exit_code == 0, result.stderr
        return
    assert_one_line_refusal(result, 2, match)
    assert tree_digest(project.root) == before


def test_nan_can_not_be_recorded_through_the_python_api(base, tmp_path):
    """The journal never holds NaN: `record` refuses it before anything is written."""
    from qclabel.errors import InvalidGeometry

    project = base[0]
    image = project.store.catalog.all()[0].id
    before = tree_digest(project.root)
    after = {
        "verdict": "fail",
        "boxes": [{"cls": "crack", "x": float("nan"), "y": 1, "w": 2, "h": 2, "id": "n1"}],
    }
    with project.store.open_session("carol") as s:
        with pytest.raises(InvalidGeometry, match="nan is not a finite number"):
            s.record("label", image, None, after)
        with pytest.raises(InvalidGeometry):
            s.record("final", image, None, {"x": float("inf")})
    journal = project.root / "labels" / "carol.jsonl"
    assert not journal.exists() or b"NaN" not in journal.read_bytes()
    assert {k: v for k, v in tree_digest(project.root).items() if "carol" not in k} == {
        k: v for k, v in before.items() if "carol" not in k
    }


@pytest.mark.parametrize(
    "make",
    [
        lambda: __import__("qclabel.core.model", fromlist=["Box"]).Box(
            "crack", 1, float("nan"), 2, 2
        ),
        lambda: __import__("qclabel.core.model", fromlist=["Box"]).Box(
            "crack", 1, 1, float("inf"), 2
        ),
        lambda: __import__("qclabel.core.model", fromlist=["Keypoint"]).Keypoint(
            "tip", float("-inf"), 2, 2
        ),
        lambda: __import__("qclabel.core.mask", fromlist=["Mask"]).Mask.from_polygons(
            "crack", [[0, 0, float("nan"), 0, 5, 5]]
        ),
        lambda: __import__("qclabel.core.mask", fromlist=["Mask"]).Mask.from_dict(
            {"cls": "crack", "rle": "11", "left": float("nan"), "top": 0, "width": 2, "height": 1}
        ),
    ],
)
def test_objects_with_nan_or_inf_cannot_be_built(make: Callable):
    from qclabel.errors import QclabelError

    with pytest.raises(QclabelError, match="finite"):
        make()


def test_a_nan_label_from_an_older_journal_is_named_not_dropped(tmp_path, monkeypatch):
    """Journals written before NaN was refused: readers name the user and image (one
    line, exit 2) instead of exporting the image without its box; the annotator's
    relabel supersedes it and everything works again."""
    from qclabel.core.model import Annotation, Box
    from qclabel.core.edits import Change
    from qclabel.store import session as session_mod

    project = make_box_project(tmp_path)
    project.add_role("admin", "root", "admin")
    image = project.store.catalog.all()[0].id
    with monkeypatch.context() as m:  # what the older version let through
        m.setattr(session_mod, "refuse_non_finite", lambda *a: None)
        with project.store.open_session("bob") as s:
            s.record(
                "label",
                image,
                None,
                {
                    "verdict": "fail",
                    "boxes": [
                        {"cls": "crack", "x": float("nan"), "y": 1, "w": 2, "h": 2, "id": "n1"}
                    ],
                },
            )
    runner = CliRunner()
    for args in (
        ["status", str(project.root)],
        ["export", str(project.root), "--format", "coco", "--out", str(tmp_path / "out")],
    ):
        line = assert_one_line_refusal(runner.invoke(main, args), 2)
        assert f"labels/bob.jsonl: the label of image {image} holds box crack: x = nan" in line
    assert not (tmp_path / "out").exists()
    with project.store.open_session("bob") as s:  # bob relabels the image
        s.commit(
            Change(
                image, Annotation(), Annotation(verdict="fail", boxes=(Box("crack", 1, 1, 2, 2),))
            )
        )
    assert runner.invoke(main, ["status", str(project.root)]).exit_code == 0


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_source_is_refused_at_once(base, special, as_user):
    as_user("admin")
    start = time.monotonic()
    for fmt in ("coco", "labelme", "yolo"):
        result = run_import(base[0], Path(special), fmt)
        line = assert_one_line_refusal(result, 2)
        assert "not a regular file" in line or "no YOLO label files" in line, line
    assert time.monotonic() - start < 10
