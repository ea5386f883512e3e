"""Scale, the listing commands: `images --json`, `images`, `qa plan --json`, `qa report`,
`audit verify`, `check`, `balance`, `version list`, `qa queue` on the scale benchmark's
10k / 100k / 1M catalogs (`python -m benchmarks.run --only scale_cli`; the same sizes
and fixtures as `--only scale`: QCLABEL_BENCH_SCALE, QCLABEL_BENCH_SCALE_DIR).

Each command is a fresh process under bench_scale's launcher (its own peak RSS); its
stdout goes to a file (a million records are 0.9 GB of JSON: what is measured is the
command, not a pipe reader holding it). The same-run floor beside every figure: a bare
`sqlite3` iteration of every record's document in catalog order with `json.dumps` of
each (parsed) row written to the same kind of file, the least a listing of the catalog
can cost in Python; each listing runs right after a floor run of its own. The report,
balance, version and queue figures run as the current user with the adjudicator and
admin roles, added to the fixture once (no label changes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bench_scale import LAUNCH, PY, cli, sizes
from .common import Figure, own_cache

FLOOR = """
import json, sqlite3, sys
con = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
write, dumps, loads = sys.stdout.write, json.dumps, json.loads
for (doc,) in con.execute("SELECT doc FROM images ORDER BY seq"):
    write(dumps(loads(doc)))
"""

ROLES = """
import sys
from qclabel import identity
from qclabel.project import Project
project, me = Project.open(sys.argv[1]), identity.current_user()
admin = project.role_table()["admin"][0]
for role in ("admin", "adjudicator"):
    if not project.has_role(me, role):
        project.add_role(admin, me, role)
"""


def run_to(args: list[str], out: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and bytes written of one fresh process whose
    stdout is the file `out`."""
    t0 = time.perf_counter()
    with open(out, "wb") as fh:
        proc = subprocess.run(
            [PY, "-S", "-c", LAUNCH, *args], stdout=fh, stderr=subprocess.PIPE, text=True
        )
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # 1: findings (check, audit)
        raise RuntimeError(f"{args[3:7]} failed: exit {proc.returncode}: {proc.stderr[-500:]}")
    rss = [line for line in proc.stderr.splitlines() if line.startswith("maxrss=")]
    size = out.stat().st_size
    out.unlink()
    return wall, int(rss[-1].split("=")[1]) / 1024, size


LISTINGS = 3  # the first three write a line or a record per image: each beside its own floor


def commands(root: Path) -> list[tuple[str, list[str]]]:
    d = str(root)
    return [
        ("images --json", cli("images", d, "--json")),
        ("images (text)", cli("images", d)),
        ("qa plan --json", cli("qa", "plan", d, "--json")),
        ("qa plan (text)", cli("qa", "plan", d)),
        ("qa report --format json", cli("qa", "report", d, "--format", "json")),
        ("audit verify --json", cli("audit", "verify", d, "--json")),
        ("check --json", cli("check", d, "--json")),
        ("balance --json", cli("balance", d, "--json")),
        ("version list", cli("version", "list", d)),
        ("qa queue --user rev --json", cli("qa", "queue", d, "--user", "rev", "--json")),
    ]


def measure(root: Path, n: int, sink: Path) -> list[Figure]:
    """Each listing right after a floor run of its own (on a shared machine the load
    drifts within minutes); the other commands beside the last floor."""
    label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"
    floor = [PY, "-c", FLOOR, str(root / "catalog.sqlite")]
    base = "sqlite3 iteration + json.dumps per row"
    figs: list[Figure] = []
    for k, (name, args) in enumerate(commands(root)):
        if k < LISTINGS:
            floor_s, floor_mb, floor_bytes = run_to(floor, sink)
        wall, mb, size = run_to(args, sink)
        target = "near the floor" if k < LISTINGS else "not proportional to the catalog"
        figs += [
            Figure(f"scale-cli {label}: {name}", wall, "s", base, floor_s, target),
            Figure(
                f"scale-cli {label}: {name} peak RSS", mb, "MB", f"{base} RSS", floor_mb, "< 1 GB"
            ),
        ]
        if size > 1_000_000:
            print(f"  ({name}: {size / 1e6:.0f} MB of output; floor {floor_bytes / 1e6:.0f} MB)")
    return figs


def run(quick: bool) -> list[Figure]:
    figs: list[Figure] = []
    keep = os.environ.get("QCLABEL_BENCH_SCALE_DIR")
    with own_cache("qclabel-scale-cli-"):  # spot-check digests of this run's own
        for n in sizes(quick):
            tmp = Path(keep) / str(n) if keep else Path(tempfile.mkdtemp(prefix="qclabel-scale-"))
            try:
                if not (tmp / "p" / "catalog.sqlite").exists():
                    shutil.rmtree(tmp, ignore_errors=True)
                    tmp.mkdir(parents=True)
                    t0 = time.perf_counter()
                    build = (
                        "from pathlib import Path; from benchmarks.bench_scale import build; "
                        f"build(Path({str(tmp / 'p')!r}), {n})"
                    )
                    subprocess.run([PY, "-c", build], check=True, cwd=Path(__file__).parent.parent)
                    print(f"  (built {n} images in {time.perf_counter() - t0:.1f} s)", flush=True)
                subprocess.run([PY, "-c", ROLES, str(tmp / "p")], check=True)
                figs += measure(tmp / "p", n, tmp / "stdout.bin")
            finally:
                if not keep:
                    shutil.rmtree(tmp, ignore_errors=True)
    return figs


if __name__ == "__main__":
    sys.exit("run it as: python -m benchmarks.run --only scale_cli")
