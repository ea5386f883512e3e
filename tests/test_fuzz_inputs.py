"""Fuzzing the import and ingest paths with hypothesis: malformed COCO, YOLO (labels and
data.yaml), VOC, labelme, CSV, JSONL, CVAT and Label Studio inputs, and damaged image
files, each through the real CLI. Every input either imports (it was valid after all)
or is refused with exactly one `qclabel: error:` line and exit code 2 (ingest: each bad
file listed on one line, exit code 1), never a traceback, and a refused input leaves the
project folder byte-identical. Derandomized, so CI runs the same examples every time."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from qclabel.cli import main
from qclabel.formats import dataset_for, export_dataset
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from test_formats_common import label, tree_digest, write_images

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)
TOKENS = [
    "0",
    "1",
    "2",
    "5",
    "-1",
    "0.5",
    "0.0",
    "1.0",
    "1.5",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "1e-999",
    "0x10",
    "9" * 60,
    "",
    "a",
    "0.5,",
    "٣",
    "\x00",
    "+",
]
yolo_lines = st.lists(
    st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=9).map(" ".join), max_size=4
).map("\n".join)
yaml_texts = st.sampled_from(
    [
        "names: [a, b]",
        "names: {0: scratch, 1: dent}",
        "names: {0: scratch, 2: dent}",
        "names: &x [a]\nval: *x",
        "names: [scratch]\nkpt_shape: [3, 3]",
        "names: 5",
        "names: {a: 1}",
        "kpt_shape: [nan, 3]\nnames: [scratch]",
        "names: [[a]]",
        "names: !!binary aGVsbG8=",
        "names: [scratch, null, ~, on]",
        "---\n...",
        "[",
        "{",
        "names: !!python/name:os.system",
        "names: [" + "[" * 300,
    ]
) | st.text(max_size=40)


# -- the project -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A labeled project, an export of it in every format, and a pristine copy the
    tests restore after an input that imported fine."""
    tmp = tmp_path_factory.mktemp("fuzz")
    project = Project.init(tmp / "proj", "metal-stamping", user="root")
    project.add_role("root", "bob", "annotator")
    write_images(tmp / "src")
    ingest_paths(project, [tmp / "src"], workers=1)
    from qclabel.core.model import Annotation, Box

    ids = {Path(r.source).name: r.id for r in project.store.catalog.all()}
    label(
        project,
        "alice",
        ids["a.png"],
        Annotation(verdict="fail", boxes=(Box("scratch", 10, 20, 30, 15, "minor"),)),
    )
    label(project, "alice", ids["c.png"], Annotation(verdict="pass"))
    exports = {
        f: export_dataset(dataset_for(project), f, tmp / f"x-{f}", link="none").out
        for f in ("coco", "yolo", "voc", "csv", "jsonl", "cvat", "labelstudio")
    }
    pristine = tmp / "pristine"
    shutil.copytree(project.root, pristine)
    return project.root, pristine, exports


def restore(root: Path, pristine: Path) -> None:
    shutil.rmtree(root)
    shutil.copytree(pristine, root)


