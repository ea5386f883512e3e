"""What every exporter writes from: the images and final labels of one dataset version.

A `Dataset` is built from a version manifest (a frozen one, or one built on the fly
from the project's current final labels), so a live export and a version export run
the same code and the same version always produces the same bytes.
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ..core.model import Annotation, Box, ImageRecord, KeypointSet
from ..core.taxonomy import KeypointTemplate, Taxonomy, load_taxonomy
from ..errors import FormatError, QclabelError
from . import box_clip
from .export_names import _renamed, _unique_name
from .image_files import (
    PIXEL_MODES,
    canonical_png,
    is_derived,  # noqa: F401
    needs_reencode,
    place_image,
    read_source,
)

Progress = Callable[[int, int], None]
LINK_MODES = ("copy", "hardlink", "none")


class ExportCancelled(QclabelError):
    """The export was cancelled; the previous output is untouched."""


@dataclass(frozen=True)
class ExportImage:
    """One image as it appears in an export: record, final label, split, file name."""

    record: ImageRecord
    annotation: Annotation
    status: str
    annotators: tuple[str, ...]
    split: str
    name: str
    labeled_at: str = ""
    # Provenance of an augmented image (source ids, operations, seed); None when real.
    synthetic: dict[str, Any] | None = None

    @property
    def stem(self) -> str:
        return os.path.splitext(self.name)[0]

    @property
    def reencoded(self) -> bool:
        return needs_reencode(self.record)


class Dataset:
    """Images and final labels in a fixed order, with the taxonomy they were labeled in."""

    def __init__(
        self,
        manifest: dict[str, Any],
        root: Path,
        executor: Executor | None = None,
        annotations: dict[str, Annotation] | None = None,
    ):
        """`annotations`: the manifest's labels already built (image id -> Annotation,
        as `versions.build_manifest_and_labels` gives them), to skip building them again."""
        self.manifest = manifest
        self.root = Path(root)
        self.executor = executor  # copies images in parallel when set
        self.pending: list[Future[Any]] = []
        self.pending_hash: Any = None  # a live export's content hash, computed meanwhile
        self.taxonomy: Taxonomy = load_taxonomy(
            manifest["taxonomy"], f"<version {manifest.get('name', '')}>"
        )
        self.classes: list[str] = self.taxonomy.class_names()
        self.class_index = {c: i for i, c in enumerate(self.classes)}
        self.pixels = "keep"
        self.images = _build_images(manifest, annotations=annotations)
        # Every labeled image of the manifest, in its order: names are given over all
        # of them (with_pixels), whatever `without` left out since.
        self.every = self.images
        self.splits: list[str] = [
            s for s in ("train", "val", "test") if any(i.split == s for i in self.images)
        ] or ["train"]

    @classmethod
    def of_images(
        cls,
        manifest: dict[str, Any],
        root: Path,
        images: list[ExportImage],
        executor: Executor | None = None,
        pending_hash: Any = None,
    ) -> "Dataset":
        """A dataset of images already built (formats.live): `manifest` needs no
        images or labels then, only what describes them (taxonomy, name, hash...).
        `pending_hash`: its content hash, being computed (`.result()`, `.abandon()`)."""
        out = cls({**manifest, "images": [], "labels": {}}, root, executor)
        out.manifest, out.pending_hash = manifest, pending_hash
        out.images = out.every = images
        out.splits = [s for s in ("train", "val", "test") if any(i.split == s for i in images)]
        out.splits = out.splits or ["train"]
        return out

    def without(self, drop: Callable[[ExportImage], bool]) -> "Dataset":
        """The same dataset without the images `drop` picks (this one is unchanged)."""
        out = copy.copy(self)
        out.pending = []
        out.images = [i for i in self.images if not drop(i)]
        out.splits = [s for s in self.splits if any(i.split == s for i in out.images)] or ["train"]
        return out

    @property
    def images(self) -> list[ExportImage]:
        return self._images

    @images.setter
    def images(self, images: list[ExportImage]) -> None:
        self._images = images
        self._synthetic: bool | None = None  # computed once per list (asked per image)

    @property
    def has_synthetic(self) -> bool:
        if self._synthetic is None:
            self._synthetic = any(i.synthetic is not None for i in self._images)
        return self._synthetic

    @property
    def content_hash(self) -> str:
        """The manifest's content hash; a live export's is waited for here, once the
        files are written (formats.live computes it on the second core meanwhile)."""
        if "hash" not in self.manifest:
            self.manifest["hash"] = self.pending_hash.result()
        return str(self.manifest["hash"])

    def in_split(self, split: str) -> list[ExportImage]:
        return [i for i in self.images if i.split == split]

    def with_pixels(self, pixels: str) -> "Dataset":
        """The same images with their pixels kept or windowed to 8 bits (a windowed
        image is a PNG, so its file name may change)."""
        if pixels not in PIXEL_MODES:
            raise FormatError(f"--pixels {pixels!r}: expected one of {', '.join(PIXEL_MODES)}")
        out = copy.copy(self)
        out.pending, out.pixels = [], pixels
        # Only the file names can change (labels are kept), and only those of images
        # deeper than 8 bits (8bit re-encodes them as PNG): none, no names to give again.
        if pixels != self.pixels and any(i.record.bit_depth > 8 for i in self.every):
            out.images = _renamed(self.images, self.every, pixels)
        return out

    # -- classes and keypoint templates -------------------------------------------
    def class_id(self, name: str, image: ExportImage) -> int:
        """0-based index in the taxonomy; unknown names are refused, never appended."""
        try:
            return self.class_index[name]
        except KeyError:
            raise FormatError(
                f"image {image.record.file}: defect class {name!r} is not in "
                f"the taxonomy {self.classes}"
            ) from None

    def template_for_class(self, cls: str) -> KeypointTemplate | None:
        """The keypoint template of a class: the one with its name, else the only one."""
        templates = self.taxonomy.keypoint_templates
        named = [t for t in templates if t.name == cls]
        if named:
            return named[0]
        return templates[0] if len(templates) == 1 else None

    def keypoint_class(self, kps: KeypointSet, image: ExportImage) -> str:
        cls = kps.cls or (kps.template if kps.template in self.class_index else None)
        if cls is None:
            raise FormatError(
                f"image {image.record.file}: keypoint set {kps.id} "
                f"({kps.template}) has no defect class to export it under"
            )
        self.class_id(cls, image)
        return cls

    # -- geometry -------------------------------------------------------------------
    def boxes(self, image: ExportImage) -> list[Box]:
        """Boxes clipped to the canonical image; boxes clipped away entirely are dropped."""
        return box_clip.boxes(self, image)

    def clipped(self, image: ExportImage) -> list[tuple[Box, float, float, float, float]]:
        """(box, x, y, w, h) for each of `boxes(image)`: the box as labeled and the
        numbers of the box `boxes` gives for it, without building that Box."""
        return box_clip.clipped(self, image)

    # -- image bytes -------------------------------------------------------------------
    def source_path(self, record: ImageRecord) -> Path:
        p = Path(record.file)
        return p if p.is_absolute() else self.root / p

    def image_bytes(self, image: ExportImage) -> bytes:
        """The bytes to ship: the source file, or lossless canonical PNG when re-encoded."""
        if needs_reencode(image.record, self.pixels):
            return canonical_png(image.record, self.root, self.pixels)
        return read_source(image.record, self.root)

    def place_image(self, image: ExportImage, dest: Path, link: str) -> None:
        """Copy, link or re-encode one image; on the executor when one is set (the
        export waits for all of them before publishing the folder)."""
        if link == "none":
            return
        args = (image.record.to_dict(), str(self.root), str(dest), link, self.pixels)
        if self.executor is None:
            place_image(*args)
        else:
            self.pending.append(self.executor.submit(place_image, *args))

    def wait_images(self, cancel: Any = None) -> None:
        """Wait for the images handed to the executor; the first error is raised and
        the rest are left in `pending` for `abandon_images`."""
        done = 0
        try:
            for fut in self.pending:
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled("export cancelled; the previous output is untouched")
                fut.result()
                done += 1
        finally:
            del self.pending[:done]

    def abandon_images(self) -> None:
        """After a failure: drop queued copies and let running ones finish (and stop
        computing the content hash)."""
        if self.pending_hash is not None and "hash" not in self.manifest:
            self.pending_hash.abandon()
        pending, self.pending = self.pending, []
        for fut in pending:
            fut.cancel()
        wait(pending)


def _build_images(
    manifest: dict[str, Any], pixels: str = "keep", annotations: dict[str, Annotation] | None = None
) -> list[ExportImage]:
    built = annotations or {}
    labels = manifest["labels"]
    splits = manifest.get("splits", {})
    out: list[ExportImage] = []
    used: dict[str, set[str]] = {}
    for rec_dict in manifest["images"]:
        rec = ImageRecord.from_dict(rec_dict)
        if rec.id not in labels:
            continue
        lab = labels[rec.id]
        split = splits.get(rec.id, "train")
        name = _unique_name(rec, used.setdefault(split, set()), pixels)
        ann = built.get(rec.id)
        if ann is None:
            ann = Annotation.from_dict(lab["annotation"])
        out.append(
            ExportImage(
                rec,
                ann,
                lab["status"],
                tuple(lab.get("annotators", ())),
                split,
                name,
                lab.get("labeled_at", ""),
                rec_dict.get("synthetic"),
            )
        )
    return out


def iter_progress(items: list[Any], progress: Progress | None, cancel: Any = None) -> Iterator[Any]:
    """Yield items, reporting progress and honouring a cancel flag (`is_set()`)."""
    total = len(items)
    step = max(1, total // 200)
    for n, item in enumerate(items):
        if cancel is not None and cancel.is_set():
            raise ExportCancelled("export cancelled; the previous output is untouched")
        yield item
        if progress and (n % step == 0 or n + 1 == total):
            progress(n + 1, total)


def fmt(v: float) -> str:
    """Fixed-point number without trailing zeros: stable text for CSV and XML."""
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def r3(v: float) -> float:
    """Round for JSON output: same floats for the same version, no 0.1+0.2 noise."""
    return round(float(v), 3) + 0.0  # + 0.0: -0.0 becomes 0.0
