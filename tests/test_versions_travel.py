"""Versions that travel: the content hash is the images and labels only; a moved project
or a relinked catalog still exports its versions byte for byte; the per-image diff; a
re-imported unchanged box is not removed + added."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_formats_common import A_BOXES, by_name, label, make_box_project, tree_digest
from test_import_roundtrip import fresh_copy

from qclabel.cli import main
from qclabel.core.model import Annotation, Box
from qclabel.errors import PermissionDenied
from qclabel.formats import dataset_for, export_dataset, export_project, import_labels
from qclabel.project import Project
from qclabel.relink import RelinkError, relink
from qclabel.versions import (
    content_hash,
    create_version,
    diff_versions,
    get_version,
    seal,
)


def run(*args) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def project(tmp_path):
    return make_box_project(tmp_path / "site")


def relabel_same(project, image, boxes):
    """The same labels again, later and with new object ids (as a re-import gives)."""
    label(
        project,
        "alice",
        image,
        Annotation(verdict="fail", boxes=tuple(replace(b, id=f"new-{b.id}") for b in boxes)),
    )


def test_same_labels_give_the_same_hash(project):
    one = create_version(project, "v1", "admin")
    ids = by_name(project)
    label(project, "alice", ids["a.png"], Annotation(verdict="pass"))
    relabel_same(project, ids["a.png"], A_BOXES)  # changed and changed back, later
    two = create_version(project, "v2", "admin")
    old, new = one["labels"][ids["a.png"]], two["labels"][ids["a.png"]]
    assert new["labeled_at"] > old["labeled_at"]
    assert [b["id"] for b in new["annotation"]["boxes"]] == ["new-a1", "new-a2"]
    assert two["hash"] == one["hash"]
    label(
        project,
        "alice",
        ids["a.png"],
        Annotation(verdict="fail", boxes=(replace(A_BOXES[0], w=31.0),)),
    )
    assert create_version(project, "v3", "admin")["hash"] != one["hash"]


def test_what_the_hash_leaves_out_is_still_sealed(project):
    create_version(project, "v1", "admin")
    path = project.root / "versions.json"
    text = path.read_text()
    assert '"status":"single"' in text
    path.write_text(text.replace('"status":"single"', '"status":"agreed"', 1))
    from qclabel.versions import VersionError

    with pytest.raises(VersionError, match="does not match its recorded hash"):
        get_version(project, "v1")


def test_format_1_manifests_keep_their_hash(project):
    m = create_version(project, "v1", "admin")
    old = {k: v for k, v in m.items() if k not in ("seal", "name")}
    old.update(format=1, name="old")
    for e in old["images"]:
        e.pop("path")
    old["hash"] = content_hash(old)
    assert old["hash"] != m["hash"]
    old["seal"] = seal(old)
    project.store.documents("versions").put("old", old)
    assert get_version(project, "old")["hash"] == old["hash"]


def label_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_moved_project_still_exports_its_versions(tmp_path, as_user):
    site = tmp_path / "disk1"
    project = make_box_project(site)  # site/proj (catalog: absolute paths to site/src)
    create_version(project, "v1", "admin", ratios=(0.5, 0.5), seed=3)
    before = label_files(export_project(project, "coco", tmp_path / "e1", version="v1").out)
    shutil.move(str(site), str(tmp_path / "disk2"))  # project and images, together
    moved = Project.open(tmp_path / "disk2" / "proj")
    out = export_project(moved, "coco", tmp_path / "e2", version="v1").out
    assert label_files(out) == before
    # The live catalog still names disk1 until it is relinked.
    as_user("admin")
    code, _, err = run("export", moved.root, "--format", "coco", "--out", tmp_path / "e3")
    assert code == 2 and "images relink" in err and err.count("\n") == 1
    code, out_text, err = run(
        "images", "relink", moved.root, site / "src", tmp_path / "disk2" / "src", "--verify"
    )
    assert code == 0, err
    assert "relinked 4 images" in out_text and "4 hashes checked" in out_text
    code, _, err = run("export", moved.root, "--format", "coco", "--out", tmp_path / "e3")
    assert code == 0, err


def test_relinked_catalog_exports_versions_whose_images_moved_alone(project, tmp_path):
    create_version(project, "v1", "admin")
    before = label_files(export_project(project, "voc", tmp_path / "e1", version="v1").out)
    src = project.root.parent / "src"
    shutil.move(str(src), str(tmp_path / "nas"))  # the images alone: paths break
    with pytest.raises(Exception, match="images relink"):
        export_project(project, "voc", tmp_path / "e2", version="v1")
    report = relink(project, src, tmp_path / "nas", "admin")
    assert report.images == 4
    out = export_project(project, "voc", tmp_path / "e2", version="v1").out
    assert label_files(out) == before
    assert get_version(project, "v1")["hash"]  # the stored version was not rewritten


def test_relink_refuses_and_changes_nothing(project, tmp_path):
    catalog = project.root / "catalog.sqlite"
    before = tree_digest(project.root)
    src = project.root.parent / "src"
    with pytest.raises(RelinkError, match="no image of .* is under"):
        relink(project, tmp_path / "elsewhere", tmp_path / "x", "admin")
    with pytest.raises(RelinkError, match="no such file .*nothing was changed"):
        relink(project, src, tmp_path / "missing", "admin")
    with pytest.raises(PermissionDenied):
        relink(project, src, src, "alice")
    other = tmp_path / "other"
    shutil.copytree(src, other)
    (other / "a.png").write_bytes((other / "c.png").read_bytes())
    with pytest.raises(RelinkError, match="sha256 differs"):
        relink(project, src, other, "admin", verify=True)
    assert tree_digest(project.root) == before and catalog.exists()


# -- diff -------------------------------------------------------------------------------
def test_reimported_unchanged_box_is_not_removed_and_added(project, tmp_path):
    create_version(project, "v1", "admin")
    ids = by_name(project)
    scratch, dent = A_BOXES
    label(
        project,
        "alice",
        ids["a.png"],
        Annotation(
            verdict="fail",
            boxes=(
                replace(scratch, id="other-id"),  # same box, new id
                replace(dent, id="dent-2", x=62.0),
            ),
        ),
    )  # moved a little, new id
    create_version(project, "v2", "admin")
    d = diff_versions(get_version(project, "v1"), get_version(project, "v2"))
    assert d["classes"] == {"dent": {"added": 0, "removed": 0, "changed": 1}}
    (img,) = d["images"]
    assert img["name"] == "a.png"
    (change,) = img["changes"]
    assert change["change"] == "changed" and change["object"] == "box:dent-2"
    assert 0.8 < change["iou"] < 1


def test_round_trip_through_yolo_diffs_clean(project, tmp_path):
    """A version re-made from labels that went out to YOLO and came back (new ids,
    normalized coordinates) shows no label added or removed."""
    create_version(project, "v1", "admin")
    out = export_dataset(dataset_for(project), "yolo", tmp_path / "y").out
    copy = fresh_copy(project, tmp_path / "copy")
    import_labels(copy, "yolo", out, "admin", as_user="alice")
    create_version(copy, "v1", "admin")
    d = diff_versions(get_version(project, "v1"), get_version(copy, "v1"))
    counts = [
        c for per in d["classes"].values() for k, c in per.items() if k in ("added", "removed")
    ]
    # Image-level verdicts and classes come back too (the export's attributes sidecar).
    assert sum(counts) == 0
    # Boxes pair up: float noise of normalized coordinates, and the dent the export
    # clipped to the image.
    assert sorted((c["class"], c["iou"] > 0.99) for c in d["changed"]) == [
        ("crack", True),
        ("dent", False),
        ("scratch", True),
    ]


def test_version_diff_images_cli(project, as_user):
    as_user("admin")
    create_version(project, "v1", "admin")
    ids = by_name(project)
    label(
        project,
        "alice",
        ids["a.png"],
        Annotation(verdict="fail", boxes=(A_BOXES[0], Box("porosity", 1, 1, 4, 4, id="p1"))),
    )
    label(project, "alice", ids["d.png"], Annotation(verdict="pass"))
    create_version(project, "v2", "admin")
    code, out, err = run("version", "diff", project.root, "v1", "v2", "--images")
    assert code == 0, err
    lines = out.splitlines()
    a = lines.index(next(x for x in lines if x.strip().startswith("a.png")))
    assert lines[a + 1].split()[:3] == ["-", "box:a2", "dent"]
    assert lines[a + 2].split()[:3] == ["+", "box:p1", "porosity"]
    assert any(x.strip().startswith("d.png") and "(image added)" in x for x in lines)
    code, out, _ = run("version", "diff", project.root, "v1", "v2", "--images", "--json")
    doc = json.loads(out)
    assert {i["name"] for i in doc["images"]} == {"a.png", "d.png"}
    code, out, _ = run("version", "diff", project.root, "v1", "v2", "--json")
    assert "images" not in json.loads(out)
