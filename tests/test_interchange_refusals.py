"""Hostile or broken CVAT XML and Label Studio JSON: one clear line each, nothing
written. XML bombs, external entities and DTDs are refused before anything expands;
mask sizes and run lengths are checked before anything is allocated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_formats_common import make_box_project, tree_digest

from qclabel.cli import main
from qclabel.errors import FormatError
from qclabel.formats import dataset_for, export_dataset, import_labels

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = (DATA / "cvat_metal.xml").read_text()
BOMB = """<?xml version="1.0"?>
<!DOCTYPE annotations [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<annotations><version>1.1</version><image id="0" name="&d;" width="1" height="1"/>
</annotations>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE annotations [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<annotations><image id="0" name="a.png" width="100" height="80"><tag label="&x;"/></image>
</annotations>"""


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ix-refusals")
    project = make_box_project(tmp)
    ls = export_dataset(dataset_for(project), "labelstudio", tmp / "ls", link="none").out
    return project, json.loads((ls / "tasks.json").read_text())


def refused(project, fmt, src, match):
    before = tree_digest(project.root)
    with pytest.raises(FormatError, match=match) as info:
        import_labels(project, fmt, src, "admin", as_user="bob")
    assert "\n" not in str(info.value)
    assert tree_digest(project.root) == before


def cvat(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "annotations.xml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text,match",
    [
        (BOMB, "DOCTYPE declaration is refused"),
        (EXTERNAL, "DOCTYPE declaration is refused"),
        ("<annotations><image", "not well-formed XML"),
        ("", "not well-formed XML"),
        ("<voc/>", r"root element <voc>: expected <annotations>"),
        (
            SAMPLE.replace('rle="0, 2, 1, 3, 3, 3"', 'rle="0, 2, 1, 3, 3, 4"'),
            r"runs add up to 13 pixels, not the 4x3 = 12",
        ),
        (
            SAMPLE.replace('rle="0, 2, 1, 3, 3, 3"', 'rle="0, 2, -1, 3, 5, 3"'),
            r"or a run is negative",
        ),
        (
            SAMPLE.replace('width="4" height="3"', 'width="400000000" height="300000000"'),
            r"mask at left=5 top=60 400000000x300000000 is not inside the 100x80 image",
        ),
        (SAMPLE.replace('rle="0, 2, 1, 3, 3, 3"', 'rle="zero"'), "comma-separated run"),
        (SAMPLE.replace('xtl="10.00"', 'xtl="nan"'), r"box xtl = 'nan': expected a number"),
        (SAMPLE.replace('xbr="40.00"', 'xbr="4000.00"'), r"box scratch .* is outside the"),
        (SAMPLE.replace('name="a.png"', 'name="zz.png"'), "'zz.png' is not in the project"),
        (SAMPLE.replace('width="48"', 'width="64"'), "size 64x64 of 'b.jpg' differs"),
        (SAMPLE.replace('label="scratch" source', 'label="rust" source'), "'rust': not in"),
        (
            SAMPLE.replace('<tag label="pass"', '<tag label="golden"'),
            "image tag 'golden' is neither a verdict",
        ),
        (
            SAMPLE.replace(
                'z_order="0">\n      <attribute name="severity">minor',
                'rotation="30" z_order="0">\n      <attribute name="severity">minor',
            ),
            "a rotated box",
        ),
        (
            SAMPLE.replace("<polygon ", "<polyline ").replace("</polygon>", "</polyline>"),
            "CVAT polyline shapes have no counterpart",
        ),
        (SAMPLE.replace('points="60.00,50.00;', 'points="60.00;'), "expected 'x,y;x,y"),
        (
            SAMPLE.replace('<image id="2"', '<track id="0" label="dent"></track><image id="2"'),
            "CVAT for video",
        ),
        (
            SAMPLE.replace(
                '<attribute name="severity">minor</attribute>',
                '<attribute name="severity">tiny</attribute>',
                1,
            ),
            "severity = 'tiny'",
        ),
    ],
)
def test_bad_cvat_files(base, tmp_path, text, match):
    refused(base[0], "cvat", cvat(tmp_path, text), match)


def ls_file(tmp_path: Path, tasks) -> Path:
    path = tmp_path / "tasks.json"
    path.write_text(tasks if isinstance(tasks, str) else json.dumps(tasks))
    return path


def with_result(tasks, n: int, **changes):
    """A copy of `tasks` with result `n` of the first task changed (None deletes)."""
    out = json.loads(json.dumps(tasks))
    res = out[0]["predictions"][0]["result"][n]
    for k, v in changes.items():
        if k.startswith("value_"):
            res["value"][k[6:]] = v
        else:
            res[k] = v
    return out


BRUSH = {
    "id": "m1",
    "type": "brushlabels",
    "from_name": "brush",
    "to_name": "image",
    "original_width": 100,
    "original_height": 80,
    "value": {"format": "rle", "brushlabels": ["dent"], "rle": []},
}


def with_brush(tasks, rle):
    out = json.loads(json.dumps(tasks))
    out[0]["predictions"][0]["result"].append({**BRUSH, "value": {**BRUSH["value"], "rle": rle}})
    return out


def test_bad_label_studio_files(base, tmp_path):
    project, tasks = base
    import numpy as np

    from qclabel.formats import ls_brush

    good = ls_brush.encode(np.ones((80, 100), bool))
    small = ls_brush.encode(np.ones((8, 10), bool))
    cases = [
        ('[{"data": ', "not valid JSON"),
        ('"tasks"', "expected a list of Label Studio tasks"),
        ([{"data": {"image": "/data/upload/1/zz.png"}}], "'zz.png' is not in the project"),
        ([{"data": {}}], "data.image"),
        (with_result(tasks, 0, original_width=101), "original size 101x80 differs"),
        (with_result(tasks, 0, type="ellipselabels"), "'ellipselabels' has no counterpart"),
        (with_result(tasks, 0, value_rotation=45), "rotated rectangle"),
        (with_result(tasks, 0, value_x="10"), r"value.x = '10': expected a number"),
        (with_result(tasks, 0, value_rectanglelabels=["a", "b"]), "expected one label"),
        (with_result(tasks, 0, value_x=95.0), r"is outside the 100x80 image"),
        (with_result(tasks, 0, value=None), "field value missing"),
        (with_brush(tasks, small), "holds 320 values, but the image needs 32000"),
        (with_brush(tasks, good[:8]), "ends in the middle of a value"),
        (with_brush(tasks, [300] + good[1:]), "expected a list of bytes"),
        (with_brush(tasks, "AAAA"), "expected a list of bytes"),
        # a header claiming 32000 values, then one run of 65536 repeats
        (with_brush(tasks, good[:7] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), "goes past its"),
    ]
    for n, (doc, match) in enumerate(cases):
        (tmp_path / str(n)).mkdir()
        refused(project, "labelstudio", ls_file(tmp_path / str(n), doc), match)


def test_cli_prints_one_line_for_a_bomb(base, tmp_path, as_user):
    as_user("admin")
    path = cvat(tmp_path, BOMB)
    r = CliRunner().invoke(
        main, ["import", str(base[0].root), str(path), "--format", "cvat", "--as", "bob"]
    )
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("qclabel: error: ")
    assert "DOCTYPE" in r.stderr


def test_folder_without_the_file_is_named(base, tmp_path):
    (tmp_path / "empty").mkdir()
    refused(base[0], "cvat", tmp_path / "empty", "no annotations.xml")
    refused(base[0], "labelstudio", tmp_path / "empty", "no tasks.json")
    shutil.rmtree(tmp_path / "empty")


def test_huge_values_are_not_echoed_and_limits_hold(base, tmp_path):
    long = "9" * 100_000
    path = cvat(tmp_path, SAMPLE.replace('width="100"', f'width="{long}"'))
    before = tree_digest(base[0].root)
    with pytest.raises(FormatError, match="expected an integer") as info:
        import_labels(base[0], "cvat", path, "admin", as_user="bob")
    assert len(str(info.value)) < 400
    from qclabel.formats.safe_xml import parse_xml

    with pytest.raises(FormatError, match="larger than 0 MB"):
        parse_xml(path, limit=1000)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError, match="nested too deeply|nested deeper"):
        import_labels(base[0], "labelstudio", deep, "admin", as_user="bob")
    assert tree_digest(base[0].root) == before
