"""YOLO datasets as other tools read and write them: data.yaml read back by PyYAML (the
reader Ultralytics uses), class names from data.yaml / obj.names / classes.txt mapped by
name, and the Roboflow, CVAT "YOLO 1.1" and Ultralytics layouts imported.

Ultralytics itself cannot be installed here (no torch for this Python), so its
documented dataset rules are checked instead: `val` is required, labels are found by
replacing the last /images/ of an image path with /labels/ (`img2label_paths`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from qclabel.core.geometry import clip_box
from qclabel.core.model import Annotation, Box
from qclabel.errors import FormatError
from qclabel.formats import dataset_for, export_dataset, import_labels
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from test_formats_common import by_name, label, make_box_project, write_images

TRICKY = ["on", "off", "null", "yes"]


def tricky_project(tmp: Path) -> Project:
    toml = tmp / "tricky.toml"
    toml.write_text(
        '[taxonomy]\nname = "tricky"\ntasks = ["passfail", "box"]\n'
        + "".join(
            f'[[taxonomy.classes]]\nname = "{n}"\nhotkey = "{i + 1}"\n'
            for i, n in enumerate(TRICKY)
        )
    )
    project = Project.init(tmp / "proj", toml, user="admin")
    write_images(tmp / "src")
    ingest_paths(project, [tmp / "src"], workers=1)
    ids = by_name(project)
    label(
        project,
        "alice",
        ids["a.png"],
        Annotation(verdict="fail", boxes=(Box("on", 10, 20, 30, 15), Box("yes", 50, 10, 20, 20))),
    )
    label(
        project,
        "alice",
        ids["c.png"],
        Annotation(verdict="fail", boxes=(Box("null", 1, 2, 10, 10), Box("off", 20, 5, 8, 8))),
    )
    return _with_annotators(project, "alice", "bob")


def _with_annotators(project: Project, *users: str) -> Project:
    project.config["roles"]["annotator"] = sorted(
        set(project.config["roles"]["annotator"]) | set(users)
    )
    project.save_config()
    return Project.open(project.root)


def boxes_of(project: Project, user: str) -> dict[str, list[tuple]]:
    """file name -> sorted (class, x, y, w, h) clipped to the image, rounded to 0.1 px."""
    recs = {r.id: r for r in project.store.catalog.all()}
    out = {}
    for image, ann in project.store.state(user).annotations().items():
        r = recs[image]
        boxes = [clip_box(b, r.width, r.height) for b in ann.boxes]
        if boxes:
            out[Path(r.source).name] = sorted(
                (b.cls, round(b.x, 1), round(b.y, 1), round(b.w, 1), round(b.h, 1)) for b in boxes
            )
    return out


def test_yaml_keywords_as_class_names_round_trip(tmp_path):
    project = tricky_project(tmp_path)
    out = export_dataset(dataset_for(project), "yolo", tmp_path / "y").out
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(TRICKY))  # strings, not True/False/None
    assert data["nc"] == 4
    import_labels(project, "yolo", out, "admin", as_user="bob")
    assert boxes_of(project, "bob") == boxes_of(project, "alice") != {}


def test_unquoted_yaml_keyword_in_foreign_data_yaml_is_refused(tmp_path):
    project = tricky_project(tmp_path)
    out = export_dataset(dataset_for(project), "yolo", tmp_path / "y").out
    (out / "data.yaml").write_text(
        "train: images/train\nval: images/train\nnames: [on, off, null, yes]\n"
    )
    with pytest.raises(FormatError, match=r"names\[0\] = True is not a string") as exc:
        import_labels(project, "yolo", out, "admin", as_user="bob")
    assert "\n" not in str(exc.value)


def test_no_val_split_is_said_in_data_yaml_and_the_summary(tmp_path):
    project = make_box_project(tmp_path)
    result = export_dataset(dataset_for(project), "yolo", tmp_path / "y")
    text = (result.out / "data.yaml").read_text()
    data = yaml.safe_load(text)
    assert data["val"] == data["train"] == "images/train"  # Ultralytics requires val
    assert "no val split" in text
    assert any("no val split" in n for n in result.stats["notes"])
    split = export_dataset(
        dataset_for(project, ratios=(0.5, 0.5, 0.0), seed=1), "yolo", tmp_path / "y2"
    )
    data = yaml.safe_load((split.out / "data.yaml").read_text())
    if "val" in dataset_for(project, ratios=(0.5, 0.5, 0.0), seed=1).splits:
        assert data["val"] == "images/val"
        assert not split.stats["notes"]


def img2label_paths(img_paths: list[str]) -> list[str]:
    """Ultralytics' rule (ultralytics/data/utils.py), verbatim."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return [sb.join(x.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt" for x in img_paths]


