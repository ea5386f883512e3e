"""Export file names stay unique within a split however the source files are named:
a stem already taken gets the image id added, and a name taken even then (a source
file named like another image's renamed stem: ids are content hashes, so anyone
who can drop files into a source folder can name one so) must not be given twice,
or one image's label file is written over another's (YOLO) or two images share a
`file_name` (COCO)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from qclabel.core.edits import Change
from qclabel.errors import FormatError
from qclabel.core.model import Annotation, Box, ImageRecord
from qclabel.formats import export_project
from qclabel.formats.export_names import _unique_name
from qclabel.ingest import ingest_paths
from qclabel.project import Project


def _rec(image_id: str, source: str) -> ImageRecord:
    return ImageRecord(image_id, "0" * 64, source, source, 10, 10)


def test_no_name_is_given_twice() -> None:
    recs = [
        _rec("eeeeeeee66666666", "/c/a_bbbbbbbb.png"),  # named like b's renamed stem
        _rec("aaaaaaaa11111111", "/a/a.png"),
        _rec("bbbbbbbb22222222", "/b/a.png"),
        _rec("cccccccc33333333", "/d/a.png"),
        _rec("cccccccc44444444", "/e/a.png"),  # the first 8 of its id are c's
        _rec("dddddddd55555555", "/f/a_cccccccc.png"),
    ]
    used: set[str] = set()
    names = [_unique_name(r, used) for r in recs]
    assert len(set(names)) == len(names), names
    # the names given before stay what they were
    assert names[:2] == ["a_bbbbbbbb.png", "a.png"] and names[3] == "a_cccccccc.png"


def _png(path: Path, value: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("L", (40, 30), 0)
    im.putpixel((value % 40, 3), 255)
    im.save(path)
    return path


def _crafted(tmp_path: Path) -> tuple[Project, dict[int, str]]:
    """Three images whose names collide once the second `a.png` gets its id added."""
    probe = Project.init(tmp_path / "probe", "metal-stamping", user="admin")
    ingest_paths(probe, [_png(tmp_path / "probe-src" / "x.png", 2)], workers=1)
    victim_id = probe.store.catalog.ids()[0]  # the id the second a.png will have
    p = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    p.add_role("admin", "ann1", "annotator")
    first = _png(tmp_path / "s1" / f"a_{victim_id[:8]}.png", 3)
    for path in (first, _png(tmp_path / "s2" / "a.png", 1), _png(tmp_path / "s3" / "a.png", 2)):
        ingest_paths(p, [path], workers=1)  # in this order: the catalog's
    p = Project.open(p.root)
    ids = dict(enumerate(p.store.catalog.ids()))
    assert ids[2] == victim_id
    with p.store.open_session("ann1") as s:
        for n, image in ids.items():
            box = Box("dent", 1.0 + n, 2.0, 5.0, 4.0, "minor", id=f"b{n}")
            s.commit(Change(image, Annotation(), Annotation(verdict="fail", boxes=(box,))))
    return Project.open(p.root), ids


def test_yolo_label_files_are_one_per_image(tmp_path: Path) -> None:
    p, ids = _crafted(tmp_path)
    export_project(p, "yolo", tmp_path / "yolo", link="copy")
    labels = sorted((tmp_path / "yolo" / "labels" / "train").iterdir())
    images = sorted((tmp_path / "yolo" / "images" / "train").iterdir())
    assert len(labels) == len(images) == 3, [f.name for f in labels]
    # each image's own box, once: x centre (1 + n + 2.5) / 40
    xs = sorted(float(f.read_text().split()[1]) for f in labels)
    assert xs == [round((1 + n + 2.5) / 40, 6) for n in range(3)]


def test_coco_file_names_are_unique_and_read_back(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    p, ids = _crafted(tmp_path)
    export_project(p, "coco", tmp_path / "coco", link="copy")
    path = tmp_path / "coco" / "annotations" / "instances_train.json"
    coco = COCO(str(path))
    names = [coco.imgs[i]["file_name"] for i in coco.getImgIds()]
    assert len(set(names)) == 3, names
    assert len(list((tmp_path / "coco" / "images" / "train").iterdir())) == 3
    for img_id in coco.getImgIds():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img_id]))
        assert len(anns) == 1
    assert json.loads(path.read_text())["annotations"][0]["bbox"] == [1.0, 2.0, 5.0, 4.0]


def test_a_source_name_that_is_not_utf8_gets_one_name_every_format_can_write(
    tmp_path: Path,
) -> None:
    """A camera share's latin-1 file name arrives as lone surrogates: every format
    writes the same valid name for it (the bytes spelled out, as the catalog's index
    does), where COCO, VOC, CSV and JSONL stopped with a traceback."""
    import xml.etree.ElementTree as ET

    from pycocotools.coco import COCO

    src = tmp_path / "src"
    src.mkdir()
    _png(Path(os.fsdecode(os.fsencode(src) + b"/bad\xff.png")), 4)
    _png(src / "good.png", 5)
    p = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    p.add_role("admin", "ann1", "annotator")
    ingest_paths(p, [src], workers=1)
    p = Project.open(p.root)
    with p.store.open_session("ann1") as s:
        for n, image in enumerate(p.store.catalog.ids()):
            box = Box("dent", 1.0 + n, 2.0, 5.0, 4.0, "minor", id=f"b{n}")
            s.commit(Change(image, Annotation(), Annotation(verdict="fail", boxes=(box,))))
    for fmt in ("coco", "voc", "csv", "jsonl", "yolo"):
        export_project(p, fmt, tmp_path / fmt, link="copy")
    want = "bad\\udcff.png"
    coco = COCO(str(tmp_path / "coco" / "annotations" / "instances_train.json"))
    assert sorted(i["file_name"] for i in coco.imgs.values()) == [want, "good.png"]
    assert (tmp_path / "coco" / "images" / "train" / want).is_file()
    xml = ET.parse(tmp_path / "voc" / "Annotations" / "bad\\udcff.xml").getroot()
    assert xml.findtext("filename") == want
    assert f"images/train/{want}" in (tmp_path / "csv" / "images.csv").read_text(encoding="utf-8")
    assert (tmp_path / "yolo" / "labels" / "train" / "bad\\udcff.txt").is_file()


def test_import_finds_each_image_by_the_name_its_export_gave() -> None:
    """The whole id (and a number after it) names the image as the first 8 digits do."""
    from qclabel.formats.importing import Matcher

    recs = [
        _rec("eeeeeeee66666666", "/c/a_bbbbbbbb.png"),
        _rec("aaaaaaaa11111111", "/a/a.png"),
        _rec("bbbbbbbb22222222", "/b/a.png"),
        _rec("bbbbbbbb77777777", "/g/b.png"),
    ]
    used: set[str] = set()
    names = [_unique_name(r, used) for r in recs]
    assert names[2] == "a_bbbbbbbb22222222.png"
    match = Matcher(recs)
    assert match.find(names[0], None, "f").id == "eeeeeeee66666666"
    assert match.find(names[2], None, "f").id == "bbbbbbbb22222222"
    assert match.find("a_bbbbbbbb22222222_2.png", None, "f").id == "bbbbbbbb22222222"
    assert match.find("x_aaaaaaaa.png", None, "f").id == "aaaaaaaa11111111"
    for unknown in ("x_bbbbbbbb.png", "x_bbbbbbbb2222.png", "x_12.png", "_aaaaaaaa11111111.png"):
        with pytest.raises(FormatError):  # two ids start so, no whole id, no id, no stem
            match.find(unknown, None, "f")
