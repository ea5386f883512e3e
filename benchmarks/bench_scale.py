"""Scale: commands on 10k / 100k / 1M-image catalogs, each a fresh process, beside the
same-run cost of just reading an equivalent round-1 `catalog.json` (`json.load`) and
of a bare SQLite `COUNT(*)` of the catalog file.

Per size: `qclabel status --json` (first with the run's own empty cache folder, so
the label snapshot is parsed, then with what that kept: store.snapshot_cache),
`qclabel qa plan --json`, the labeling app from start to its first image (real app,
headless, half-cell, truecolor as `qclabel label` asks; the clock stops when the first
compositor update holding the image is rendered to its terminal string), key `n` -> the next frame's
terminal bytes (clocked as benchmarks.bench_render does, from the key's action until
the compositor update carrying the new frame is rendered to its string; its baseline
is the same keys on a 1k-image catalog built the same way, same run), the ingest of
100 more real images, and each one's peak RSS. 10 % of the images carry a label (one annotator's
journal). The catalog is built straight into its SQLite file (what ingest would leave,
much faster); every record points at one real image. `--quick`: 10k only; the default
runs 10k and 100k; QCLABEL_BENCH_SCALE=10000,100000,1000000 picks the sizes (the 1M
case builds a 0.6 GB catalog.json for its baseline and takes minutes);
QCLABEL_BENCH_SCALE_DIR keeps the fixtures there and reuses them (each run's ingest
adds its 100 images to them).

Peak RSS is the command's own: each command runs under a small launcher (a bare
Python that forks and execs it), because a child's ru_maxrss starts from the RSS of
the process it was forked from (Linux carries the parent's high-water mark through
exec), and this benchmark process holds numpy, Pillow and qclabel.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from qclabel.core import edits
from qclabel.core.model import Annotation, ImageRecord
from qclabel.project import Project
from qclabel.store import catalog_db

from .common import Figure, own_cache

PY = sys.executable
LABELED = 0.10

FIRST_FRAME = """
import asyncio, os, sys, time
t0 = time.perf_counter()
# the colours `qclabel label` asks for (tui.graphics.ensure_colour_system), before
# Textual reads them: without, every half-cell colour is matched to a 16-colour palette
if os.environ.get("COLORTERM") not in ("truecolor", "24bit"):
    os.environ.setdefault("TEXTUAL_COLOR_SYSTEM", "truecolor")
from qclabel.project import Project
from qclabel.tui.app import build_app
async def idle(app):  # the annotator's look at the image: prefetch finishes meanwhile
    for _ in range(50):
        busy = [f for f in list(app.frames._frames.values()) if not f.done()]
        if not busy:
            return
        await asyncio.gather(*(asyncio.wrap_future(f) for f in busy), return_exceptions=True)
from textual._compositor import CompositorUpdate
from qclabel.tui.app import QclabelApp
first, display0 = [], QclabelApp._display
def first_display(self, screen, renderable):
    # start -> the first image's terminal bytes: the first compositor update rendered
    # while the image view has drawn a frame (not when Pilot's next pause returns)
    view = getattr(self.screen, "image_view", None)
    if not first and isinstance(renderable, CompositorUpdate) and getattr(view, "sent", 0):
        renderable.render_segments(self.console).encode()
        first.append(time.perf_counter() - t0)
    return display0(self, screen, renderable)
