"""The export's fast paths give what the ordinary paths give, and leave what they were
not written for to them: catalog records read a page at a time, final labels of
boxes built without `Annotation.from_dict`, clipped box numbers without a Box each,
attribute texts made once per distinct attributes, YOLO rows and VOC objects."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from qclabel.core import edits
from qclabel.core.geometry import to_voc
from qclabel.core.model import Annotation, Box, ImageRecord
from qclabel.formats import voc, yolo_attrs
from qclabel.formats.attributes import AttributeTexts, image_attributes, object_attributes
from qclabel.formats.dataset import Dataset, ExportImage
from qclabel.formats.yolo import _detect_text
from qclabel.qa import final_build
from qclabel.qa.decisions import adjudicate, review
from qclabel.qa.final import final_labels
from qclabel.store import catalog_db

from test_qa_support import label, qa_project


def _doc(n: int, **over: object) -> str:
    rec = ImageRecord(f"id{n}", "0" * 64, f"/src/p{n}.png", f"/src/p{n}.png", 2448, 2048, seq=n)
    d = rec.to_dict()
    d.update(over)
    return json.dumps(d, separators=(",", ":"))


def _same_record(a: ImageRecord, b: ImageRecord) -> None:
    assert a == b and list(vars(a).items()) == list(vars(b).items())


def test_records_built_directly_equal_from_dict() -> None:
    docs = [
        _doc(1),
        _doc(2, window=[10.0, 200.0], dpi=[300, 300], fields={"lot": "L1"}),
        _doc(3, window=[], dpi=None),  # empty window: from_dict keeps the list
    ]
    for doc in docs:
        _same_record(catalog_db.record_of(doc), ImageRecord.from_dict(json.loads(doc)))
    # documents not in row_of's layout (a field missing, an unknown one) go through
    # from_dict: defaults filled in, unknown keys dropped
    short = json.loads(_doc(4))
    del short["page"]
    extra = dict(json.loads(_doc(5)), later="x")
    for d in (short, extra):
        _same_record(catalog_db.record_of(json.dumps(d)), ImageRecord.from_dict(d))
    assert catalog_db.record_of(json.dumps(short)).page == 0


def test_records_of_a_page_equal_one_parse_each() -> None:
    rows = [(f"id{n}", _doc(n)) for n in range(1, 6)]
    for a, b in zip(catalog_db.records_of(rows), [catalog_db.record_of(d) for _, d in rows]):
        _same_record(a, b)
    # a damaged document is parsed on its own, and raises what record_of raises
    bad = rows[:2] + [("id3", '{"id":"id3",')] + rows[3:]
    with pytest.raises(json.JSONDecodeError):
        catalog_db.records_of(bad)
    # documents that parse together but not as one object each (one holds two) or
    # not with their row's id are not taken from the joined parse either
    two = _doc(2) + "," + _doc(3)
    with pytest.raises(json.JSONDecodeError, match="Extra data"):
        catalog_db.records_of([rows[0], ("id2", two)])
    swapped = [(rows[1][0], rows[0][1]), (rows[0][0], rows[1][1])]
    assert [r.id for r in catalog_db.records_of(swapped)] == ["id1", "id2"]


def test_in_order_is_get_many_in_catalog_order(tmp_path: Path) -> None:
    p = qa_project(tmp_path, 12, dual_first_n=0, spot_check_rate=0.0)
    catalog = p.store.catalog
    ids = catalog.ids()
    expected = sorted(catalog.get_many(ids).values(), key=lambda r: r.seq)
    for wanted in (ids, list(reversed(ids)), ids[::2] + ["not-there"], ids[:2]):
        got = catalog.in_order(wanted)
        want = [r for r in expected if r.id in set(wanted)]
        assert len(got) == len(want)
        for a, b in zip(got, want):
            _same_record(a, b)


BOX = {"cls": "dent", "x": 1.5, "y": 2.25, "w": 10.0, "h": 3.0, "severity": "minor", "id": "b1"}
LABEL = {
    "verdict": "fail",
    "defect_class": None,
    "severity": None,
    "boxes": [BOX, dict(BOX, cls="crack", x=0.1, severity=None, id="b2")],
    "keypoints": [],
    "checks": [["pin1", "present"]],
    "flag": None,
    "skipped": False,
}


def _same_annotation(a: Annotation, b: Annotation) -> None:
    assert a == b and list(vars(a).items()) == list(vars(b).items())
    for x, y in zip(a.boxes, b.boxes):
        assert list(vars(x).items()) == list(vars(y).items())


@pytest.mark.parametrize(
    "after",
    [
        LABEL,
        dict(LABEL, also=["scratch"], flag="unsure", skipped=1),
        {k: v for k, v in LABEL.items() if k not in ("checks", "keypoints", "flag")},
        dict(LABEL, boxes=[dict(BOX, severity=None)], masks=[], later="ignored"),
    ],
)
def test_boxes_label_is_from_dict(after: dict) -> None:
    assert final_build.fast_enabled()
    built = final_build.boxes_label(json.loads(json.dumps(after)))
    assert built is not None
    _same_annotation(built, Annotation.from_dict(after))


@pytest.mark.parametrize(
    "after",
    [
        None,
        {},
        dict(LABEL, boxes=[]),  # no boxes: the shared Annotations of LabelState
        dict(LABEL, boxes=[dict(BOX, x=1)]),  # an int: Box keeps it as it is
        dict(LABEL, boxes=[dict(BOX, w=math.nan)]),  # refused by Box, with its message
        dict(LABEL, boxes=[dict(BOX, h=math.inf)]),
        dict(LABEL, boxes=[dict(BOX, y=True)]),
        dict(LABEL, boxes=[{k: v for k, v in BOX.items() if k != "id"}]),  # a new id
        dict(LABEL, boxes=[dict(BOX, extra=1)]),
        dict(LABEL, keypoints=[{"template": "t", "points": [], "id": "k"}]),
        dict(LABEL, masks=[{"cls": "dent"}]),
        dict(LABEL, keypoints=None),
        dict(LABEL, boxes=[BOX, "not a box"]),
    ],
)
def test_boxes_label_leaves_the_rest_to_from_dict(after: dict | None) -> None:
    assert final_build.boxes_label(after) is None


def test_fast_path_turns_off_when_the_records_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(final_build, "_fast", [])
    monkeypatch.setattr(final_build, "_ANNOTATION", final_build._ANNOTATION + ("polylines",))
    assert not final_build.fast_enabled()
    assert final_build.boxes_label(LABEL) is None


def _statuses_project(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Images of every final status, with box labels (the fast path's) among them."""
    p = qa_project(tmp_path, 8, dual_first_n=4, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    box = Box("dent", 0.5, 0.25, 10.5, 10.0, "minor", id="b1")
    for user in ("ann1", "ann2"):  # agreed
        label(p, user, ids[0], edits.set_class("dent", "minor"), edits.add_box(box))
    label(p, "ann1", ids[1], edits.set_class("dent", "minor"), edits.add_box(box))
    label(p, "ann2", ids[1], edits.set_class("dent", "minor"), edits.add_box(box.moved(8, 0)))
    label(p, "ann1", ids[2], edits.set_verdict("pass"))  # disagree, then adjudicated
    label(p, "ann2", ids[2], edits.set_class("dent", "minor"), edits.add_box(box))
    with p.store.open_session("adj") as s:
        adjudicate(p, s, ids[2], "B", p.store.state("ann2").annotation(ids[2]), "dent")
    label(p, "ann1", ids[5], edits.set_class("dent", "minor"), edits.add_box(box))  # reviewed
    with p.store.open_session("rev") as s:
        fixed = Annotation(verdict="fail", defect_class="dent", boxes=(box.moved(1, 1),))
        review(p, s, ids[5], fixed, "moved")
    label(p, "ann1", ids[6], edits.set_class("dent", "minor"), edits.add_box(box))  # single
    label(p, "ann1", ids[7], edits.set_verdict("pass"))  # single, no objects
    return p, ids


def test_final_labels_same_with_and_without_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, ids = _statuses_project(tmp_path)
    fast = final_labels(p, "single")
    assert {ids[i]: fast[ids[i]].status for i in (0, 2, 5, 6, 7)} == {
        ids[0]: "agreed",
        ids[2]: "adjudicated",
        ids[5]: "reviewed",
        ids[6]: "single",
        ids[7]: "single",
    }
    assert ids[1] not in fast  # the disagreement waits for the adjudicator
    monkeypatch.setattr(final_build, "_fast", [False])
    slow = final_labels(type(p).open(p.root), "single")
    assert list(fast) == list(slow)
    for image in fast:
        assert fast[image] == slow[image]
        _same_annotation(fast[image].annotation, slow[image].annotation)


def _dataset(p, boxes: tuple[Box, ...], width: int = 100, height: int = 80):  # type: ignore[no-untyped-def]
    rec = replace(p.store.catalog.all()[0], width=width, height=height)
    ann = Annotation(verdict="fail", boxes=boxes)
    image = ExportImage(rec, ann, "single", ("ann1",), "train", "a.png")
    manifest = {"taxonomy": p.config["taxonomy"], "hash": "0"}
    return Dataset.of_images(manifest, p.root, [image]), image


EDGE_BOXES = (
    Box("dent", 10, 20, 30, 15, "minor", id="int"),  # inside, ints: kept as they are
    Box("dent", 10.1, 20.2, 30.3, 15.7, id="inexact"),  # x + w - x != w
    Box("dent", -5.5, 70.0, 20.25, 30.0, "minor", id="out-left-bottom"),
    Box("dent", 90.0, -3.0, 20.0, 10.5, id="out-right-top"),
    Box("dent", 99.9999, 79.5, 5.0, 5.0, id="corner"),
    Box("dent", -0.0, -0.0, 100.0, 80.0, id="whole, -0.0"),
    Box("dent", 120.0, 10.0, 5.0, 5.0, id="outside"),  # clipped away
    Box("dent", 10.0, 10.0, 0.0, 5.0, id="empty"),
    Box("dent", 50.0, 40.0, 0.4, 0.3, "critical", id="sub-pixel"),
)


def test_clipped_numbers_are_the_clipped_boxes(tmp_path: Path) -> None:
    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    ds, image = _dataset(p, EDGE_BOXES)
    boxes = ds.boxes(image)
    clipped = ds.clipped(image)
    assert [b.id for b in boxes] == [b.id for b, *_ in clipped]
    assert "outside" not in [b.id for b in boxes] and "empty" not in [b.id for b in boxes]
    for box, (orig, x, y, w, h) in zip(boxes, clipped):
        got, want = (x, y, w, h), (box.x, box.y, box.w, box.h)
        assert got == want and [type(v) for v in got] == [type(v) for v in want]
        assert [math.copysign(1, v) for v in got] == [math.copysign(1, v) for v in want]
        assert (orig.cls, orig.severity) == (box.cls, box.severity)


def test_yolo_rows_and_voc_objects_as_written_from_boxes(tmp_path: Path) -> None:
    """What the YOLO and VOC writers wrote from `ds.boxes` before they read `clipped`."""
    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    ds, image = _dataset(p, EDGE_BOXES)
    w, h = image.record.width, image.record.height
    rows, sev = [], []
    for box in ds.boxes(image):
        cx, cy = (box.x + box.w / 2) / w, (box.y + box.h / 2) / h
        rows.append(
            f"{ds.class_index[box.cls]} {min(max(cx, 0.0), 1.0):.6f} "
            f"{min(max(cy, 0.0), 1.0):.6f} {min(max(box.w / w, 0.0), 1.0):.6f} "
            f"{min(max(box.h / h, 0.0), 1.0):.6f}\n"
        )
        sev.append(box.severity)
    got_sev: list[str | None] = []
    assert _detect_text(ds, image, got_sev) == "".join(rows) and got_sev == sev
    xml = voc.image_xml(ds, image).decode()
    objects = xml.split("<object>")[1:]
    kept = [b for b in ds.boxes(image) if to_voc(b)[2] >= to_voc(b)[0]]
    kept = [b for b in kept if to_voc(b)[3] >= to_voc(b)[1]]
    assert len(objects) == len(kept) < len(ds.boxes(image))  # the sub-pixel box goes
    for obj, box in zip(objects, kept):
        xmin, ymin, xmax, ymax = to_voc(box)
        assert f"<xmin>{xmin}</xmin>" in obj and f"<ymax>{ymax}</ymax>" in obj
        assert f"<xmax>{xmax}</xmax>" in obj and f"<ymin>{ymin}</ymin>" in obj
        truncated = box.x <= 0 or box.y <= 0 or box.x2 >= w or box.y2 >= h
        assert f"<truncated>{int(truncated)}</truncated>" in obj
        assert voc.attributes_xml(object_attributes(box.severity), "    ") in obj


def test_attribute_texts_once_per_attributes_and_only_for_names(tmp_path: Path) -> None:
    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    _, image = _dataset(p, EDGE_BOXES[:1])
    made: list[object] = []

    def text(i: ExportImage) -> str:
        made.append(i)
        return json.dumps(image_attributes(i), sort_keys=True)

    texts = AttributeTexts(text, lambda s: json.dumps(object_attributes(s)))
    other = replace(image, status="agreed", annotators=("ann1", "ann2"))
    for i in (image, other, image, other):
        assert texts.image(i) == text(i)
    assert len(made) == 2 + 4  # one per distinct image, and the four calls above
    # 1 and True are one dict key, not one text: values that are no names are not kept
    one, true = (replace(image, annotation=Annotation(verdict=v)) for v in (1, True))
    assert texts.image(one) != texts.image(true)
    assert '"verdict": true' in texts.image(true) and '"verdict": 1' in texts.image(one)
    listed = replace(image, annotation=Annotation(verdict=["fail"]))  # type: ignore[arg-type]
    assert texts.image(listed) == text(listed)
    assert texts.object(1) == '{"occluded": false, "severity": 1}'
    assert texts.object(True) == '{"occluded": false, "severity": true}'
    assert texts.object(None) == '{"occluded": false}'


def test_sidecar_entries_are_entry(tmp_path: Path) -> None:
    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    _, image = _dataset(p, EDGE_BOXES[:2])
    entries = yolo_attrs.Entries()
    images = [
        image,
        replace(image, synthetic={"sources": ["x"]}),
        replace(image, annotation=Annotation(verdict="fail", defect_class="dént", severity="ö")),
        replace(image, annotation=Annotation(verdict=True)),  # type: ignore[arg-type]
    ]
    expected = {}
    for n, i in enumerate(images + images):
        for sev in ([], ["minor", None], [None, "critical", "minor"], [1], [True]):
            key = f"labels/train/{n}-{len(sev)}-{sev[:1]}.txt"
            text = "0 0.5 0.5 0.1 0.1\n" * len(sev)
            entries.add(key, i, sev, text.encode())  # type: ignore[arg-type]
            expected[key] = yolo_attrs.entry(i, sev, text)  # type: ignore[arg-type]
            assert entries.of(key) == expected[key]
    entries.write(tmp_path / "a.json")
    yolo_attrs.write_sidecar(tmp_path / "b.json", expected)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    doc = json.loads((tmp_path / "a.json").read_text())
    assert list(doc["labels"]) == sorted(expected) and len(expected) == 40


def test_live_images_are_export_images_and_group_by_is_still_checked(tmp_path: Path) -> None:
    from dataclasses import fields

    from qclabel.formats import dataset_for
    from qclabel.splits import SplitError

    from test_formats_common import make_box_project

    project = make_box_project(tmp_path)
    live = dataset_for(project)
    assert len(live.images) == 3
    for image in live.images:
        rebuilt = ExportImage(*(getattr(image, f.name) for f in fields(ExportImage)))
        assert image == rebuilt and list(vars(image).items()) == list(vars(rebuilt).items())
        assert image.split == "train" and image.synthetic is None
    # one split needs no groups, but a field to group by that images lack is refused
    with pytest.raises(SplitError, match="no 'lot' field"):
        dataset_for(project, group_by="lot")


def test_coco_box_rows_as_text_are_the_rows_json_writes(tmp_path: Path) -> None:
    from qclabel.formats import coco
    from qclabel.formats.coco_write import _write_streamed

    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    odd = Box("dent", 1e-9, 0.0005, 1e6 / 3, 123456.789, "minor", id="odd")
    severities = (None, "sévère", 'a"b')
    boxes = EDGE_BOXES + (odd,) + tuple(replace(odd, severity=s) for s in severities)
    ds, image = _dataset(p, boxes, width=10**6, height=10**6)
    ids = {image.record.id: 7}
    named = replace(image, name='é "q"\\.png', status="agreed")  # json escapes these
    for raw in (False, True):
        doc = coco._instances_doc(ds, [image, named], ids, 41, raw=raw)
        boxes = 2 * len(ds.boxes(image))
        assert _write_streamed(tmp_path / f"{raw}.json", doc, chunk=3) == boxes
    assert (tmp_path / "True.json").read_bytes() == (tmp_path / "False.json").read_bytes()
    written = json.loads((tmp_path / "True.json").read_text())
    rows = written["annotations"]
    assert [r["id"] for r in rows] == list(range(41, 41 + 2 * len(ds.boxes(image))))
    assert [i["file_name"] for i in written["images"]] == ["a.png", 'é "q"\\.png']
    assert coco._image_row(1, "a", 2.0, 3, "{}") is None  # type: ignore[arg-type]
    row = coco._box_row(0.5, 1.0, 2.0, 3.0, 2, 9, 7, "{}")
    assert row == coco._dumps(
        {
            "id": 9,
            "image_id": 7,
            "category_id": 2,
            "bbox": [0.5, 1.0, 2.0, 3.0],
            "area": 6.0,
            "iscrowd": 0,
            "segmentation": [],
            "attributes": {},
        }
    )
    assert coco._box_row(math.inf, 1.0, 2.0, 3.0, 2, 9, 7, "{}") is None  # json: Infinity
    assert coco._box_row(0.5, 1.0, 2.0, 3.0, True, 9, 7, "{}") is None  # type: ignore[arg-type]


def test_attribute_texts_key_is_all_image_attributes_reads(tmp_path: Path) -> None:
    """AttributeTexts keys an image's text by the fields image_attributes reads: any
    other field of the image may change without changing the attributes (a field
    read there later must join the key, or equal keys would share a wrong text)."""
    p = qa_project(tmp_path, 1, dual_first_n=0, spot_check_rate=0.0)
    _, image = _dataset(p, EDGE_BOXES)
    base = image_attributes(image)
    others = [
        replace(image, record=replace(image.record, width=7, id="other", source="/x/y.png")),
        replace(image, split="val", name="other.png", labeled_at="2030-01-01"),
        replace(image, annotation=replace(image.annotation, boxes=(), checks=(("a", "b"),))),
        replace(image, annotation=replace(image.annotation, flag="unsure", also=("dent",))),
        replace(image, synthetic=None),
    ]
    for other in others:
        assert image_attributes(other) == base
    changed = [
        replace(image, status="agreed"),
        replace(image, annotators=("a", "b")),
        replace(image, synthetic={"sources": []}),
        replace(image, annotation=replace(image.annotation, verdict="pass")),
        replace(image, annotation=replace(image.annotation, defect_class="dent")),
        replace(image, annotation=replace(image.annotation, severity="minor")),
    ]
    texts = AttributeTexts(lambda i: json.dumps(image_attributes(i)), str)
    assert len({texts.image(i) for i in [image, *changed]}) == 1 + len(changed)