def check_import(world, fmt: str, build) -> None:
    """Write the input with `build(folder)`, import it, check the outcome."""
    root, pristine, _ = world
    before = tree_digest(root)
    with tempfile.TemporaryDirectory() as tmp:
        src = build(Path(tmp))
        start = time.monotonic()
        r = CliRunner().invoke(
            main, ["import", str(root), str(src), "--format", fmt, "--as", "bob"]
        )
        assert time.monotonic() - start < 10, "an input must not take long to refuse"
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    if r.exit_code == 0:
        assert "NaN" not in "".join(p.read_text() for p in (root / "labels").glob("*.jsonl"))
        restore(root, pristine)
        return
    assert r.exit_code == 2, (r.exit_code, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qclabel: error: "), r.stderr
    assert len(lines[0]) < 500, lines[0]  # values are shortened, never echoed whole
    assert tree_digest(root) == before


# -- mutations of valid documents --------------------------------------------------------
def paths_of(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths_of(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths_of(v, prefix + (i,))
    return out


@st.composite
def mutated(draw, doc: Any) -> Any:
    """`doc` with one to three places replaced by arbitrary JSON or removed."""
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(doc)))
        if not path:
            return draw(json_values)
        parent = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation changed the shape under this path
    return doc


def coco_doc(world) -> dict:
    return json.loads((world[2]["coco"] / "annotations" / "instances_train.json").read_text())


LABELME = {
    "imagePath": "a.png",
    "imageWidth": 100,
    "imageHeight": 80,
    "shapes": [
        {
            "label": "scratch",
            "shape_type": "rectangle",
            "points": [[10, 20], [40, 35]],
            "group_id": None,
        },
        {
            "label": "dent",
            "shape_type": "polygon",
            "points": [[50, 50], [70, 50], [60, 70]],
            "group_id": 1,
        },
    ],
}


def test_fuzz_coco(world):
    @FUZZ
    @given(st.data())
    def run(data):
        doc = data.draw(mutated(coco_doc(world)))

        def build(tmp: Path) -> Path:
            (tmp / "annotations").mkdir()
            (tmp / "annotations" / "instances_train.json").write_text(json.dumps(doc))
            return tmp

        check_import(world, "coco", build)

    run()


def test_fuzz_labelme(world):
    @FUZZ
    @given(mutated(LABELME))
    def run(doc):
        def build(tmp: Path) -> Path:
            (tmp / "a.json").write_text(json.dumps(doc))
            return tmp / "a.json"

        check_import(world, "labelme", build)

    run()


def test_fuzz_labelstudio(world):
    tasks = json.loads((world[2]["labelstudio"] / "tasks.json").read_text())

    @FUZZ
    @given(mutated(tasks))
    def run(doc):
        def build(tmp: Path) -> Path:
            (tmp / "tasks.json").write_text(json.dumps(doc))
            return tmp / "tasks.json"

        check_import(world, "labelstudio", build)

    run()


def test_fuzz_cvat(world):
    xml = (world[2]["cvat"] / "annotations.xml").read_text()
    attrs = sorted(set(__import__("re").findall(r' ([a-z_]+)="', xml)))

    @FUZZ
    @given(
        st.lists(
            st.tuples(st.sampled_from(attrs), st.sampled_from(TOKENS) | st.text(max_size=6)),
            min_size=1,
            max_size=3,
        )
    )
    def run(edits):
        def build(tmp: Path) -> Path:
            import re

            text = xml
            for attr, value in edits:
                esc = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
                text = re.sub(f' {attr}="[^"]*"', f' {attr}="{esc}"', text, count=1)
            (tmp / "annotations.xml").write_text(text)
            return tmp / "annotations.xml"

        check_import(world, "cvat", build)

    run()


def test_fuzz_yolo(world):
    @FUZZ
    @given(yolo_lines, st.none() | yaml_texts)
    def run(lines, yaml_text):
        def build(tmp: Path) -> Path:
            shutil.copytree(world[2]["yolo"], tmp / "y")
            (tmp / "y" / "labels" / "train" / "a.txt").write_text(lines)
            if yaml_text is not None:
                (tmp / "y" / "data.yaml").write_text(yaml_text)
            return tmp / "y"

        check_import(world, "yolo", build)

    run()


VOC_TAGS = ["filename", "width", "height", "name", "xmin", "ymin", "xmax", "ymax"]


def test_fuzz_voc(world):
    @FUZZ
    @given(
        st.lists(
            st.tuples(st.sampled_from(VOC_TAGS), st.sampled_from(TOKENS) | st.text(max_size=6)),
            min_size=1,
            max_size=3,
        ),
        st.booleans(),
    )
    def run(edits, drop):
        def build(tmp: Path) -> Path:
            shutil.copytree(world[2]["voc"], tmp / "v")
            xml = tmp / "v" / "Annotations" / "a.xml"
            text = xml.read_text()
            for tag, value in edits:
                if f"<{tag}>" not in text:
                    continue
                start = text.index(f"<{tag}>")
                end = text.index(f"</{tag}>", start) + len(tag) + 3
                esc = value.replace("&", "&amp;").replace("<", "&lt;")
                text = text[:start] + ("" if drop else f"<{tag}>{esc}</{tag}>") + text[end:]
            xml.write_text(text)
            return tmp / "v"

        check_import(world, "voc", build)

    run()


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_fuzz_tabular(world, kind):
    @FUZZ
    @given(
        st.sampled_from(["images", "objects"]),
        st.integers(0, 40),
        st.sampled_from(TOKENS) | st.text(max_size=8) | json_values.map(json.dumps),
    )
    def run(table, cell, value):
        def build(tmp: Path) -> Path:
            shutil.copytree(world[2][kind], tmp / "t")
            path = tmp / "t" / f"{table}.{kind}"
            lines = path.read_text().splitlines()
            if kind == "csv":
                cells = lines[1].split(",")
                cells[cell % len(cells)] = value.replace(",", ";").replace("\n", " ")
                lines[1] = ",".join(cells)
            else:
                row = json.loads(lines[0])
                key = sorted(row)[cell % len(row)]
                try:
                    row[key] = json.loads(value)
                except ValueError:
                    row[key] = value
                lines[0] = json.dumps(row)
            path.write_text("\n".join(lines) + "\n")
            return tmp / "t"

        check_import(world, kind, build)

    run()


def test_fuzz_raw_bytes(world):
    """Any bytes in the file an import reads first."""
    files = {
        "coco": "annotations/instances_train.json",
        "labelme": "a.json",
        "yolo": "data.yaml",
        "voc": "Annotations/a.xml",
        "csv": "images.csv",
        "jsonl": "images.jsonl",
        "cvat": "annotations.xml",
        "labelstudio": "tasks.json",
    }

    @FUZZ
    @given(st.sampled_from(sorted(files)), st.binary(max_size=64))
    def run(fmt, blob):
        def build(tmp: Path) -> Path:
            if fmt in world[2]:
                shutil.copytree(world[2][fmt], tmp / "s")
            target = tmp / "s" / files[fmt]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
            return target if fmt in ("labelme", "cvat", "labelstudio") else tmp / "s"

        check_import(world, fmt, build)

    run()


# -- damaged images ----------------------------------------------------------------------
def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.arange(24 * 16 * 3, dtype=np.uint8).reshape(16, 24, 3)).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.arange(24 * 16 * 3, dtype=np.uint8).reshape(16, 24, 3)).save(buf, "JPEG")
    return buf.getvalue()