QclabelApp._display = first_display
async def main():
    app = build_app(Project.open(sys.argv[1]), "ann", graphics="halfcell", cell_px=(1, 2))
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(400):
            await pilot.pause()
            view = getattr(app.screen, "image_view", None)
            if view is not None and getattr(view, "frame", None) is not None and first:
                break
        print(first[0])
        # key -> the next frame's terminal bytes, as benchmarks.bench_render clocks it:
        # from the key's action until the compositor update carrying the new frame
        # has been rendered to the terminal string (Pilot's own press is not timed)
        screen, marks, keys = app.screen, {}, []
        move, display = screen.action_move, app._display
        def timed_move(delta):
            marks["t0"], marks["sent"] = time.perf_counter(), view.sent
            return move(delta)
        def timed_display(scr, renderable):
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console).encode()
                if "t0" in marks and view.sent > marks["sent"]:
                    keys.append(time.perf_counter() - marks.pop("t0"))
            return display(scr, renderable)
        screen.action_move, app._display = timed_move, timed_display
        for _ in range(int(sys.argv[2])):
            await idle(app)
            await pilot.press("n")
            for _ in range(400):
                if "t0" not in marks:
                    break
                await pilot.pause(0.001)
        keys.sort()
        print(keys[len(keys) // 2], keys[min(len(keys) - 1, round(0.95 * (len(keys) - 1)))])
        await pilot.press("q")
asyncio.run(main())
"""
KEYS = 21  # image changes timed per app run
SMALL = 1000  # the catalog the keys are held against: same fixture, same run

LAUNCH = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nmaxrss={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def record(n: int, file: str) -> ImageRecord:
    """About 600 bytes as JSON, like an area-scan image with parsed file-name fields."""
    h = f"{n:064x}"
    lot, station, camera = f"L{n // 2000:04d}", f"S{n % 4}", f"cam{n % 2 + 1}"
    return ImageRecord(
        id=h[-16:],
        sha256=h,
        source=f"/srv/line4/{lot}/P1001_{lot}_{station}_{camera}_{n:07d}.jpg",
        file=file,
        width=64,
        height=48,
        format="JPEG",
        profile="area-scan",
        profile_hash="a4c510238659",
        fields={
            "part": "P1001",
            "lot": lot,
            "station": station,
            "camera": camera,
            "serial": f"{n:07d}",
        },
        exif={"orientation": 1, "model": "acA2440-20gm", "exposure_us": 850},
        added="2026-12-02T14:06:54+00:00",
        seq=n + 1,
        source_mode="RGB",
    )


def build(root: Path, n: int) -> Project:
    project = Project.init(root, "metal-stamping", user="bench")
    for user in ("ann", "bob"):
        project.add_role("bench", user, "annotator")
    project.add_role("bench", "rev", "reviewer")  # spot checks: 12 % of the singles
    img = root / "canonical" / "one.jpg"
    img.parent.mkdir(exist_ok=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)).save(img)
    con = catalog_db.open_writer(root / "catalog.sqlite")
    with con:
        con.execute("BEGIN")
        catalog_db.insert(con, (catalog_db.row_of(record(i, str(img))) for i in range(n)))
    con.close()
    with open(root / "catalog.json.migrated", "w") as fh:  # the round-1 file, for json.load
        json.dump(
            {"images": {str(i + 1): record(i, str(img)).to_dict() for i in range(n)}},
            fh,
            separators=(",", ":"),
        )
    ann = Annotation(verdict="pass")
    with project.store.open_session("ann") as session:
        ids = [record(i, "").id for i in range(0, n, int(1 / LABELED))]
        for k in range(0, len(ids), 5000):
            session.commit_many([edits.Change(i, Annotation(), ann) for i in ids[k : k + 5000]])
    return Project.open(root)


def run_proc(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB (the command's own, see LAUNCH) and stdout of one
    fresh process."""
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.run([PY, "-S", "-c", LAUNCH, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # 1: status/plan with findings
        raise RuntimeError(f"{args[:4]} failed: exit {proc.returncode}: {proc.stderr[-500:]}")
    rss = [line for line in proc.stderr.splitlines() if line.startswith("maxrss=")]
    return wall, int(rss[-1].split("=")[1]) / 1024, proc.stdout


def cli(*args: str) -> list[str]:
    return [
        PY,
        "-c",
        "import sys; from qclabel.entry import main; sys.argv[0] = 'qclabel'; main()",
        *args,
    ]


def new_images(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).save(folder / f"new_{i}.png")
    return folder


def measure(root: Path, n: int) -> list[Figure]:
    # a cache folder of this run's own: the first plan hashes every image for its
    # spot-check sample, the next reuses the digests it kept (qa.spot_digests)
    with own_cache("qclabel-scale-cache-"):
        return _measure(root, n)


def _measure(root: Path, n: int) -> list[Figure]:
    label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"
    legacy = root / "catalog.json.migrated"
    json_s, json_mb, _ = run_proc([PY, "-c", f"import json; json.load(open({str(legacy)!r}))"])
    count_s, _, _ = run_proc(
        [
            PY,
            "-c",
            "import sqlite3; sqlite3.connect("
            f"{str(root / 'catalog.sqlite')!r}).execute('SELECT COUNT(*) "
            "FROM images').fetchone()",
        ]
    )
    base = "json.load of its catalog.json"
    figs = [
        Figure(
            f"scale {label}: sqlite COUNT(*) of catalog.sqlite",
            count_s,
            "s",
            base,
            json_s,
            "the floor of a catalog read",
        )
    ]
    for name, args in (
        ("status --json (first: the snapshot parsed)", cli("status", str(root), "--json")),
        ("status --json (snapshot index kept)", cli("status", str(root), "--json")),
        ("qa plan (first: every image hashed)", cli("qa", "plan", str(root))),
        ("qa plan (spot-check digests kept)", cli("qa", "plan", str(root))),
    ):
        wall, mb, _ = run_proc(args)
        figs += [
            Figure(f"scale {label}: {name}", wall, "s", base, json_s, "< 2 s at 1M"),
            Figure(f"scale {label}: {name} peak RSS", mb, "MB", base, json_mb, "< 1 GB"),
        ]
    first, key_p50, key_p95, mb = first_frame(root)
    _, small_p50, small_p95, _ = first_frame(small_project(root.parent))
    small = f"the same keys on a {SMALL // 1000}k-image catalog"
    figs += [
        Figure(
            f"scale {label}: label app start -> first image",
            first,
            "s",
            base,
            json_s,
            "< 2 s at 1M",
        ),
        Figure(
            f"scale {label}: label app key n -> next frame's bytes p50",
            key_p50 * 1000,
            "ms",
            small + " p50",
            small_p50 * 1000,
            "flat with size (1.0x)",
        ),
        Figure(
            f"scale {label}: label app key n -> next frame's bytes p95",
            key_p95 * 1000,
            "ms",
            small + " p95",
            small_p95 * 1000,
            "flat with size (1.0x)",
        ),
        Figure(f"scale {label}: label app peak RSS", mb, "MB", base, json_mb, "< 1 GB"),
    ]
    src = new_images(root.parent / f"new-{n}", 100)
    wall, mb, _ = run_proc(cli("ingest", str(root), str(src), "--workers", "1"))
    figs.append(
        Figure(
            f"scale {label}: ingest 100 more", wall, "s", base, json_s, "proportional to the 100"
        )
    )
    return figs


def first_frame(root: Path) -> tuple[float, float, float, float]:
    """Start -> first image (s), key -> next frame's bytes p50 and p95 (s), peak RSS
    (MB) of the labeling app on `root`, in a fresh process."""
    _, mb, out = run_proc([PY, "-c", FIRST_FRAME, str(root), str(KEYS)])
    lines = out.strip().splitlines()
    p50, p95 = (float(x) for x in lines[-1].split())
    return float(lines[-2]), p50, p95, mb


def small_project(where: Path) -> Path:
    """The baseline of the keys: a catalog of SMALL images built as the big one is."""
    root = where / f"small-{SMALL}"
    if not (root / "catalog.sqlite").exists():
        shutil.rmtree(root, ignore_errors=True)
        run_proc(
            [
                PY,
                "-c",
                f"from pathlib import Path; from benchmarks.bench_scale import build; "
                f"build(Path({str(root)!r}), {SMALL})",
            ]
        )
    return root


def sizes(quick: bool) -> list[int]:
    env = os.environ.get("QCLABEL_BENCH_SCALE")
    if env:
        return [int(x) for x in env.split(",")]
    return [10_000] if quick else [10_000, 100_000]


def compiled() -> None:
    """qclabel's bytecode, as `pip install` leaves it: where PYTHONDONTWRITEBYTECODE is
    set (some shells and CI) every fresh process would compile each module again
    (0.2 s of a start)."""
    import compileall

    import qclabel

    compileall.compile_dir(Path(qclabel.__file__).parent, quiet=1)


def run(quick: bool) -> list[Figure]:
    compiled()
    figs: list[Figure] = []
    keep = os.environ.get("QCLABEL_BENCH_SCALE_DIR")
    for n in sizes(quick):
        tmp = Path(keep) / str(n) if keep else Path(tempfile.mkdtemp(prefix="qclabel-scale-"))
        try:
            t0 = time.perf_counter()
            if not (tmp / "p" / "catalog.sqlite").exists():
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
                # built in a child: this process stays small (see LAUNCH)
                run_proc(
                    [
                        PY,
                        "-c",
                        f"from pathlib import Path; from benchmarks.bench_scale "
                        f"import build; build(Path({str(tmp / 'p')!r}), {n})",
                    ]
                )
                print(f"  (built {n} images in {time.perf_counter() - t0:.1f} s)", flush=True)
            shutil.rmtree(tmp / f"new-{n}", ignore_errors=True)
            figs += measure(tmp / "p", n)
        finally:
            if not keep:
                shutil.rmtree(tmp, ignore_errors=True)
    return figs
