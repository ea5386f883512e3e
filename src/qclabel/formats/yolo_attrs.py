"""The YOLO sidecar `qclabel_attributes.json`: what a YOLO row cannot hold (verdict,
image class, severities...), beside data.yaml. Ultralytics ignores the file; our
import reads it back, so severity and verdict survive a YOLO round trip.

    {"format": "qclabel-yolo-attributes", "version": 1,
     "labels": {"labels/train/a.txt": {"image": {"verdict": "fail", ...},
                                       "objects": [{"occluded": false, "severity": "minor"}, ...]}}}

`objects` has one entry per row of the label file, in row order (attributes.py), and
`sha256` is the label file's: a label file edited after the export (rows added,
removed, reordered) no longer matches, and its entry is ignored on import: the edited
rows win, without the severities the sidecar had for the old ones.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring_ascii
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.model import Annotation
from ..errors import FormatError
from . import safe_read
from .attributes import (
    AttributeTexts,
    apply_image,
    image_attributes,
    object_attributes,
    severity_of,
)
from .dataset import ExportImage

SIDECAR = "qclabel_attributes.json"
FORMAT = "qclabel-yolo-attributes"


def entry(image: ExportImage, severities: list[str | None], text: str) -> str:
    """The sidecar entry of one label file written with `text`, as the JSON text it
    has in the sidecar: an export holds 100k short strings, not 100k nested dicts."""
    return _dumps(
        {
            "image": image_attributes(image),
            "objects": [object_attributes(s) for s in severities],
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }
    )


def write_sidecar(path: Path, labels: dict[str, str]) -> None:
    """`json.dumps({"format": ..., "version": 1, "labels": {path: entry}})` with sorted
    keys, compact, from the entries' JSON texts (`entry`): the same bytes."""
    _write(path, labels, labels.__getitem__)


def _write(path: Path, keys: Any, text: Any) -> None:
    with open(path, "w") as fh:  # some entries at a time: no second copy of them all
        fh.write(f'{{"format":{_dumps(FORMAT)},"labels":{{')
        keys = sorted(keys)
        for n in range(0, len(keys), 2000):
            part = ",".join([_key(key) + ":" + text(key) for key in keys[n : n + 2000]])
            fh.write(("," if n else "") + part)
        fh.write('},"version":1}\n')


class Entries:
    """The sidecar of one export, its entries (`entry`) kept as their parts until it is
    written: the texts of the image's and the objects' attributes, made once per
    distinct attributes (attributes.AttributeTexts) and held once, and the label
    file's digest; joined as json.dumps joins them (compact, keys sorted: "image" <
    "objects" < "sha256"): the same text, without 100k strings of it held at once."""

    def __init__(self) -> None:
        self.texts = AttributeTexts(
            lambda image: _dumps(image_attributes(image)),
            lambda severity: _dumps(object_attributes(severity)),
        )
        self.objects: dict[tuple[str | None, ...], str] = {}  # severities -> their text
        self.parts: dict[str, tuple[str, str, bytes]] = {}

    def add(self, key: str, image: ExportImage, severities: list[str | None], data: bytes) -> None:
        """The entry of label file `key` (its path in the sidecar), written as `data`."""
        head = self.texts.image(image)
        sev = tuple(severities)
        names = all(s is None or type(s) is str for s in sev)  # 1 and True: one key
        objects = self.objects.get(sev) if names else None
        if objects is None:
            objects = ",".join([self.texts.object(s) for s in severities])
            if names and len(self.objects) < 4096:
                self.objects[sev] = objects
        self.parts[key] = (head, objects, hashlib.sha256(data).digest())

    def of(self, key: str) -> str:
        """`entry(image, severities, text)` of the label file `key`."""
        head, objects, digest = self.parts[key]
        return f'{{"image":{head},"objects":[{objects}],"sha256":"{digest.hex()}"}}'

    def write(self, path: Path) -> None:
        """`write_sidecar(path, {key: entry...})`."""
        _write(path, self.parts, self.of)


def _key(key: Any) -> str:
    """`_dumps(key)`; a str without an encoder made for it (100k keys)."""
    return encode_basestring_ascii(key) if type(key) is str else _dumps(key)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def read_sidecar(root: Path) -> dict[str, Any]:
    """label path (relative to the dataset folder, '/'-separated) -> entry; {} when the
    dataset has no sidecar (another tool wrote it)."""
    path = root / SIDECAR
    if not path.is_file():
        return {}
    doc = safe_read.load_json(path)  # bounded; NaN, huge numbers, deep nesting refused
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or not isinstance(doc.get("labels"), dict)
    ):
        raise FormatError(f"{path}: not a {FORMAT} file (format, labels)")
    result: dict[str, Any] = doc["labels"]
    return result


def apply(ann: Annotation, entry: Any, label: Path) -> Annotation:
    """`ann` with the image attributes and per-row severities of its sidecar entry.
    Rows of one label file are of one kind in our exports (boxes, keypoint sets or
    masks), so the objects are taken in row order."""
    where = str(label)
    if entry is None:
        return ann
    if not isinstance(entry, dict):
        raise FormatError(f"{where}: {SIDECAR} entry = {safe_read.shown(entry)}: expected a table")
    if entry.get("sha256") != hashlib.sha256(safe_read.read_bytes(label)).hexdigest():
        return ann  # the label file changed after the export: its rows win
    objects = entry.get("objects", [])
    n = len(ann.boxes) + len(ann.keypoints) + len(ann.masks)
    if not isinstance(objects, list) or len(objects) != n:
        raise FormatError(
            f"{where}: {SIDECAR} lists {len(objects)} objects for this file, "
            f"which has {n} rows (edited after the export?)"
        )
    sev = [severity_of(o, f"{where}: {SIDECAR} object {i + 1}") for i, o in enumerate(objects)]
    boxes = tuple(replace(b, severity=s or b.severity) for b, s in zip(ann.boxes, sev))
    masks = tuple(
        replace(m, severity=s or m.severity)
        for m, s in zip(ann.masks, sev[len(ann.boxes) + len(ann.keypoints) :])
    )
    return apply_image(replace(ann, boxes=boxes, masks=masks), entry.get("image"), where)
