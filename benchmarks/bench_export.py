"""Export at library speed: `qclabel export` end to end (a fresh CLI process, from the
project's catalog and journals to the last file) on a 100k-image / 300k-box project, and,
where Datumaro is available, Datumaro's import + export of the same dataset in COCO, YOLO
and Pascal VOC, side by side, with the peak RSS of each child process.

Datumaro lives in a venv of its own (1.10 needs numpy < 2, qclabel numpy >= 2; 1.13
installs with numpy 2 but brings its own pins): `python3.12 -m venv ~/dm &&
~/dm/bin/pip install datumaro`, then QCLABEL_BENCH_DATUMARO=~/dm/bin/python (default:
this interpreter, if it has datumaro).

Floors of the same run: `json.dumps` of the COCO document into one file, and writing
one small YOLO label file per image. `--images none` isolates the label writing.

The project is built straight into its files (catalog rows into SQLite, one
annotator's journal of boxes), in a child process, so no command's peak RSS starts
from the builder's. Every record points at one real image (labels only are exported).
`--quick`: 5k images; the default 100k; QCLABEL_BENCH_EXPORT=N picks another size.
Everything runs in RAM (/dev/shm when present): the figures are the exporters' own
cost, not the disk's.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Figure

PY = sys.executable
DM_PY = os.path.expanduser(os.environ.get("QCLABEL_BENCH_DATUMARO", PY))
BOXES = 3
W, H = 2448, 2048
FORMATS = ("coco", "yolo", "voc")


def build(root: Path, n: int) -> None:
    """A project of `n` images, each with BOXES boxes from one annotator."""
    import numpy as np
    from PIL import Image

    from qclabel import identity
    from qclabel.core import edits
    from qclabel.core.model import Annotation, Box, ImageRecord
    from qclabel.project import Project
    from qclabel.store import catalog_db

    admin = identity.current_user()  # who runs the export: the project's admin
    project = Project.init(root, "metal-stamping", user=admin)
    project.add_role(admin, "ann", "annotator")
    img = root / "canonical" / "one.png"
    img.parent.mkdir(exist_ok=True)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(img)
    tax = project.taxonomy
    classes = [(c, [s.name for s in tax.get(c).severities]) for c in tax.class_names()]
    records = [
        ImageRecord(
            id=f"{i:016x}",
            sha256=f"{i:064x}",
            source=f"/srv/line4/p{i:07d}.png",
            file=str(img),
            width=W,
            height=H,
            format="PNG",
            channels=1,
            mode="L",
            fields={"lot": f"L{i // 2000:04d}"},
            added="2026-12-02T14:06:54+00:00",
            seq=i + 1,
        )
        for i in range(n)
    ]
    con = catalog_db.open_writer(root / "catalog.sqlite")
    with con:
        con.execute("BEGIN")
        catalog_db.insert(con, (catalog_db.row_of(r) for r in records))
    con.close()
    rng = random.Random(0)

    def ann() -> Annotation:
        boxes = []
        for _ in range(BOXES):
            cls, sev = rng.choice(classes)
            boxes.append(
                Box(
                    cls,
                    rng.uniform(0, W - 200),
                    rng.uniform(0, H - 200),
                    rng.uniform(40, 200),
                    rng.uniform(40, 200),
                    sev[0] if sev else None,
                )
            )
        return Annotation(verdict="fail", boxes=tuple(boxes))

    with Project.open(root).store.open_session("ann") as session:
        for k in range(0, n, 5000):
            session.commit_many(
                [edits.Change(r.id, Annotation(), ann()) for r in records[k : k + 5000]]
            )


def run_proc(args: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd
    )
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{args[2:6]} failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def cli(*args: str) -> list[str]:
    return [
        PY,
        "-c",
        "import sys; from qclabel.entry import main; sys.argv[0] = 'qclabel'; main()",
        *args,
    ]


# Datumaro's import and export of the folder qclabel wrote, in one child process.
DATUMARO = """
import sys
import datumaro as dm
src, fmt, out = sys.argv[1:4]
kind = {"coco": "coco_instances", "yolo": "yolo", "voc": "voc_detection"}[fmt]
dataset = dm.Dataset.import_from(src, kind)
dataset.export(out, {"coco": "coco_instances", "yolo": "yolo", "voc": "voc_detection"}[fmt],
               save_media=False)
"""

FLOOR_COCO = """
import json, sys
n = int(sys.argv[1]); out = sys.argv[2]
images = [{"id": i + 1, "file_name": f"p{i:07d}.png", "width": 2448, "height": 2048}
          for i in range(n)]
