"""Walk paths, read records, add them to the catalog; bad files are reported, not fatal."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..core.model import ImageRecord
from ..errors import ImageError
from .reader import read_record

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class IngestReport:
    added: list[ImageRecord] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def iter_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for root, _dirs, files in os.walk(p):
                out += [Path(root) / f for f in sorted(files)
                        if Path(f).suffix.lower() in EXTENSIONS]
        else:
            out.append(p)
    return sorted(out)


def ingest_paths(project, paths: Iterable[Path], profile: str = "default") -> IngestReport:
    report = IngestReport()
    records: list[ImageRecord] = []
    seen: set[str] = set(project.store.catalog.ids())
    for path in iter_files(paths):
        try:
            rec = read_record(path, profile, project.limits["max_pixels"])
        except (ImageError, OSError) as exc:
            report.failed.append((str(path), str(exc)))
            continue
        if rec.id in seen:
            report.duplicates.append(str(path))
            continue
        seen.add(rec.id)
        records.append(rec)
    report.added = project.store.catalog.add(records)
    return report
