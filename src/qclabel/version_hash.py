"""What a dataset version's hashes are computed over: the content hash (the data:
taxonomy, image identities, labels, splits) and the seal (the whole stored manifest),
and the label dicts a manifest stores."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from itertools import islice
from json.encoder import encode_basestring
from typing import Any, Iterable, Iterator

from .core.model import Annotation, Box
from .errors import FormatError

# What identifies an image's pixels: not where the file is, nor when it was ingested.
IMAGE_IDENTITY = ("id", "sha256", "profile_hash", "page", "width", "height", "orientation")


def _sha(body: Any) -> str:
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _label_content(annotation: dict[str, Any]) -> dict[str, Any]:
    """The labels without the random object ids: the same labels, the same content."""
    return {
        k: [{f: x for f, x in o.items() if f != "id"} for o in v]
        if isinstance(v, list) and v and isinstance(v[0], dict)
        else v
        for k, v in annotation.items()
    }


def content_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 over what defines the data: the taxonomy, each image's identity, its
    labels and split. Not the name, author, times, file paths, statuses or the split
    settings (which only led to the splits), so the same images and labels give the
    same hash however, whenever and wherever they were made. Format-1 manifests keep
    the hash they were created with."""
    if manifest.get("format", 1) < 2:
        return _sha(
            {k: manifest[k] for k in ("taxonomy", "images", "labels", "splits", "settings")}
        )
    labels = manifest["labels"]
    return hash_of(
        manifest["images"],
        ((i, _dumps(_label_content(labels[i]["annotation"]))) for i in sorted(labels)),
        manifest["splits"],
        manifest["taxonomy"],
    )


def hash_of(
    images: Iterable[Any],
    labels: Iterable[tuple[str, str]],
    splits: dict[str, str],
    taxonomy: Any,
) -> str:
    """A format-2 content hash from its parts: the image entries (dicts, or records
    with the same attributes) in manifest order, (image id, the JSON text of its label
    content: `label_text`) in id order, the splits and the taxonomy. It is
    `_sha({"taxonomy": ..., "images": [identity of each], "labels": {id: content},
    "splits": ...})`, fed to the hash a chunk at a time: the same bytes, without a
    second copy of every label and one string of them all (hundreds of MB at 100k),
    and without a manifest holding them (an export)."""
    h = hashlib.sha256()
    h.update(b'{"images":[')
    first = True
    for part in _chunks(images):
        ids = [_identity(e) for e in part]
        h.update((("" if first else ",") + _dumps(ids)[1:-1]).encode())
        first = False
    h.update(b'],"labels":{')
    first = True
    for part in _chunks(labels):
        # what _dumps of {id: content} gives, ids sorted: `"id":text` joined by ","
        body = ",".join(
            (_string(i) if type(i) is str else _dumps(i)) + ":" + text for i, text in part
        )
        h.update(_utf8(("" if first else ",") + body, part))
        first = False
    h.update(('},"splits":' + _dumps(splits) + ',"taxonomy":' + _dumps(taxonomy) + "}").encode())
    return h.hexdigest()


