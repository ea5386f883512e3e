"""`qclabel_version.json`, written into every export: what it was made from."""

from __future__ import annotations

import json

from .dataset import Dataset

VERSION_FILE = "qclabel_version.json"


def version_file(
    ds: Dataset, fmt: str, task: str, incomplete: int = 0, synthetic_left_out: int = 0
) -> str:
    """What the export was made from: enough to trace a model back to its data."""
    m = ds.manifest
    info = {
        "version": m.get("name"),
        "created": m.get("created"),
        "created_by": m.get("created_by"),
        "content_hash": ds.content_hash,
        "format": fmt,
        "task": task if fmt == "yolo" else None,
        "classes": ds.classes,
        "settings": m["settings"],
        "images": {s: len(ds.in_split(s)) for s in ds.splits},
        "qa": m.get("qa", {}),
    }
    if incomplete:
        info["left_out_incomplete"] = incomplete
    if ds.has_synthetic:  # every augmented image, with the real images it came from
        info["synthetic"] = [
            {"file": f"{i.split}/{i.name}", "id": i.record.id, "sources": i.synthetic["sources"]}
            for i in ds.images
            if i.synthetic is not None
        ]
    if synthetic_left_out:
        info["synthetic_left_out"] = synthetic_left_out
    return json.dumps(info, indent=2, sort_keys=True)