anns = [{"id": k + 1, "image_id": k // 3 + 1, "category_id": 1 + k % 5,
         "bbox": [1000.123, 800.5, 120.25, 90.75], "area": 10912.6875, "iscrowd": 0}
        for k in range(3 * n)]
with open(out, "w") as fh:
    fh.write(json.dumps({"images": images, "annotations": anns, "categories": []}))
"""

FLOOR_YOLO = """
import os, sys
n = int(sys.argv[1]); out = sys.argv[2]
os.makedirs(out)
row = "1 0.500000 0.500000 0.100000 0.100000\\n" * 3
for i in range(n):
    with open(f"{out}/p{i:07d}.txt", "w") as fh:
        fh.write(row)
"""


def size(quick: bool) -> int:
    env = os.environ.get("QCLABEL_BENCH_EXPORT")
    return int(env) if env else 5_000 if quick else 100_000


def run(quick: bool) -> list[Figure]:
    n = size(quick)
    shm = Path("/dev/shm")
    tmp = Path(tempfile.mkdtemp(prefix="qclabel-bench-export-", dir=shm if shm.is_dir() else None))
    try:
        t0 = time.perf_counter()
        run_proc(
            [
                PY,
                "-c",
                "from pathlib import Path; from benchmarks.bench_export import "
                f"build; build(Path({str(tmp / 'p')!r}), {n})",
            ],
            cwd=Path.cwd(),
        )
        print(f"  (built {n} images in {time.perf_counter() - t0:.1f} s)", flush=True)
        return measure(tmp, n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(tmp: Path, n: int) -> list[Figure]:
    label = f"{n // 1000}k"
    coco_floor, _ = run_proc([PY, "-c", FLOOR_COCO, str(n), str(tmp / "floor.json")])
    yolo_floor, _ = run_proc([PY, "-c", FLOOR_YOLO, str(n), str(tmp / "floor-yolo")])
    floors = {
        "coco": ("json.dumps of the COCO document", coco_floor),
        "yolo": ("writing one YOLO file per image", yolo_floor),
        "voc": ("writing one YOLO file per image", yolo_floor),
    }
    have_dm = _has_datumaro()
    figs = []
    for fmt in FORMATS:
        out = tmp / f"out-{fmt}"
        wall, mb = run_proc(
            cli("export", str(tmp / "p"), "--format", fmt, "--images", "none", "--out", str(out))
        )
        base, floor = floors[fmt]
        figs += [
            Figure(
                f"export {fmt} {label} images (CLI, --images none)",
                wall,
                "s",
                base,
                floor,
                "<= 3x the floor",
            )
        ]
        if have_dm:
            if fmt == "yolo":  # Datumaro's YOLO reader opens each label's image
                _link_images(out, tmp / "p" / "canonical" / "one.png")
            dm_wall, dm_mb = run_proc([DM_PY, "-c", DATUMARO, str(out), fmt, str(tmp / "dm")])
            shutil.rmtree(tmp / "dm", ignore_errors=True)
            figs += [
                Figure(
                    f"export {fmt} {label} vs Datumaro import+export",
                    wall,
                    "s",
                    "Datumaro import+export",
                    dm_wall,
                    "< 1.0",
                ),
                Figure(
                    f"export {fmt} {label} peak RSS vs Datumaro",
                    mb,
                    "MB",
                    "Datumaro peak RSS",
                    dm_mb,
                    "<= 1.0",
                ),
            ]
        else:
            figs.append(
                Figure(
                    f"export {fmt} {label} peak RSS",
                    mb,
                    "MB",
                    base,
                    0.0,
                    "datumaro not installed: no side-by-side",
                )
            )
        for f in figs[-3:]:
            print("  " + json.dumps(f.to_dict()), flush=True)
        shutil.rmtree(out, ignore_errors=True)
    return figs


def _link_images(out: Path, image: Path) -> None:
    """The image of every YOLO label file, hard-linked (not timed: Datumaro's input)."""
    for labels in (out / "labels").iterdir():
        folder = out / "images" / labels.name
        folder.mkdir(parents=True, exist_ok=True)
        for txt in labels.iterdir():
            os.link(image, folder / f"{txt.stem}.png")


def _has_datumaro() -> bool:
    return subprocess.run([DM_PY, "-c", "import datumaro"], capture_output=True).returncode == 0


def main() -> None:
    """`python -m benchmarks.bench_export [--quick]`: print this benchmark's figures."""
    for f in run("--quick" in sys.argv):
        print(json.dumps(f.to_dict()))


if __name__ == "__main__":
    main()
