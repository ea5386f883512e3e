"""One synthetic image from one task: the function every worker runs.

Module-level and fed plain data, so a process pool or a Dask cluster can run it; it
reads the source pixels, writes the synthetic file (atomically) and returns the image's
catalog entry and labels. Everything random comes from `default_rng([seed, index])`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.model import Annotation, ImageRecord
from ..core.taxonomy import load_taxonomy
from ..ingest import load_canonical_array
from ..ingest.pixels import encode_canonical, write_file
from . import ops as O
from .copypaste import paste, placement
from .labels import transform_annotation
from .recipe import load_recipe

_SKIP = ("exif", "added", "seq")


def render_task(task: dict[str, Any], root: str) -> dict[str, Any]:
    """Make, write and describe one synthetic image."""
    taxonomy = load_taxonomy(task["taxonomy"], "<version taxonomy>")
    recipe = load_recipe(
        {"augment": {"recipes": {task["recipe"]: task["recipe_spec"]}}}, task["recipe"]
    )
    rng = np.random.default_rng([task["seed"], task["index"]])
    rec = ImageRecord.from_dict(task["source"])
    image = _load(rec, root)
    ann = Annotation.from_dict(task["label"]["annotation"])
    steps: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    sources = [rec.id]
    base = rec
    if task["kind"] == "paste":
        base = ImageRecord.from_dict(task["dest"])
        dest = _load(base, root)
        instance = next(m for m in ann.masks if m.id == task["instance"])
        p = placement(instance, (base.width, base.height), recipe.op("copy_paste"), rng)
        image, ann, dropped = paste(
            dest,
            Annotation.from_dict(task["dest_label"]["annotation"]),
            image,
            ann,
            instance,
            {**p, "id": task["id"]},
            taxonomy,
            base.mm_per_px,
        )
        steps.append(p)
        sources = [base.id, rec.id]
    sampled = O.sample(recipe, rng)
    matrix, size = O.geometry(sampled, image.shape[1], image.shape[0])
    out = O.photometric(O.warp(image, matrix, size), sampled, rng)
    mm = base.mm_per_px / O.scale_of(matrix) if base.mm_per_px else None
    had_defects = _defects(ann)
    ann, cut = transform_annotation(ann, matrix, size, taxonomy, mm)
    dropped += cut
    if had_defects and not _defects(ann):
        # Every defect left the frame or fell below its minimum: a fail image with no
        # defect on it would teach nothing true, so none is made.
        return {"entry": None, "label": None, "dropped": dict(dropped)}
    # The same version, recipe and seed give the same bytes: an encoder whose output
    # depends on the pixels only (ISA-L's does not always: ingest.pngwrite).
    ext, data = encode_canonical(out, reproducible=True)
    rel = f"{task['folder']}/{task['name']}{ext}"
    dest_path = Path(root) / rel
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    write_file(dest_path, data)
    record = replace(
        base,
        id=task["id"],
        sha256=hashlib.sha256(data).hexdigest(),
        source=rel,
        file=rel,
        width=size[0],
        height=size[1],
        orientation=1,
        format=ext[1:].upper().replace("TIF", "TIFF"),
        mm_per_px=mm,
        sources=sources,
        page=0,
    )
    entry = {k: v for k, v in record.to_dict().items() if k not in _SKIP}
    entry["synthetic"] = {
        "sources": sources,
        "recipe": task["recipe"],
        "seed": task["seed"],
        "index": task["index"],
        "ops": steps + sampled,
        "matrix": [[round(float(v), 9) for v in row] for row in matrix],
    }
    label = {**task["label"], "annotation": ann.to_dict()}
    return {"entry": entry, "label": label, "dropped": dict(dropped)}


def _defects(ann: Annotation) -> int:
    return sum(1 for kind, _ in ann.objects() if kind.defect)


def _load(record: ImageRecord, root: str) -> np.ndarray:
    """The canonical pixels, once the file is checked against the version's hash (a
    synthetic image of a changed file would carry labels of other pixels)."""
    from ..formats.dataset import read_source

    read_source(record, Path(root))
    return load_canonical_array(record, root)
