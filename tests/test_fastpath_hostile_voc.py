"""VOC (and CVAT) annotation files are XML 1.0, which cannot hold every character a label or a
file name can: a severity or verdict with a control character (an annotator can
record any text into their own journal) or a source file named with one made the
export report success over files no XML parser reads. Such a value is one clear
line naming the image and the character, and nothing is written; every character
XML can hold goes through and reads back as written."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from qclabel.errors import FormatError
from qclabel.formats import export_project
from qclabel.formats.voc import read_attributes
from qclabel.project import Project

from test_qa_support import qa_project


def _box(**over: Any) -> dict[str, Any]:
    box = {"cls": "dent", "x": 1.5, "y": 2.0, "w": 4.0, "h": 3.0, "severity": "minor", "id": "b"}
    return {**box, **over}


def _label(**over: Any) -> dict[str, Any]:
    base = dict(verdict="fail", defect_class=None, severity=None, boxes=[_box()], keypoints=[])
    return {**base, "checks": [], "flag": None, "skipped": False, **over}


def _project(tmp_path: Path, after: dict[str, Any]) -> tuple[Project, str]:
    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    image = p.store.catalog.ids()[0]
    with p.store.open_session("ann1") as s:
        s.record("label", image, None, after)
    return Project.open(p.root), image


@pytest.mark.parametrize(
    "after",
    [
        _label(boxes=[_box(severity="\x01")]),
        _label(boxes=[_box(severity="minor\x00")]),
        _label(boxes=[_box(severity="\x1b[31mred")]),
        _label(boxes=[_box(severity="ok\ufffe")]),
        _label(severity="\x07", defect_class="dent"),
        _label(verdict="fail\x0b"),
    ],
    ids=range(6),
)
def test_a_character_xml_cannot_hold_is_refused(tmp_path: Path, after: dict[str, Any]) -> None:
    p, image = _project(tmp_path, after)
    for fmt in ("voc", "cvat"):  # CVAT's XML too
        with pytest.raises(FormatError, match=r"image .*part_0000\.png: .*XML cannot hold") as e:
            export_project(p, fmt, tmp_path / fmt, link="none")
        assert "\n" not in str(e.value)
        assert not (tmp_path / fmt).exists()


def test_what_xml_can_hold_reads_back_as_written(tmp_path: Path) -> None:
    odd = 'a"b\\c\u2028é<&>]]>\t"boxes":[]\U0001f600'
    p, image = _project(tmp_path, _label(boxes=[_box(severity=odd)], defect_class="dent"))
    export_project(p, "voc", tmp_path / "voc", link="none")
    root = ET.parse(tmp_path / "voc" / "Annotations" / "part_0000.xml").getroot()
    (obj,) = root.findall("object")
    assert read_attributes(obj) == {"occluded": "false", "severity": odd.strip()}
    assert obj.findtext("bndbox/xmin") == "3" and obj.findtext("bndbox/ymax") == "5"


@pytest.mark.parametrize("name", [b"a\x01b.png", b"line\nbreak.png"], ids=["ctrl", "newline"])
def test_a_file_name_voc_cannot_list_is_refused(tmp_path: Path, name: bytes) -> None:
    """XML cannot hold a control character, and the image sets are one stem a line."""
    from PIL import Image

    from qclabel.ingest import ingest_paths

    src = tmp_path / "src"
    src.mkdir()
    Image.new("L", (20, 10), 3).save(os.fsdecode(os.fsencode(src) + b"/" + name), format="PNG")
    p = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    p.add_role("admin", "ann1", "annotator")
    ingest_paths(p, [src], workers=1)
    p = Project.open(p.root)
    with p.store.open_session("ann1") as s:
        s.record("label", p.store.catalog.ids()[0], None, _label())
    with pytest.raises(FormatError, match="XML cannot hold"):
        export_project(p, "voc", tmp_path / "voc", link="none")
    assert not (tmp_path / "voc").exists()
    export_project(p, "coco", tmp_path / "coco", link="none")  # JSON holds them
