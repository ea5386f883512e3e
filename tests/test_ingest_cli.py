"""The ingest and images commands, the progress bar, profile errors, parallel runs
(process pool, Dask LocalCluster), and the single-writer lock."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.cli.ingest_cmds import ProgressBar
from qclabel.errors import ConfigError
from qclabel.ingest import ingest_paths, load_canonical_array
from qclabel.ingest.parallel import SchedulerError, dask_executor
from qclabel.ingest.runner import IngestBusy, _ingest_lock

from test_ingest_helpers import make_project, save, texture

FIELDS = r"^(?P<part>P\d+)_(?P<lot>L\d+)_"


def folder_of_images(root, n=6):
    for i in range(n):
        save(root / f"sub{i % 2}" / f"P{i}_L{i % 3}_img.png", texture(20, 30, seed=i))
    return root


def test_ingest_then_images_json_and_table(tmp_path):
    project = make_project(
        tmp_path / "p", {"default": {"fields": {"pattern": FIELDS}, "mm_per_px": 0.1}}
    )
    src = folder_of_images(tmp_path / "src")
    run = CliRunner().invoke(main, ["ingest", str(project.root), str(src), "--workers", "1"])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("6 added, 0 duplicates, 0 failed (profile default")
    listed = json.loads(CliRunner().invoke(main, ["images", str(project.root), "--json"]).output)
    assert [d["seq"] for d in listed] == [1, 2, 3, 4, 5, 6]
    first = listed[0]
    assert first["source"] == str(src / "sub0" / "P0_L0_img.png")
    assert [first[k] for k in ("width", "height", "bit_depth", "channels")] == [30, 20, 8, 3]
    assert first["fields"] == {"part": "P0", "lot": "L0"} and first["mm_per_px"] == 0.1
    table = CliRunner().invoke(main, ["images", str(project.root)]).output.splitlines()
    assert table[-1] == "6 images" and len(table) == 8
    assert "30x20" in table[1] and "part=P0" in table[1] and first["sha256"][:12] in table[1]


def test_rerun_is_idempotent(tmp_path):
    project = make_project(tmp_path / "p")
    src = folder_of_images(tmp_path / "src")
    save(tmp_path / "src" / "copy_of_first.png", texture(20, 30, seed=0))  # same content
    first = ingest_paths(project, [src], workers=1)
    assert len(first.added) == 6 and len(first.duplicates) == 1
    catalog_before = (project.root / "catalog.sqlite").read_bytes()
    second = json.loads(
        CliRunner()
        .invoke(main, ["ingest", str(project.root), str(src), "--json", "--workers", "1"])
        .output
    )
    assert second["added"] == [] and len(second["duplicates"]) == 7
    assert (project.root / "catalog.sqlite").read_bytes() == catalog_before


def test_unknown_profile_and_bad_profile_key_are_clear_errors(tmp_path):
    project = make_project(tmp_path / "p", {"default": {"orient": True}, "bad": {"max_size": -3}})
    src = folder_of_images(tmp_path / "src", 1)
    out = CliRunner().invoke(main, ["ingest", str(project.root), str(src), "--profile", "nope"])
    assert out.exit_code == 2
    assert "profiles = 'nope': no such profile; defined: bad, default" in out.output
    with pytest.raises(ConfigError, match=r"profiles\.bad\.max_size = -3: expected a positive"):
        ingest_paths(project, [src], profile="bad")
    assert len(project.store.catalog) == 0


def test_progress_bar_shows_rate_and_eta():
    now = [0.0]
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10, clock=lambda: now[0], every=0)
    bar("ingest", 0, 100)
    now[0] = 2.0
    bar("ingest", 25, 100)
    assert bar.line("ingest", 25, 100) == "ingesting [##........] 25/100  25%    12.5/s ETA 0:06"
    now[0] = 8.0
    bar("ingest", 100, 100)
    assert stream.getvalue().endswith("100/100 100%    12.5/s ETA 0:00\x1b[K\n")


def test_cli_progress_goes_to_stderr_only_when_asked(tmp_path):
    project = make_project(tmp_path / "p")
    src = folder_of_images(tmp_path / "src", 2)
    runner = CliRunner()
    run = runner.invoke(
        main, ["ingest", str(project.root), str(src), "--progress", "--workers", "1"]
    )
    assert "ingesting [" in run.stderr and "ingesting [" not in run.stdout
    quiet = runner.invoke(main, ["ingest", str(project.root), str(src), "--workers", "1"])
    assert quiet.stderr == ""  # CliRunner's stderr is not a terminal


def test_help_texts():
    for cmd in (["ingest", "--help"], ["images", "--help"]):
        out = CliRunner().invoke(main, cmd)
        assert out.exit_code == 0 and "DIR" in out.output
    assert "--scheduler ADDRESS" in CliRunner().invoke(main, ["ingest", "--help"]).output


def test_ingest_commands_do_not_import_textual(tmp_path):
    project = make_project(tmp_path / "p")
    src = folder_of_images(tmp_path / "src", 1)
    code = (
        "import sys; from qclabel.cli import main; "
        f"main(['ingest', {str(project.root)!r}, {str(src)!r}, '--workers', '1'], "
        "standalone_mode=False); assert 'textual' not in sys.modules, 'textual loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_process_pool_gives_the_same_catalog_as_one_worker(tmp_path):
    src = folder_of_images(tmp_path / "src", 8)
    arr16 = np.linspace(0, 60000, 900).reshape(30, 30).astype(np.uint16)
    save(tmp_path / "src" / "x16.tif", arr16)
    one, pool = make_project(tmp_path / "one"), make_project(tmp_path / "pool")
    r1 = ingest_paths(one, [src], workers=1)
    r2 = ingest_paths(pool, [src], workers=2)
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k != "added"}  # noqa: E731
    assert [strip(r) for r in r1.added] == [strip(r) for r in r2.added]
    assert len(r2.added) == 9 and r2.failed == []


def test_dask_local_cluster_runs_the_same_work(tmp_path):
    distributed = pytest.importorskip("distributed")
    project = make_project(tmp_path / "p", {"default": {"normalize": {"method": "clahe"}}})
    src = folder_of_images(tmp_path / "src", 4)
    (tmp_path / "src" / "bad.png").write_text("no")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        run = CliRunner().invoke(
            main,
            [
                "ingest",
                str(project.root),
                str(src),
                "--json",
                "--scheduler",
                cluster.scheduler_address,
            ],
        )
    assert run.exit_code == 1, run.output
    data = json.loads(run.stdout)
    assert len(data["added"]) == 4 and [f["path"] for f in data["failed"]] == [
        str(tmp_path / "src" / "bad.png")
    ]
    rec = project.store.catalog.all()[0]
    assert rec.file.startswith("canonical/")
    assert load_canonical_array(rec, project.root).shape == (20, 30, 3)


def test_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    with pytest.raises(
        SchedulerError,
        match=r"cannot connect to the Dask scheduler at "
        r"'tcp://127.0.0.1:1'",
    ):
        with dask_executor("tcp://127.0.0.1:1", timeout=0.5):
            pass


def test_a_second_concurrent_ingest_is_refused(tmp_path):
    project = make_project(tmp_path / "p")
    with _ingest_lock(project.root):
        with pytest.raises(IngestBusy, match="another ingest is running"):
            ingest_paths(project, [tmp_path], workers=1)


def _die(item):
    if item == "crash":
        os._exit(3)  # what a decoder segfault or the OOM killer does to a worker
    return item


def test_a_dying_worker_fails_its_items_not_the_run():
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    from qclabel.ingest.runner import _run

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as pool:
        results = dict(_run(pool, _die, ["crash"]))
    assert isinstance(results[0], Exception) and "terminated abruptly" in str(results[0])


def test_cancel_keeps_the_finished_prefix(tmp_path):
    project = make_project(tmp_path / "p", {"default": {"colour": "grey-world"}})
    src = folder_of_images(tmp_path / "src", 6)
    seen = []

    def progress(stage, done, total):
        seen.append((stage, done))

    report = ingest_paths(
        project, [src], workers=1, progress=progress, cancel=lambda: ("ingest", 2) in seen
    )
    assert report.cancelled and len(report.added) == 2
    assert [r.id for r in project.store.catalog.all()] == [r.id for r in report.added]
    assert sorted(p.name for p in (project.root / "canonical").iterdir()) == sorted(
        f"{r.id}.png" for r in report.added
    )
    rest = ingest_paths(project, [src], workers=1)  # a later run picks up the rest
    assert len(rest.added) == 4 and len(rest.duplicates) == 2 and not rest.cancelled


def test_the_project_folder_and_hidden_files_are_not_walked(tmp_path):
    src = folder_of_images(tmp_path / "line", 2)
    project = make_project(src / "project", {"default": {"colour": "grey-world"}})
    save(src / ".thumbs" / "t.png", texture(8, 8, seed=40))
    save(src / "._P0_L0_img.png", texture(8, 8, seed=41))  # OS droppings
    first = ingest_paths(project, [src], workers=1)
    assert len(first.added) == 2 and list((project.root / "canonical").glob("*.png"))
    again = ingest_paths(project, [src], workers=1)
    assert again.added == [] and len(again.duplicates) == 2 and again.failed == []
