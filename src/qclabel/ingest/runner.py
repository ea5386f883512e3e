"""Ingest: files and folders -> canonical images in the catalog.

    ingest_paths(project, paths, profile=None, workers=None, executor=None,
                 progress=None, cancel=None) -> IngestReport(added, duplicates, failed)

`failed` holds (path, reason) pairs; bad files never stop the run. The work runs on a
`concurrent.futures.Executor`: the one passed in (e.g. a Dask cluster's
`client.get_executor()`, left open), else a process pool of `workers` processes
(default: the CPU count; `workers=1`, or a run of fewer than four images, runs in
this process: a pool takes about a second to start). `progress(stage, done,
total)` is called from this thread with stage "hash" then "ingest"; `cancel()` is
polled between results (the app's stop button): the finished prefix is kept.

Re-running on the same paths is idempotent: images are identified by content hash
(one file: its sha256; a page of a multi-page TIFF: the file hash and page number;
a stitched part or focus stack: the hash of its members' hashes in order), so files
already in the catalog, or repeated within the run, are reported as duplicates.
The catalog is written in batches in a deterministic order (sorted paths); every
canonical file exists before its record is written.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..core.model import ImageRecord
from ..errors import OutputWriteError, StoreWriteError
from ..store.atomic import open_lock
from . import work
from .steps import TEMP_DIR
from .pool import _make_pool, _run
from .profiles import Profile, resolve_profile
from .report import IngestBusy, IngestReport, IngestWriteError
from .walk import Unit, discover, make_units

if TYPE_CHECKING:
    from ..project import Project

Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]
BATCH = 500  # catalog records per atomic write
HASH_CHUNK = 16  # files per hashing task


@contextmanager
def _ingest_lock(root: Path) -> Iterator[None]:
    what = f"cannot ingest into {root} (nothing was added): cannot create {root / '.ingest.lock'}"
    fd = open_lock(root / ".ingest.lock", 0o644, OutputWriteError, what)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusy(
                f"{root}: another ingest is running on this project; wait for it to finish"
            ) from None
        _clean_temp(root)
        yield
    finally:
        os.close(fd)


def _clean_temp(root: Path) -> None:
    """Temp files a killed run left behind (complete files are simply overwritten).
    They live in their own small folder, so this never lists canonical/, which holds
    one file per derived image (a million at scale)."""
    tmp = root / TEMP_DIR
    try:
        tmp.mkdir(exist_ok=True)
        for f in tmp.glob("*.tmp"):
            f.unlink(missing_ok=True)
    except OSError:  # a read-only project: each canonical write then fails with its reason
        pass


def _hash_all(
    executor: Executor,
    files: list[str],
    progress: Progress | None,
    report: IngestReport,
    cancel: Cancel | None,
) -> dict[str, str]:
    chunks = [files[i : i + HASH_CHUNK] for i in range(0, len(files), HASH_CHUNK)]
    digests: dict[str, str] = {}
    done = 0
    for i, rows in _run(executor, work.hash_files, chunks):
        if isinstance(rows, Exception):
            rows = [(p, None, f"worker failed: {rows!r}") for p in chunks[i]]
        for path, digest, reason in rows:  # type: ignore[attr-defined]  # a list here
            if digest:
                digests[path] = digest
            else:
                report.failed.append((path, reason or "unreadable"))
        done += len(chunks[i])
        if progress:
            progress("hash", done, len(files))
        if cancel and cancel():
            report.cancelled = True
            break
    return digests


def _unit_digest(unit: Unit, digests: dict[str, str]) -> str:
    if unit.kind == "file":
        return digests[unit.paths[0]]
    joined = unit.kind + ":" + ",".join(digests[p] for p in unit.paths)
    return hashlib.sha256(joined.encode()).hexdigest()


def _tasks(
    project: Project,
    profile: Profile,
    units: list[Unit],
    digests: dict[str, str],
    report: IngestReport,
) -> list[dict[Any, Any]]:
    # only the ids this run could add are looked up (an index hit each), not the catalog
    known = project.store.catalog.known(
        _unit_digest(u, digests)[:16] for u in units if all(p in digests for p in u.paths)
    )
    tasks = []
    for unit in units:
        bad = [p for p in unit.paths if p not in digests]
        if bad:
            if unit.kind != "file":
                report.failed.append((unit.name, f"segment {bad[0]} failed (see above)"))
            continue
        digest = _unit_digest(unit, digests)
        if digest[:16] in known:
            report.duplicates.append(unit.name)
            report.duplicate_of[unit.name] = digest[:16]
            continue
        known.add(digest[:16])
        tasks.append(
            {
                "kind": unit.kind,
                "paths": unit.paths,
                "name": unit.name,
                "digests": [digests[p] for p in unit.paths],
                "digest": digest,
                "group_fields": _group_fields(unit, profile),
                "profile": profile,
                "root": str(project.root),
                "max_pixels": project.limits["max_pixels"],
            }
        )
    return tasks


def _group_fields(unit: Unit, profile: Profile) -> dict[str, str]:
    """Named groups of the grouping regex (the part or stack name), except `seq`."""
    if unit.kind == "file":
        return {}
    # A unit of several files exists only under a grouping profile whose regex matched.
    m = re.search(profile.group[1]["group"], Path(unit.paths[0]).stem)  # type: ignore[index]
    return {
        k: v
        for k, v in m.groupdict().items()  # type: ignore[union-attr]
        if k != "seq" and v is not None
    }


def ingest_paths(
    project: Project,
    paths: Iterable[Path],
    profile: str | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> IngestReport:
    """Ingest files and folders into the project's catalog; see the module docstring."""
    t0 = time.perf_counter()
    prof = resolve_profile(project.profiles, profile, project.config_path)
    report = IngestReport()
    with _ingest_lock(project.root):
        project.store.catalog.reload()
        files, report.failed = discover(paths, exclude=[project.root])
        own = executor is None
        units, group_failures = make_units(files, prof)
        report.failed += group_failures
        # A pool costs about a second to start: not worth it for a handful of images.
        wanted = min(workers or os.cpu_count() or 1, max(1, len(units) // 2))
        pool = executor or _make_pool(wanted, project.limits["max_pixels"])
        try:
            digests = _hash_all(pool, files, progress, report, cancel)
            tasks = [] if report.cancelled else _tasks(project, prof, units, digests, report)
            error = _process(project, pool, tasks, progress, report, cancel)
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
    report.failed.sort()
    report.elapsed_s = time.perf_counter() - t0
    if error is not None:
        raise IngestWriteError(
            f"cannot write the catalog {project.store.catalog.path}: "
            f"{getattr(error, 'strerror', None) or error}; {len(report.added)} images were "
            f"added before, {len(report.failed)} not (listed above)",
            report,
        )
    return report


def _process(
    project: Project,
    pool: Executor,
    tasks: list[dict[Any, Any]],
    progress: Progress | None,
    report: IngestReport,
    cancel: Cancel | None,
) -> OSError | StoreWriteError | None:
    """Run the units; write records in task order, BATCH at a time. On cancel, the
    finished prefix is kept and the canonical files of later units are removed. When
    a catalog write fails, every unit not yet in the catalog is listed as failed and
    its canonical files are removed (the run goes on to the end only to collect the
    files the workers still write); the error is returned."""
    results: dict[int, dict[Any, Any]] = {}
    next_index, pending = 0, []
    error: OSError | StoreWriteError | None = None
    for done, (i, result) in enumerate(_run(pool, work.process_unit, tasks), start=1):
        if isinstance(result, Exception):
            result = {"failed": (tasks[i]["name"], f"worker failed: {result!r}")}
        results[i] = result  # type: ignore[assignment]
        if progress:
            progress("ingest", done, len(tasks))
        while next_index in results:
            res = results.pop(next_index)
            if "failed" in res:
                report.failed.append(tuple(res["failed"]))
            else:
                pending.append((tasks[next_index]["name"], res["records"]))
            next_index += 1
        if error is None and len(pending) >= BATCH:
            error = _write_batch(project, pending, report)
            pending = []
        if error is not None and pending:
            _lose(project.root, pending, report, error)
            pending = []
        if cancel and cancel() and error is None:
            report.cancelled = True
            _discard(project.root, results.values())
            break
    if pending and error is None:
        error = _write_batch(project, pending, report)
    return error


def _write_batch(
    project: Project, pending: list[tuple[str, list[dict[Any, Any]]]], report: IngestReport
) -> OSError | StoreWriteError | None:
    try:
        report.added += project.store.catalog.add(
            [ImageRecord.from_dict(d) for _, recs in pending for d in recs]
        )
    except (OSError, StoreWriteError) as exc:  # SQLite's own errors come as the latter
        _lose(project.root, pending, report, exc)
        return exc
    return None


def _lose(
    root: Path,
    pending: list[tuple[str, list[dict[Any, Any]]]],
    report: IngestReport,
    exc: OSError | StoreWriteError,
) -> None:
    """Units that will not enter: listed as failed, their canonical files removed."""
    _discard(root, [{"records": recs} for _, recs in pending])
    report.failed += [
        (
            name,
            f"not added: the catalog could not be written "
            f"({getattr(exc, 'strerror', None) or exc})",
        )
        for name, _ in pending
    ]


def _discard(root: Path, results: Iterable[Any]) -> None:
    """Canonical files of units that did not enter the catalog."""
    for res in results:
        for rec in res.get("records", ()):
            if rec["file"].startswith("canonical/"):
                (root / rec["file"]).unlink(missing_ok=True)
