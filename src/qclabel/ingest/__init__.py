"""Stage 1: images enter the project in a consistent, reproducible form.

    ingest_paths(project, paths, profile=None, workers=None, executor=None, progress=None)
        -> IngestReport(added, duplicates, failed[(path, reason)])
    load_canonical(record, root) / load_canonical_array(record, root)

Modules: walk (find files, group units), work (per-unit work on the executor), steps
(decode, finish, record, canonical file shared by units), grouped (stitch and focus
stack units), pngwrite (the canonical 8-bit PNG writer),
pixels (decode/encode), metadata (EXIF, DPI, manufacturing fields), ops (window,
normalization, colour, crop, resize), combine (line-scan stitching, focus stacking),
profiles (validated, hashed source profiles), runner (the run itself), parallel (Dask).
"""

from .reader import load_canonical, load_canonical_array
from .runner import IngestReport, ingest_paths

__all__ = ["IngestReport", "ingest_paths", "load_canonical", "load_canonical_array"]
