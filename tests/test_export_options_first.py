"""Export options are refused before any label is read, and the live dataset an export
is made from (formats.live) is the one a manifest of the same labels gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qclabel import identity
from qclabel.errors import FormatError
from qclabel.formats import dataset_for, export_project
from qclabel.formats.dataset import Dataset
from qclabel.project import Project
from qclabel.store import Store
from qclabel.versions import build_manifest

from test_formats_common import make_box_project

REFUSED = [
    ({"fmt": "tfrecord", "link": "none"}, "TFRecord embeds the images"),
    ({"fmt": "yolo", "task": "obb"}, "--task 'obb'"),
    ({"fmt": "coco", "pixels": "16bit"}, "--pixels '16bit'"),
    ({"fmt": "voc", "min_status": "perfect"}, "--min-status 'perfect'"),
    # metal-stamping has no keypoint template: YOLO pose has no kpt_shape to write
    ({"fmt": "yolo", "task": "pose"}, "exactly one keypoint template"),
]


@pytest.mark.parametrize("options,message", REFUSED)
def test_refused_options_read_no_label(tmp_path, monkeypatch, options, message):
    project = make_box_project(tmp_path)

    def no_reading(self):
        raise AssertionError("the labels were read before the options were checked")

    monkeypatch.setattr(Store, "all_states", no_reading)
    options = dict(options)
    fmt = options.pop("fmt")
    with pytest.raises(FormatError, match=message.replace("(", r"\(")):
        export_project(project, fmt, tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_cli_refuses_before_reading_a_damaged_journal(tmp_path):
    """A real process on a project whose journal cannot be read: the option's refusal
    is what it says (reading the journal first would have refused the damage)."""
    me = identity.current_user()
    project = Project.init(tmp_path / "p", "metal-stamping", user=me)
    project.add_role(me, me, "annotator")
    (project.root / "labels" / f"{me}.jsonl").write_text("{not json\n" * 1000)
    code = "import sys; from qclabel.entry import main; sys.argv[0] = 'qclabel'; main()"
    base = [sys.executable, "-c", code, "export", str(project.root), "--out", str(tmp_path / "o")]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
    refused = subprocess.run(
        [*base, "--format", "tfrecord", "--images", "none"], capture_output=True, text=True, env=env
    )
    assert refused.returncode != 0
    assert "TFRecord embeds the images" in refused.stderr
    # the same project with acceptable options does read the journal, and refuses it
    read = subprocess.run(
        [*base, "--format", "coco", "--images", "none"], capture_output=True, text=True, env=env
    )
    assert read.returncode != 0
    assert "TFRecord" not in read.stderr and read.stderr.strip()
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("settings", [{}, {"ratios": (0.5, 0.25, 0.25), "seed": 3}])
def test_live_dataset_is_the_manifests(tmp_path, settings):
    project = make_box_project(tmp_path)
    live = dataset_for(project, **settings)
    frozen = Dataset(build_manifest(project, **settings), project.root)
    assert live.content_hash == frozen.content_hash  # computed meanwhile (formats.live)
    assert {k: v for k, v in frozen.manifest.items() if k not in ("images", "labels")} == (
        live.manifest
    )
    assert len(live.images) == len(frozen.images) > 0
    for a, b in zip(live.images, frozen.images):
        assert (a.record.id, a.name, a.split, a.status, a.annotators, a.labeled_at) == (
            b.record.id,
            b.name,
            b.split,
            b.status,
            b.annotators,
            b.labeled_at,
        )
        assert a.annotation == b.annotation
    assert live.splits == frozen.splits
    # names given for 8-bit pixels: over every image, as with a manifest
    assert [i.name for i in live.with_pixels("8bit").images] == [
        i.name for i in frozen.with_pixels("8bit").images
    ]


def test_label_text_is_the_json_of_the_label_content():
    """The content hash's label text, written directly, is what json.dumps writes."""
    import json

    from qclabel.core.model import Annotation, Box, Keypoint, KeypointSet
    from qclabel.version_hash import _label_content, label_content, label_dict, label_text

    boxes = (
        Box("scratch", 10.0, 20.5, 30.25, 1e-7, "minor"),
        Box("dent", 0.1 + 0.2, 1e16, 3.0, 4.0),
        Box('Kratzer ü "q" \\', 1.0, 2.0, 3.0, 4.0, "m\u00e4jor"),
    )
    cases = [
        Annotation(verdict="fail", boxes=boxes),
        Annotation(verdict="fail", boxes=(Box("dent", 1, 2, 3, 4),)),  # ints: json's way
        Annotation(
            verdict="fail",
            defect_class="dent",
            severity="minor",
            boxes=boxes[:1],
            checks=(("edge", "ok"),),
            flag='say "boxes":[] here',
            also=("scratch",),
        ),
        Annotation(
            verdict="fail",
            boxes=boxes[:1],
            keypoints=(KeypointSet("hole", (Keypoint("a", 1.0, 2.0, 2),), id="k"),),
        ),
        Annotation(verdict="pass"),
        Annotation(),
    ]
    for ann in cases:
        want = json.dumps(
            label_content(ann), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert label_text(ann) == want
        assert label_content(ann) == _label_content(label_dict(ann))
