"""Dataset versions: frozen, immutable, diffable, and exported byte for byte the same."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qclabel.core.model import Annotation, Box
from qclabel.errors import FormatError
from qclabel.formats import EXPORT_FORMATS, dataset_for, export_dataset, export_project
from qclabel.versions import (
    VersionError,
    create_version,
    diff_versions,
    get_version,
    list_names,
    summary,
)
from test_formats_common import A_BOXES, by_name, label, make_box_project, tree_digest


@pytest.fixture
def project(tmp_path):
    return make_box_project(tmp_path)


def test_create_freezes_labels_hashes_taxonomy_and_settings(project):
    m = create_version(project, "v1", "admin", ratios=(0.5, 0.5), seed=2)
    assert list_names(project) == ["v1"]
    stored = get_version(project, "v1")
    assert stored["hash"] == m["hash"]
    ids = by_name(project)
    assert {i["sha256"] for i in stored["images"]} == {
        project.store.catalog.get(ids[n]).sha256 for n in ("a.png", "b.jpg", "c.png")
    }
    assert stored["taxonomy"]["name"] == "metal-stamping"
    assert stored["settings"] == {
        "min_status": "single",
        "split": [0.5, 0.5],
        "group_by": None,
        "seed": 2,
    }
    assert stored["qa"]["status_counts"] == {"single": 3}
    assert stored["created_by"] == "admin" and stored["created"]
    s = summary(stored)
    assert s["images"] == 3 and s["objects_per_class"] == {"crack": 2, "dent": 1, "scratch": 1}


def test_names_are_never_overwritten(project):
    create_version(project, "v1", "admin")
    with pytest.raises(VersionError, match="'v1' already exists"):
        create_version(project, "v1", "admin")
    with pytest.raises(VersionError, match="no dataset version 'v9'"):
        get_version(project, "v9")
    with pytest.raises(VersionError, match="version name"):
        create_version(project, "../x", "admin")


def test_tampered_manifest_is_detected(project):
    create_version(project, "v1", "admin")
    path = project.root / "versions.json"
    path.write_text(path.read_text().replace('"crack"', '"dent"', 1))
    with pytest.raises(VersionError, match="does not match its recorded hash"):
        get_version(project, "v1")


def test_version_export_is_frozen_and_byte_identical(project, tmp_path):
    create_version(project, "v1", "admin", ratios=(0.7, 0.3), seed=1)
    ids = by_name(project)
    label(
        project, "alice", ids["c.png"], Annotation(verdict="fail", boxes=(Box("burr", 1, 1, 5, 5),))
    )  # a later change must not leak into v1
    for fmt in EXPORT_FORMATS:
        one = export_project(project, fmt, tmp_path / f"{fmt}-1", version="v1")
        two = export_project(project, fmt, tmp_path / f"{fmt}-2", version="v1")
        assert tree_digest(one.out) == tree_digest(two.out), fmt
        assert one.hash == get_version(project, "v1")["hash"]
    yolo_c = list((tmp_path / "yolo-1" / "labels").glob("*/c.txt"))[0]
    assert yolo_c.read_text() == ""
    live = export_project(project, "yolo", tmp_path / "live")
    assert list((live.out / "labels").glob("*/c.txt"))[0].read_text().startswith("4 ")


def test_version_export_refuses_other_split_settings(project, tmp_path):
    create_version(project, "v1", "admin")
    with pytest.raises(FormatError, match="fixes its own split"):
        export_project(project, "coco", tmp_path / "o", version="v1", ratios=(0.5, 0.5))


def test_diff_counts_added_removed_changed_per_class(project):
    create_version(project, "v1", "admin")
    ids = by_name(project)
    moved = replace(A_BOXES[0], x=12.0)  # same box id: a change
    label(
        project,
        "alice",
        ids["a.png"],
        Annotation(verdict="fail", boxes=(moved, Box("porosity", 1, 1, 4, 4, id="p1"))),
    )  # dent removed
    label(
        project,
        "alice",
        ids["d.png"],
        Annotation(verdict="fail", defect_class="burr", severity="minor"),
    )
    create_version(project, "v2", "admin")
    d = diff_versions(get_version(project, "v1"), get_version(project, "v2"))
    assert d["images_added"] == 1 and d["images_removed"] == 0
    assert d["classes"] == {
        "burr": {"added": 1, "removed": 0, "changed": 0},
        "dent": {"added": 0, "removed": 1, "changed": 0},
        "porosity": {"added": 1, "removed": 0, "changed": 0},
        "scratch": {"added": 0, "removed": 0, "changed": 1},
    }
    same = diff_versions(get_version(project, "v2"), get_version(project, "v2"))
    assert same["classes"] == {}


def test_grouped_split_keeps_a_part_in_one_split(project, tmp_path):
    catalog = project.store.catalog
    ids = by_name(project)
    parts = {"a.png": "P1", "b.jpg": "P1", "c.png": "P2", "d.png": "P3"}
    catalog.update([replace(catalog.get(ids[n]), fields={"part": p}) for n, p in parts.items()])
    ds = dataset_for(project, ratios=(0.5, 0.5), group_by="part", seed=4)
    split = {i.name: i.split for i in ds.images}
    assert split["a.png"] == split["b.png"]
    assert set(split.values()) == {"train", "val"}
    out = export_dataset(ds, "coco", tmp_path / "grouped").out
    assert (out / "annotations" / "instances_val.json").is_file()
    with pytest.raises(Exception, match="has no 'lot' field"):
        dataset_for(project, group_by="lot")


def test_manifest_carries_the_qa_agreement_summary(project):
    ids = by_name(project)
    assert create_version(project, "v0", "admin")["qa"]["agreement"] is None  # no duals
    label(project, "bob", ids["a.png"], Annotation(verdict="fail", boxes=A_BOXES))
    m = create_version(project, "v1", "admin")
    assert m["qa"]["agreement"]["images"] == 1 and m["qa"]["agreement"]["agreed"] == 1
    assert m["qa"]["status_counts"] == {"agreed": 1, "single": 2}


def test_min_status_leaves_out_lower_statuses(project, tmp_path):
    ids = by_name(project)
    label(project, "bob", ids["a.png"], Annotation(verdict="fail", boxes=A_BOXES))  # agreed
    label(
        project, "bob", ids["c.png"], Annotation(verdict="fail", boxes=(Box("burr", 1, 1, 5, 5),))
    )  # disagrees with alice: waits for adjudication
    ds = dataset_for(project, min_status="agreed")
    assert [(i.name, i.status) for i in ds.images] == [("a.png", "agreed")]
    assert sorted(i.name for i in dataset_for(project).images) == ["a.png", "b.png"]
