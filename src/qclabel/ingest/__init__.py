"""Stage 1: images enter the project in a consistent, reproducible form."""

from .runner import IngestReport, ingest_paths

__all__ = ["IngestReport", "ingest_paths"]
