"""Typed errors. Each names the offending file, field and value so the CLI can print
one clear line instead of a traceback."""

from __future__ import annotations

from typing import Iterable


class QclabelError(Exception):
    """Base class: everything the user can cause and fix."""

    exit_code = 2


class ConfigError(QclabelError):
    """A project config or taxonomy file is missing, malformed or invalid."""

    def __init__(self, file: object, field: str, value: object, reason: str):
        self.file, self.field, self.value, self.reason = str(file), field, value, reason
        super().__init__(f"{self.file}: {field} = {value!r}: {reason}")


class NotAProjectError(QclabelError):
    """A folder that holds no qclabel project."""


class ProjectVersionError(QclabelError):
    """A project written by another, incompatible qclabel version."""


class PermissionDenied(QclabelError):
    """The current user lacks the role an action needs."""

    exit_code = 3


class SessionLocked(QclabelError):
    """The user already has a writing session open on this project."""

    exit_code = 4


class StoreWriteError(QclabelError):
    """A label could not be made durable (disk full, read-only, I/O error).
    Nothing was acknowledged."""

    exit_code = 5


class JournalCorrupt(QclabelError):
    """A journal cannot be replayed: altered, reordered or cut in the middle."""


class OutputWriteError(QclabelError):
    """An export, an ingest or a catalog could not be written (disk full, read-only
    folder, I/O error). What was there before is unchanged."""

    exit_code = 5


class InvalidGeometry(QclabelError, ValueError):
    """A coordinate that is not a finite number (NaN, inf): no label may hold one, or
    exports would drop the object silently."""


class ImageError(QclabelError):
    """An image file cannot be read or is outside the limits."""


class FormatError(QclabelError):
    """An import file is malformed or inconsistent with the project."""


class InconsistentLabel(QclabelError):
    """A label change that would break a consistency rule (core.consistency): nothing
    was saved. `findings` holds what the change would have broken."""

    def __init__(self, message: str, findings: Iterable[object] = ()):
        self.findings = tuple(findings)
        super().__init__(message)
