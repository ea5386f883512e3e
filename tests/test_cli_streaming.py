"""`images`, `images --json` and `qa plan --json` write as they read: the real CLI on a
generated 10k-image catalog gives the bytes the whole-list code gave, and a reader
that stops early (`| head`) ends it quietly."""

from __future__ import annotations

import json
import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from qclabel.cli.ingest_cmds import shown
from qclabel.cli.jsonout import first_key_varies, indented
from qclabel.core.model import ImageRecord
from qclabel.project import Project
from qclabel.qa.plan import build_plan
from qclabel.store import catalog_db

QCLABEL = [sys.executable, "-c", "from qclabel.entry import main; main()"]
N = 10_000


def record(n: int) -> ImageRecord:
    """Records as varied as ingest leaves them: non-ASCII and undecodable names,
    pages, stitched sources, windows, EXIF with nested values, fields or none."""
    lot = f"L{n // 700:02d}"
    name = ("é_" if n % 7 == 0 else "") + ("bad\udcff_" if n % 11 == 0 else "") + f"p{n}.png"
    return ImageRecord(
        id=f"{n:016x}",
        sha256=f"{n * 7919:064x}",
        source=f"/line/{lot}/{name}",
        file=f"canonical/{n:016x}.png",
        width=640 + n % 3,
        height=480,
        bit_depth=16 if n % 5 == 0 else 8,
        channels=1 if n % 5 == 0 else 3,
        mode="I;16" if n % 5 == 0 else "RGB",
        mm_per_px=0.05 if n % 2 else None,
        window=(100.5, 4000.0) if n % 5 == 0 else None,
        fields={"lot": lot, "station": f"S{n % 3}", "task": "t1" if n < N // 2 else "t2"}
        if n % 13
        else {},
        exif={"model": "cam", "iso": [100, 200], "gps": {"lat": 1.5}} if n % 3 == 0 else {},
        dpi=(300.0, 300.0) if n % 4 == 0 else None,
        seq=n + 1,
        sources=[f"/line/seg{n}_{k}.png" for k in range(2)] if n % 17 == 0 else [],
        page=n % 2,
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("stream") / "p"
    project = Project.init(root, "metal-stamping", user="admin")
    for user in ("ann", "bob", "cid"):
        project.add_role("admin", user, "annotator")
    project.add_role("admin", "rev", "reviewer")
    con = catalog_db.open_writer(root / "catalog.sqlite")
    with con:
        con.execute("BEGIN")
        catalog_db.insert(con, (catalog_db.row_of(record(n)) for n in range(N)))
    con.close()
    return Project.open(root)


def run(*args: str) -> bytes:
    proc = subprocess.run([*QCLABEL, *args], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def old_listing(records: list[ImageRecord]) -> str:
    """The text `images DIR` printed when it built the whole list first."""
    lines = [
        f"{'#':>4} {'id':<16} {'size':>11} {'bits':>4} {'ch':>2} {'sha256':<12} "
        f"{'profile':<12} source  fields"
    ]
    for r in records:
        fields = ",".join(f"{k}={v}" for k, v in sorted(r.fields.items()))
        lines.append(
            f"{r.seq:>4} {r.id:<16} {f'{r.width}x{r.height}':>11} {r.bit_depth:>4} "
            f"{r.channels:>2} {r.sha256[:12]:<12} {r.profile:<12} {shown(r.source)}"
            f"  {shown(fields) or '-'}"
        )
    lines.append(f"{len(records)} images")
    return "\n".join(lines) + "\n"


def old_plan(project: Project) -> dict:
    """`Plan.to_dict()` as it was: built from every image's Assignment object."""
    plan = build_plan(project)
    head = dict(plan.head())
    head["images"] = [
        {
            "image": a.image,
            "task": a.task,
            "phase": a.phase,
            "annotators": list(a.annotators),
            "reviewer": a.reviewer,
        }
        for a in plan.assignments.values()
    ]
    return head


def test_images_json_is_the_whole_list_byte_for_byte(big: Project) -> None:
    records = big.store.catalog.all()
    assert len(records) == N
    old = json.dumps([r.to_dict() for r in records], indent=2, default=str) + "\n"
    out = run("images", str(big.root), "--json")
    assert out == old.encode()
    assert json.loads(out) == [r.to_dict() for r in records]


def test_images_text_is_the_whole_listing(big: Project) -> None:
    out = run("images", str(big.root))
    assert out.decode() == old_listing(big.store.catalog.all())
    assert out.count(b"\n") == N + 2


def test_empty_catalog_lists_nothing(project: Project) -> None:
    assert run("images", str(project.root), "--json") == b"[]\n"
    assert run("images", str(project.root)).decode().endswith("\n0 images\n")


@pytest.mark.parametrize("spot_check_by", ["", "lot"])
def test_qa_plan_json_is_the_old_document(big: Project, spot_check_by: str) -> None:
    cfg = big.config_path.read_text()
    try:
        if spot_check_by:
            big.config_path.write_text(
                cfg.replace('spot_check_by = ""', f'spot_check_by = "{spot_check_by}"')
            )
        project = Project.open(big.root)
        old = old_plan(project)
        assert old["settings"]["spot_check_by"] == spot_check_by
        assert {len(i["annotators"]) for i in old["images"]} == {1, 2}
        assert any(i["reviewer"] for i in old["images"])
        out = run("qa", "plan", str(big.root), "--json")
        assert out == (json.dumps(old, indent=2, default=str) + "\n").encode()
        assert json.loads(out) == old
    finally:
        big.config_path.write_text(cfg)


@pytest.mark.parametrize(
    "args", ["images {} --json", "images {}", "images list {} --json", "qa plan {} --json"]
)
def test_a_reader_that_stops_early_ends_it_quietly(big: Project, args: str) -> None:
    """`qclabel ... | head`: what head got is the start of the document, and the
    command stops without a traceback or an error line, as SIGPIPE stops a tool."""
    argv = [*QCLABEL, *args.format(big.root).split()]
    head = subprocess.run(
        f'{shlex.join(argv)} 2>err.txt | head -c 300 > head.txt; echo "${{PIPESTATUS[0]}}"',
        shell=True,
        executable="/bin/bash",
        cwd=big.root.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    got = (big.root.parent / "head.txt").read_bytes()
    err = (big.root.parent / "err.txt").read_text()
    assert len(got) == 300
    assert got.startswith(b"[\n  {\n" if args.startswith("images") and "json" in args else b"")
    assert got.startswith(b'{\n  "settings"' if args.startswith("qa") else b"")
    assert err == "", err
    assert head.stdout.strip() == "141"  # 128 + SIGPIPE, as a tool SIGPIPE ends


def test_indented_is_json_dumps_indent_2() -> None:
    rng = random.Random(7)
    atoms = ["a", "é\u2028\x1b\x00", "", 0, -5, 1.5, float("nan"), float("-inf"), True]
    atoms += [False, None, 10**30, "\udcff", (1, 2), [], {}, ()]

    def value(depth: int) -> object:
        roll = rng.random()
        if depth > 3 or roll < 0.5:
            return rng.choice(atoms)
        if roll < 0.75:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        keys = ["k", "é", "\n", 1, 2.5, None, True]
        return {rng.choice(keys) if rng.random() < 0.8 else n: value(depth + 1) for n in range(4)}

    for _ in range(5000):
        v = value(0)
        for level in (0, 1, 3):
            want = json.dumps(v, indent=2, default=str).replace("\n", "\n" + "  " * level)
            assert indented(v, level) == want
    assert indented(Path("/x")) == json.dumps(Path("/x"), indent=2, default=str)


def test_first_key_varies_tells_rests_apart_by_type() -> None:
    fmt = first_key_varies("image")
    rows = [
        {"image": "a", "n": 1, "l": ["x"]},
        {"image": "b", "n": True, "l": ["x"]},
        {"image": "c", "n": 1.0, "l": ["x"]},
        {"image": "d", "n": 1, "l": [1]},
        {"image": "e", "n": 1, "l": [True]},
        {"image": "f\n\x00", "n": 1, "l": ["x"]},
        {"image": 7, "n": 1, "l": ["x"]},
        {"n": 1, "image": "g"},
        {"image": "h", "n": {"deep": [1]}},
    ]
    for row in rows * 2:
        assert fmt(row, 1) == indented(row, 1)


def test_a_users_assignments_are_theirs_of_the_whole_plan(big: Project) -> None:
    plan = build_plan(big)
    every = list(plan.assignments.values())
    for user in ("ann", "bob", "cid", "rev", "nobody"):
        want = [a for a in every if user in a.annotators or a.reviewer == user]
        assert plan.assignments_for(user) == want
        assert bool(want) == (user != "nobody")


@pytest.mark.parametrize("user, done_too", [("ann", False), ("rev", True)])
def test_qa_queue_lists_what_it_listed_one_by_one(big: Project, user: str, done_too: bool) -> None:
    """`qa queue --user U` (run by the project's admin) names the images a page at a
    time: the same names, roles and order as one catalog lookup per image gave."""
    from qclabel.core.naming import image_name
    from qclabel.qa.plan import queue_items

    items = queue_items(big, user, pending_only=not done_too)  # a review waits for a label
    more = ["--all"] if done_too else []
    assert len(items) > 1000
    catalog = big.store.catalog
    want = [
        {"image": i.image, "file": image_name(catalog.get(i.image)), "role": i.role} for i in items
    ]
    code = (
        "import sys; from qclabel import identity; identity.current_user = lambda: 'admin'; "
        "from qclabel.entry import main; sys.argv[0] = 'qclabel'; main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "qa", "queue", str(big.root), "--user", user, "--json", *more],
        capture_output=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout == (json.dumps(want, indent=2, default=str) + "\n").encode()
    text = subprocess.run(
        [sys.executable, "-c", code, "qa", "queue", str(big.root), "--user", user, *more],
        capture_output=True,
        timeout=300,
    ).stdout
    lines = "".join(f"{w['file']}  {w['role']}\n" for w in want)
    assert text == lines.encode("utf-8", "surrogateescape")  # names as the OS gave them
