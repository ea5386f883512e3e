"""TFRecord for the TensorFlow Object Detection API, written without TensorFlow.

    <split>.tfrecord     one tf.train.Example per image
    label_map.pbtxt      item { id: 1 name: 'scratch' } ... (ids 1-based; 0 = background)

A record is: uint64 length, masked CRC32C of the length, payload, masked CRC32C of the
payload (little-endian). The payload, a serialized `tf.train.Example`, is encoded here
by hand (four small messages); features are written in key order so the bytes are
stable. An empty per-object list is still written as an empty list of its kind.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from . import masks_tf
from .dataset import Dataset, ExportImage, Progress, canonical_png, iter_progress
from .parts import hull as keypoint_bbox
from .parts import part_boxes

try:
    from crc32c import crc32c as _crc32c
except ImportError:  # pragma: no cover - pure-Python fallback, slow on image bytes
    _crc32c = None  # type: ignore[assignment]

_TABLE: list[int] = []


def crc32c(data: bytes) -> int:
    if _crc32c is not None:
        return _crc32c(data)
    if not _TABLE:
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _TABLE.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    length = struct.pack("<Q", len(payload))
    return (
        length
        + struct.pack("<I", masked_crc(length))
        + payload
        + struct.pack("<I", masked_crc(payload))
    )


# -- protobuf wire format -------------------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= 0xFFFFFFFFFFFFFFFF  # int64 negatives are 10-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def bytes_feature(values: list[bytes]) -> bytes:
    return _field(1, b"".join(_field(1, v) for v in values))  # Feature.bytes_list


def float_feature(values: list[float]) -> bytes:
    packed = struct.pack(f"<{len(values)}f", *values)
    return _field(2, _field(1, packed) if values else b"")  # Feature.float_list


def int64_feature(values: list[int]) -> bytes:
    packed = b"".join(_varint(v) for v in values)
    return _field(3, _field(1, packed) if values else b"")  # Feature.int64_list


def example(features: dict[str, bytes]) -> bytes:
    """Example{features: Features{feature: map<string, Feature>}}, keys sorted."""
    entries = b"".join(
        _field(1, _field(1, k.encode()) + _field(2, v)) for k, v in sorted(features.items())
    )
    return _field(1, entries)


# -- export ------------------------------------------------------------------------------
def export(
    ds: Dataset, out: Path, *, progress: Progress | None = None, cancel: Any = None, **_: Any
) -> dict[str, Any]:
    writers = {s: open(out / f"{s}.tfrecord", "wb") for s in ds.splits}
    try:
        for image in iter_progress(ds.images, progress, cancel):
            writers[image.split].write(frame(image_example(ds, image)))
    finally:
        for fh in writers.values():
            fh.close()
    (out / "label_map.pbtxt").write_text(label_map(ds))
    return {"images": len(ds.images)}


def label_map(ds: Dataset) -> str:
    return "".join(f"item {{\n  id: {i + 1}\n  name: '{c}'\n}}\n" for i, c in enumerate(ds.classes))


def _image_format(data: bytes) -> bytes:
    if data.startswith(b"\xff\xd8"):
        return b"jpeg"
    if data.startswith(b"BM"):
        return b"bmp"
    return b"png" if data.startswith(b"\x89PNG") else b"tiff"


def image_example(ds: Dataset, image: ExportImage) -> bytes:
    rec = image.record
    w, h = rec.width, rec.height
    data = ds.image_bytes(image)
    name = image.name
    if _image_format(data) == b"tiff":
        # TensorFlow's decode_image reads BMP, GIF, JPEG and PNG only: a TIFF goes in
        # as PNG at its own bit depth (decode_png reads 16 bits).
        data = canonical_png(rec, ds.root, ds.pixels)
        name = image.stem + ".png"
    objects = _objects(ds, image)
    boxes = [o[1] for o in objects]
    cls = image.annotation.defect_class  # image-level class, for classification models
    f: dict[str, bytes] = {
        "image/height": int64_feature([h]),
        "image/width": int64_feature([w]),
        "image/filename": bytes_feature([name.encode()]),
        "image/source_id": bytes_feature([rec.id.encode()]),
        "image/key/sha256": bytes_feature([rec.sha256.encode()]),
        "image/encoded": bytes_feature([data]),
        "image/format": bytes_feature([_image_format(data)]),
        "image/object/bbox/xmin": float_feature([b[0] / w for b in boxes]),
        "image/object/bbox/xmax": float_feature([(b[0] + b[2]) / w for b in boxes]),
        "image/object/bbox/ymin": float_feature([b[1] / h for b in boxes]),
        "image/object/bbox/ymax": float_feature([(b[1] + b[3]) / h for b in boxes]),
        "image/object/class/text": bytes_feature([o[0].encode() for o in objects]),
        "image/object/class/label": int64_feature([ds.class_id(o[0], image) + 1 for o in objects]),
        "image/class/label": int64_feature([ds.class_id(cls, image) + 1] if cls else []),
        "image/class/text": bytes_feature([cls.encode()] if cls else []),
        "image/object/difficult": int64_feature([0] * len(objects)),
        "image/object/truncated": int64_feature(
            [int(b[0] <= 0 or b[1] <= 0 or b[0] + b[2] >= w or b[1] + b[3] >= h) for b in boxes]
        ),
    }
    k = max((len(t.points) for t in ds.taxonomy.keypoint_templates), default=0)
    if k:
        f.update(_keypoint_features(objects, k, w, h))
    if masks_tf.has_masks(ds):
        others = len(objects) - len(masks_tf.mask_objects(ds, image))
        f["image/object/mask"] = bytes_feature(masks_tf.mask_pngs(ds, image, others))
    return example(f)


def _objects(ds: Dataset, image: ExportImage) -> list[tuple[str, tuple[Any, ...], Any]]:
    """(class, (x, y, w, h) px, keypoint set or None): boxes (a part's box carries its
    keypoint set), then the keypoint sets without a part box, boxed by their labeled
    points (the API wants a box for every object), then masks."""
    w, h = image.record.width, image.record.height
    parts = part_boxes(ds, image)
    by_box = {
        box.id: ks for ks in image.annotation.keypoints if (box := parts.get(ks.id)) is not None
    }
    out: list[tuple[str, tuple[Any, ...], Any]] = [
        (b.cls, (b.x, b.y, b.w, b.h), by_box.get(b.id)) for b in ds.boxes(image)
    ]
    for kps in image.annotation.keypoints:
        if kps.id not in parts:
            out.append((ds.keypoint_class(kps, image), keypoint_bbox(kps, w, h), kps))
    return out + masks_tf.mask_objects(ds, image)


def _keypoint_features(objects: list[Any], k: int, w: int, h: int) -> dict[str, bytes]:
    """Object Detection API keypoint keys: k points per object (the decoder reshapes to
    [objects, k]); boxes and shorter templates are padded with unlabeled points."""
    xs: list[float] = []
    ys: list[float] = []
    vis: list[int] = []
    num: list[int] = []
    names: list[bytes] = []
    for _cls, _box, kps in objects:
        points = list(kps.points) if kps is not None else []
        num.append(sum(1 for p in points if p.v > 0))
        for p in points:
            xs.append(min(max(p.x / w, 0.0), 1.0) if p.v else 0.0)
            ys.append(min(max(p.y / h, 0.0), 1.0) if p.v else 0.0)
            vis.append(p.v)
            names.append(p.name.encode())
        pad = k - len(points)
        xs += [0.0] * pad
        ys += [0.0] * pad
        vis += [0] * pad
        names += [b""] * pad
    return {
        "image/object/keypoint/x": float_feature(xs),
        "image/object/keypoint/y": float_feature(ys),
        "image/object/keypoint/visibility": int64_feature(vis),
        "image/object/keypoint/num": int64_feature(num),
        "image/object/keypoint/text": bytes_feature(names),
    }