def _utf8(text: str, part: list[tuple[str, str]]) -> bytes:
    """`text.encode()`; a label holding a lone surrogate (JSON's `\\ud800`: a snapshot can
    hold one, though no qclabel journal line can) is refused naming its image."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        image = next((i for i, t in part if not (i + t).isascii() and _bad(i + t)), "?")
        raise FormatError(
            f"image {image}: its label holds a lone surrogate (text that is no Unicode), "
            "which no export or version can write; relabel the image"
        ) from None


def _bad(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _identity(entry: Any) -> dict[str, Any]:
    if isinstance(entry, dict):
        return {k: entry.get(k) for k in IMAGE_IDENTITY}
    return {k: getattr(entry, k) for k in IMAGE_IDENTITY}


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    it = iter(items)
    while part := list(islice(it, _CHUNK)):
        yield part


_CHUNK = 2000


# json.dumps(s, ensure_ascii=False) of a str, without an encoder made for each call
_string = encode_basestring


def _dumps(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def seal(manifest: dict[str, Any]) -> str:
    """SHA-256 over the whole stored manifest (tamper evidence for what the content
    hash leaves out: statuses, annotators, times, paths, settings)."""
    return _sha({k: v for k, v in manifest.items() if k != "seal"})


_BOX_FIELDS = ("cls", "x", "y", "w", "h", "severity", "id")
_FAST_BOXES = tuple(Box.__dataclass_fields__) == _BOX_FIELDS
# _rest_key names every field of a label but its objects: a field added to Annotation
# turns the fast paths off until it is named there too.
_FAST_BOXES = _FAST_BOXES and set(Annotation.__dataclass_fields__) == {
    "verdict", "defect_class", "severity", "checks", "flag", "skipped", "also",
    "boxes", "keypoints", "masks",
}  # fmt: skip


def label_content(annotation: Annotation) -> dict[str, Any]:
    """`_label_content(label_dict(annotation))`, what the content hash is taken over,
    without the label dict in between: for labels whose only objects are boxes, the
    rest of the dict is built once per distinct verdict/class/checks (an export hashes
    100k of them)."""
    if not annotation.boxes or not _FAST_BOXES or annotation.keypoints or annotation.masks:
        return _label_content(label_dict(annotation))
    base = _kept(_REST, annotation)
    if base is None:
        if not _names_only(annotation):
            return _label_content(label_dict(annotation))
        if len(_REST) > 4096:
            _REST.clear()
        base = _REST[_rest_key(annotation)] = _label_content(
            replace(annotation, boxes=()).to_dict()
        )
    d = dict(base)  # the lists in it are shared, and only read (json.dumps)
    d["boxes"] = [
        {"cls": b.cls, "x": b.x, "y": b.y, "w": b.w, "h": b.h, "severity": b.severity}
        for b in annotation.boxes
    ]
    return d


_REST: dict[tuple[Any, ...], dict[str, Any]] = {}


def _rest_key(annotation: Annotation) -> tuple[Any, ...]:
    """Every field of a label but its objects: equal keys, equal text around the boxes
    (for the keys `_names_only` lets into the caches)."""
    return (
        annotation.verdict,
        annotation.defect_class,
        annotation.severity,
        annotation.checks,
        annotation.flag,
        annotation.skipped,
        annotation.also,
    )


def _kept(cache: dict[tuple[Any, ...], Any], annotation: Annotation) -> Any:
    """What `cache` keeps for the label's key, or None. The caches keep names only
    (`_names_only`), and no other value equals a name, so any other label finds
    nothing there, but for `skipped`: 1 equals True (and is no bool: not kept)."""
    if type(annotation.skipped) is not bool:
        return None
    try:
        return cache.get(_rest_key(annotation))
    except TypeError:  # a list somewhere: no key
        return None


def _names_only(annotation: Annotation) -> bool:
    """Whether the label's fields but its objects hold names (str or None), the bool
    `skipped` and tuples of names only: 1, True and 1.0 are one dict key but three
    texts (0.0, -0.0 and False too), a list is no key at all, and a dict in `also`
    could hold a "boxes" key."""
    a = annotation
    v, c, s, f, checks, also = a.verdict, a.defect_class, a.severity, a.flag, a.checks, a.also
    if not (
        (v is None or type(v) is str)
        and (c is None or type(c) is str)
        and (s is None or type(s) is str)
        and (f is None or type(f) is str)
        and type(a.skipped) is bool
        and type(checks) is tuple
        and type(also) is tuple
    ):
        return False
    return all(type(c) is tuple and all(type(n) is str for n in c) for c in checks) and all(
        type(n) is str for n in also
    )


def label_text(annotation: Annotation) -> str:
    """`_dumps(label_content(annotation))`, the label's text in the content hash; for
    labels whose only objects are boxes of float coordinates it is written directly
    (json.dumps of 100k labels, sorting every box's keys, is most of an export's hash):
    the same text, keys in sorted order, floats as json writes them (`float.__repr__`)."""
    boxes = annotation.boxes
    if not boxes or not _FAST_BOXES or annotation.keypoints or annotation.masks:
        return _dumps(label_content(annotation))
    rows = []
    for b in boxes:
        x, y, w, h = b.x, b.y, b.w, b.h
        if not (
            type(x) is float and type(y) is float and type(w) is float and type(h) is float
        ) or not (x - x == 0.0 and y - y == 0.0 and w - w == 0.0 and h - h == 0.0):
            return _dumps(label_content(annotation))  # ints, subclasses, NaN: as json does
        rows.append(
            f'{{"cls":{_text(b.cls)},"h":{h!r},"severity":{_text(b.severity)},'
            f'"w":{w!r},"x":{x!r},"y":{y!r}}}'
        )
    parts = _rest_text(annotation)
    if parts is None:
        return _dumps(label_content(annotation))
    return parts[0] + ",".join(rows) + parts[1]


def _rest_text(annotation: Annotation) -> tuple[str, str] | None:
    """The label's text without its boxes, split where they go (`"boxes":[` ... `]`);
    None for a label holding more than names (`_names_only`)."""
    parts: tuple[str, str] | None = _kept(_REST_TEXT, annotation)
    if parts is None:
        if not _names_only(annotation):
            return None
        if len(_REST_TEXT) > 4096:
            _REST_TEXT.clear()
        text = _dumps(_label_content(replace(annotation, boxes=()).to_dict()))
        # the first '"boxes":[]' is the top-level key: inside a string every quote is
        # escaped, and the keys before it ("also") hold only strings
        at = text.index('"boxes":[]') + len('"boxes":[')
        parts = _REST_TEXT[_rest_key(annotation)] = (text[:at], text[at:])
    return parts


_REST_TEXT: dict[tuple[Any, ...], tuple[str, str]] = {}
_TEXTS: dict[str | None, str] = {}


def _text(value: str | None) -> str:
    """json's text of a class or severity name (a handful of distinct ones). Names
    only are kept, and no other value equals one: any other is written afresh (1 and
    True are one dict key, not one text)."""
    try:
        text = _TEXTS.get(value)
    except TypeError:  # a list: no key
        return _dumps(value)
    if text is None:
        if value is not None and type(value) is not str:
            return _dumps(value)
        if len(_TEXTS) > 4096:
            _TEXTS.clear()
        text = _TEXTS[value] = _dumps(value)
    return text


def label_dict(annotation: Annotation) -> dict[str, Any]:
    """`annotation.to_dict()`, with its boxes written without `dataclasses.asdict`
    (its deep copy is most of the cost at 300k boxes): the same dict."""
    if not annotation.boxes or not _FAST_BOXES:
        return annotation.to_dict()
    d = replace(annotation, boxes=()).to_dict()  # "boxes" keeps its place among the keys
    d["boxes"] = [
        {"cls": b.cls, "x": b.x, "y": b.y, "w": b.w, "h": b.h, "severity": b.severity, "id": b.id}
        for b in annotation.boxes
    ]
    return d
