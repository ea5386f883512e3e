"""What an ingest run reports, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.model import ImageRecord
from ..errors import OutputWriteError, QclabelError


class IngestBusy(QclabelError):
    """Another ingest is writing to the same project."""


@dataclass
class IngestReport:
    added: list[ImageRecord] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    duplicate_of: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[Any, Any]:
        return {
            "added": [r.id for r in self.added],
            "duplicates": [{"path": p, "id": self.duplicate_of.get(p)} for p in self.duplicates],
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "cancelled": self.cancelled,
            "elapsed_s": round(self.elapsed_s, 3),
        }


class IngestWriteError(OutputWriteError):
    """The catalog (or the ingest lock) could not be written: disk full, read-only,
    I/O error. `report` lists every file that did not enter; none left a canonical
    file behind."""

    def __init__(self, message: str, report: "IngestReport"):
        super().__init__(message)
        self.report = report