def test_export_follows_ultralytics_label_rule(tmp_path):
    project = make_box_project(tmp_path)
    out = export_dataset(dataset_for(project), "yolo", tmp_path / "y").out
    data = yaml.safe_load((out / "data.yaml").read_text())
    images = sorted(str(p) for p in (out / data["train"]).iterdir())
    assert images and all(Path(p).is_file() for p in img2label_paths(images))


# -- names files and other tools' layouts ------------------------------------------------
def _export(tmp: Path) -> tuple[Project, Path]:
    project = _with_annotators(make_box_project(tmp), "alice", "bob")
    return project, export_dataset(dataset_for(project), "yolo", tmp / "y").out


def _remap(labels: Path, old: list[str], new: list[str]) -> None:
    """Rewrite every label row's class index from order `old` to order `new`."""
    for txt in labels.rglob("*.txt"):
        if txt.name in ("classes.txt", "train.txt") or txt.name.startswith("README"):
            continue
        rows = [ln.split() for ln in txt.read_text().splitlines() if ln.strip()]
        txt.write_text(
            "".join(" ".join([str(new.index(old[int(r[0])]))] + r[1:]) + "\n" for r in rows)
        )


def test_cvat_yolo_1_1_with_reordered_obj_names(tmp_path):
    project, out = _export(tmp_path)
    classes = project.taxonomy.class_names()
    cvat = tmp_path / "cvat"
    (cvat / "obj_train_data").mkdir(parents=True)
    for f in (out / "images" / "train").iterdir():
        shutil.copy(f, cvat / "obj_train_data" / f.name)
    for f in (out / "labels" / "train").iterdir():
        shutil.copy(f, cvat / "obj_train_data" / f.name)
    reordered = classes[::-1]
    _remap(cvat / "obj_train_data", classes, reordered)
    (cvat / "obj.names").write_text("\n".join(reordered) + "\n")
    (cvat / "obj.data").write_text(
        f"classes = {len(classes)}\ntrain = data/train.txt\n"
        "names = data/obj.names\nbackup = backup/\n"
    )
    (cvat / "train.txt").write_text(
        "".join(f"data/obj_train_data/{f.name}\n" for f in (out / "images" / "train").iterdir())
    )
    import_labels(project, "yolo", cvat, "admin", as_user="bob")
    assert boxes_of(project, "bob") == boxes_of(project, "alice") != {}


def test_classes_txt_and_unknown_name_refused_in_one_line(tmp_path):
    project, out = _export(tmp_path)
    classes = project.taxonomy.class_names()
    flat = tmp_path / "flat"
    shutil.copytree(out / "labels" / "train", flat)
    (flat / "classes.txt").write_text("\n".join(classes[::-1]) + "\n")
    _remap(flat, classes, classes[::-1])
    import_labels(project, "yolo", flat, "admin", as_user="bob")
    assert boxes_of(project, "bob") == boxes_of(project, "alice")
    (flat / "classes.txt").write_text("\n".join(classes[:-1] + ["blowhole"]) + "\n")
    with pytest.raises(
        FormatError, match="class 'blowhole' .index 5. is not in the taxonomy"
    ) as exc:
        import_labels(project, "yolo", flat, "admin", as_user="bob")
    assert "\n" not in str(exc.value)
    (flat / "classes.txt").write_text("scratch\n\ndent\n")
    with pytest.raises(FormatError, match="blank line"):
        import_labels(project, "yolo", flat, "admin", as_user="bob")


