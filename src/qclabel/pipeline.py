"""The repeatable pipeline: new images to a new exported dataset version, in one command.

    [pipeline]
    version_prefix = "auto"            # versions auto-0001, auto-0002, ...
    min_status = "reviewed"            # the version's settings (as `version create`)
    split = [0.8, 0.1, 0.1]
    group_by = "part"
    seed = 0
    gates = ["lots_accepted"]          # a subset of [qa.gates]; default: all of them

    [[pipeline.sources]]               # watched folders, each with its ingest profile
    path = "/data/line4/cam1"
    profile = "area-scan"

    [[pipeline.exports]]               # written for every new version
    format = "yolo"
    task = "detect"
    out = "/data/exports/line4-yolo"

`run(project, actor)` ingests what is new in the sources, publishes the QA plan (the
queues), and when there are final labels that differ from the last pipeline version and
the gates pass, creates the next version and writes every export of it. An export that
already holds the version is left alone, so a run with nothing new writes nothing at
all; a run that changed something is recorded as a `pipeline` event in the runner's
journal (the audit trail). Relative paths are relative to the project folder.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .errors import QclabelError, StoreWriteError
from .formats import VERSION_FILE, export_project
from .project import Project
from .qa.kinds import PIPELINE
from .pipeline_settings import settings
from .store.atomic import open_lock

LOCK = ".pipeline.lock"


class PipelineBusy(QclabelError):
    """Another pipeline run holds the project."""

    exit_code = 4


@dataclass
class RunReport:
    dry_run: bool
    ingested: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)
    queues_changed: list[str] = field(default_factory=list)
    version: str | None = None
    version_note: str = ""
    exports: list[dict[str, Any]] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    version_new: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            sum(self.ingested.values())
            or self.queues_changed
            or self.version_new
            or any(e["written"] for e in self.exports)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ingested": self.ingested,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "queues_changed": self.queues_changed,
            "version": self.version,
            "version_created": self.version_new,
            "version_note": self.version_note,
            "gates": self.gates,
            "exports": self.exports,
            "changed": self.changed,
        }


# -- the run ----------------------------------------------------------------------------
@contextmanager
def _locked(root: Path) -> Iterator[None]:
    fd = open_lock(root / LOCK, 0o664, StoreWriteError, "cannot run the pipeline")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineBusy(f"{root}: another pipeline run is in progress") from None
        yield
    finally:
        os.close(fd)


def run(project: Project, actor: str, dry_run: bool = False) -> RunReport:
    project.require(actor, "admin", "run the pipeline")
    cfg = settings(project)
    report = RunReport(dry_run)
    with nullcontext() if dry_run else _locked(project.root):  # a dry run writes nothing
        _ingest(project, cfg, report)
        from .qa.queues import publish

        changed = publish(project, actor, dry_run=dry_run)
        report.queues_changed = sorted(u for u, c in changed.items() if c)
        _version(project, actor, cfg, report)
        _exports(project, cfg, report)
        if report.changed and not dry_run:
            _log(project, actor, report)
    return report


def _ingest(project: Project, cfg: dict[str, Any], report: RunReport) -> None:
    from .ingest import ingest_paths

    for src in cfg["sources"]:
        key = str(src["path"])
        if report.dry_run:
            report.ingested[key] = _new_units(project, src)
            continue
        result = ingest_paths(project, [src["path"]], profile=src["profile"])
        report.ingested[key] = len(result.added)
        report.failed += result.failed
    project.store.catalog.reload()


def _new_units(project: Project, src: dict[str, Any]) -> int:
    """How many images ingest would add (by content hash), without ingesting."""
    from .ingest.profiles import resolve_profile
    from .ingest.runner import _unit_digest
    from .ingest.walk import discover, make_units
    from .ingest.work import hash_files

    prof = resolve_profile(project.profiles, src["profile"], project.config_path)
    files, _ = discover([src["path"]], exclude=[project.root])
    units, _ = make_units(files, prof)
    digests = {p: d for p, d, _ in hash_files(files) if d}
    ready = [_unit_digest(u, digests)[:16] for u in units if all(p in digests for p in u.paths)]
    known = project.store.catalog.known(ready)  # index lookups, not the whole catalog
    return sum(1 for i in ready if i not in known)


def _latest(project: Project, prefix: str) -> tuple[str | None, int]:
    from .versions import list_names

    best, number = None, 0
    for name in list_names(project):
        tail = name[len(prefix) + 1 :] if name.startswith(prefix + "-") else ""
        if tail.isdigit() and int(tail) > number:
            best, number = name, int(tail)
    return best, number


def _version(project: Project, actor: str, cfg: dict[str, Any], report: RunReport) -> None:
    from .versions import build_manifest, create_version, get_version

    last, number = _latest(project, cfg["prefix"])
    settings = dict(
        min_status=cfg["min_status"],
        ratios=cfg["split"],
        group_by=cfg["group_by"],
        seed=cfg["seed"],
    )
    manifest = build_manifest(project, gates=cfg["gates"], **settings)
    report.gates = manifest["qa"]["evidence"]["gates"]
    report.version = last
    failed = [g["gate"] for g in report.gates if not g["passed"]]
    if not manifest["labels"]:
        report.version_note = "no final labels yet"
    elif last and get_version(project, last)["hash"] == manifest["hash"]:
        report.version_note = f"final labels unchanged since {last}"
    elif failed:
        report.version_note = "quality gates not passed: " + ", ".join(failed)
    else:
        name = f"{cfg['prefix']}-{number + 1:04d}"
        report.version, report.version_new = name, True
        report.version_note = f"{len(manifest['labels'])} images"
        if not report.dry_run:
            create_version(project, name, actor, gates=cfg["gates"], manifest=manifest, **settings)


def _exports(project: Project, cfg: dict[str, Any], report: RunReport) -> None:
    from .versions import get_version

    for t in cfg["exports"]:
        row = {
            "format": t["format"],
            "task": t["task"],
            "out": str(t["out"]),
            "version": report.version,
            "written": False,
        }
        report.exports.append(row)
        if report.version is None:
            continue
        if not report.version_new and _holds(t, get_version(project, report.version)):
            continue
        row["written"] = True
        if not report.dry_run:
            export_project(
                project,
                t["format"],
                t["out"],
                version=report.version,
                task=t["task"],
                link=t["images"],
            )


def _holds(target: dict[str, Any], manifest: dict[str, Any]) -> bool:
    """The export folder already holds exactly this version in this format."""
    try:
        info = json.loads((Path(target["out"]) / VERSION_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (
        info.get("content_hash") == manifest["hash"]
        and info.get("format") == target["format"]
        and info.get("task") in (target["task"], None)
    )


def _log(project: Project, actor: str, report: RunReport) -> None:
    after = report.to_dict()
    after.pop("gates")  # the version's QA evidence holds them
    with project.store.open_session(actor) as session:
        session.record(PIPELINE, PIPELINE, session.get(PIPELINE, PIPELINE), after, "pipeline run")