damaged = st.one_of(
    st.binary(max_size=200).map(lambda b: (b, ".png")),
    st.tuples(st.sampled_from([_png_bytes(), _jpeg_bytes()]), st.integers(0, 400)).map(
        lambda t: (t[0][: t[1]], ".png" if t[0].startswith(b"\x89PNG") else ".jpg")
    ),
    st.tuples(
        st.sampled_from([_png_bytes(), _jpeg_bytes()]), st.integers(0, 10**6), st.integers(0, 255)
    ).map(
        lambda t: (
            t[0][: t[1] % len(t[0])] + bytes([t[2]]) + t[0][t[1] % len(t[0]) + 1 :],
            ".png" if t[0].startswith(b"\x89PNG") else ".jpg",
        )
    ),
    st.sampled_from(
        [
            b"GIF89a",
            b"II*\x00" + b"\xff" * 20,
            b"BM" + b"\x00" * 40,
            b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        ]
    ).map(lambda b: (b, ".tif")),
)


def test_fuzz_damaged_images(world):
    root, pristine, _ = world

    @FUZZ
    @given(st.lists(damaged, min_size=1, max_size=3))
    def run(files):
        before = tree_digest(root)
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, (data, ext) in enumerate(files):
                paths.append(Path(tmp) / f"f{i}{ext}")
                paths[-1].write_bytes(data)
            r = CliRunner().invoke(
                main, ["ingest", str(root), *map(str, paths), "--workers", "1", "--no-progress"]
            )
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert r.exit_code in (0, 1), (r.exit_code, r.stderr)
        failed = [ln for ln in r.stdout.splitlines() if ln.startswith("  ")]
        if r.exit_code == 1:
            assert failed and all(": " in ln for ln in failed), r.stdout
        added = int(r.stdout.split(" added")[0])
        assert added + len(failed) <= len(files)
        if added == 0:
            assert tree_digest(root) == before
        else:
            restore(root, pristine)

    run()