def test_roboflow_layout(tmp_path):
    project, out = _export(tmp_path)
    classes = project.taxonomy.class_names()
    rf = tmp_path / "rf"
    imgs = sorted((out / "images" / "train").iterdir())
    for split, chosen in (("train", imgs[:1]), ("valid", imgs[1:])):
        (rf / split / "images").mkdir(parents=True)
        (rf / split / "labels").mkdir(parents=True)
        for img in chosen:
            shutil.copy(img, rf / split / "images" / img.name)
            lab = out / "labels" / "train" / f"{img.stem}.txt"
            shutil.copy(lab, rf / split / "labels" / lab.name)
    (rf / "README.roboflow.txt").write_text("Exported via roboflow.com\n")
    (rf / "README.dataset.txt").write_text("# metal\n")
    (rf / "data.yaml").write_text(
        yaml.safe_dump(
            {
                "train": "../train/images",
                "val": "../valid/images",
                "nc": len(classes),
                "names": classes[::-1],
            }
        )
    )
    _remap(rf, classes, classes[::-1])
    import_labels(project, "yolo", rf, "admin", as_user="bob")
    assert boxes_of(project, "bob") == boxes_of(project, "alice") != {}


def test_ultralytics_layout_from_a_single_label_file(tmp_path):
    project, out = _export(tmp_path)
    one = next(p for p in (out / "labels" / "train").iterdir() if p.read_text())
    import_labels(project, "yolo", one, "admin", as_user="bob")  # names from ../../data.yaml
    alice = boxes_of(project, "alice")
    assert boxes_of(project, "bob") == {k: v for k, v in alice.items() if Path(k).stem == one.stem}


# -- the template field and the command line ---------------------------------------------
def _template(**extra):
    from qclabel.core.taxonomy import load_taxonomy

    return load_taxonomy(
        {
            "name": "t",
            "tasks": ["keypoint"],
            "classes": [{"name": "part", "hotkey": "1"}],
            "keypoint_templates": [{"name": "part", "points": ["l", "r", "tip"], **extra}],
        }
    ).keypoint_templates[0]


def test_flip_pairs_are_parsed_and_checked():
    from qclabel.errors import ConfigError
    from qclabel.formats.yolo import flip_idx

    assert _template().flip_pairs == () and flip_idx(_template()) is None
    t = _template(flip_pairs=[["l", "r"]])
    assert t.flip_pairs == (("l", "r"),) and flip_idx(t) == [1, 0, 2]
    for bad in ([["l", "nose"]], [["l", "l"]], [["l"]], "l,r"):
        with pytest.raises(ConfigError, match="flip_pairs"):
            _template(flip_pairs=bad)
    with pytest.raises(FormatError, match="'r' is in two flip_pairs"):
        flip_idx(_template(flip_pairs=[["l", "r"], ["r", "tip"]]))


def test_cli_says_val_is_train_and_refuses_unknown_names_in_one_line(tmp_path, as_user):
    from click.testing import CliRunner
    from qclabel.cli import main

    as_user("admin")
    project, out = _export(tmp_path)
    r = CliRunner().invoke(
        main,
        [
            "export",
            str(project.root),
            "--format",
            "yolo",
            "--out",
            str(tmp_path / "y2"),
            "--pixels",
            "keep",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "no val split: data.yaml points val at train" in r.stdout
    assert cv2_depth(tmp_path / "y2" / "images" / "train" / "c.png") == "uint16"
    (out / "data.yaml").write_text(
        yaml.safe_dump(
            {"train": "images/train", "val": "images/train", "names": {0: "scratch", 1: "blowhole"}}
        )
    )
    r = CliRunner().invoke(
        main, ["import", str(project.root), str(out), "--format", "yolo", "--as", "bob"]
    )
    assert r.exit_code != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert (
        len(lines) == 1 and lines[0].startswith("qclabel: error:") and "'blowhole'" in lines[0]
    ), r.stderr


def cv2_depth(path: Path) -> str:
    import cv2

    return str(cv2.imread(str(path), cv2.IMREAD_UNCHANGED).dtype)
