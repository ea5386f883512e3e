"""Pascal VOC segmentation: `SegmentationClass/NAME.png` and `SegmentationObject/NAME.png`
(8-bit palette PNGs) and `ImageSets/Segmentation/<split>.txt`, for images with masks.

SegmentationClass holds the 1-based taxonomy index of each pixel's class (0 =
background); SegmentationObject the 1-based instance number in the image's mask order.
SegmentationClass's palette gives index i the colour `labelmap.txt` gives class i
(Datumaro maps colours back through it), SegmentationObject's is the devkit colour map;
255 is the devkit's void colour in both; qclabel writes exact masks, so no
pixel is void. Overlaps are flattened by core.mask_layers' documented rules.
Import reads SegmentationObject (instances; the class of each from SegmentationClass)
or, without it, SegmentationClass (one mask per class).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..core.mask import Mask
from ..core.mask_layers import label_maps
from ..errors import FormatError
from .dataset import Dataset, ExportImage
from .masks_common import export_masks
from .safe_read import read_text

VOID = 255
VOID_COLOUR = (224, 224, 192)


def palette(ds: Dataset) -> list[int]:
    colours = [(0, 0, 0)] + [
        tuple(int(c.colour[i : i + 2], 16) for i in (1, 3, 5)) for c in ds.taxonomy.classes
    ]
    pal = [0] * 768
    for i, rgb in enumerate(colours[:255]):
        pal[3 * i : 3 * i + 3] = rgb
    pal[3 * VOID : 3 * VOID + 3] = VOID_COLOUR
    return pal


def instance_palette() -> list[int]:
    """The devkit's colour map (VOClabelcolormap.m): instance n of SegmentationObject is
    drawn in colour n of it, which is how readers such as Datumaro number instances."""
    pal = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal += [r, g, b]
    return pal


def _png(arr: np.ndarray, pal: list[int], path: Path) -> None:
    im = Image.fromarray(arr, mode="P")
    im.putpalette(pal)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, optimize=False)


def write_image(ds: Dataset, image: ExportImage, out: Path, pal: list[int]) -> bool:
    """Both PNGs of one image; False (nothing written) when it has no masks."""
    masks = export_masks(ds, image)
    if not masks:
        return False
    if len(masks) > 254:
        raise FormatError(
            f"image {image.record.file}: {len(masks)} masks; VOC "
            "SegmentationObject holds at most 254 instances"
        )
    classes, instances = label_maps(masks, ds.taxonomy, image.record.width, image.record.height)
    _png(classes, pal, out / "SegmentationClass" / f"{image.stem}.png")
    _png(instances, instance_palette(), out / "SegmentationObject" / f"{image.stem}.png")
    return True


def write_image_sets(ds: Dataset, out: Path, segmented: set[str]) -> None:
    folder = out / "ImageSets" / "Segmentation"
    folder.mkdir(parents=True, exist_ok=True)
    for split in ds.splits:
        names = "".join(f"{i.stem}\n" for i in ds.in_split(split) if i.stem in segmented)
        (folder / f"{split}.txt").write_text(names)


# -- import ------------------------------------------------------------------------------
def read_png(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L"):
                raise FormatError(
                    f"{path}: mode {im.mode}: a VOC segmentation PNG is an "
                    "8-bit palette (or grey) image of class indices"
                )
            return np.asarray(im)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FormatError(f"{path}: not a readable PNG: {exc}") from None


def parse_segmentation(
    root: Path, stem: str, classes: list[str], size: tuple[int, int]
) -> tuple[Mask, ...]:
    """The masks of one image from its SegmentationObject/Class PNGs (none if absent)."""
    cls_path = root / "SegmentationClass" / f"{stem}.png"
    obj_path = root / "SegmentationObject" / f"{stem}.png"
    if not cls_path.exists():
        return ()
    cmap = read_png(cls_path)
    _check_size(cmap, size, cls_path)
    if cmap[cmap != VOID].max(initial=0) > len(classes):
        raise FormatError(
            f"{cls_path}: class index {int(cmap[cmap != VOID].max())} is "
            f"beyond the {len(classes)} classes of labelmap.txt"
        )
    if not obj_path.exists():
        return tuple(
            Mask.from_array(classes[i - 1], cmap == i)
            for i in range(1, len(classes) + 1)
            if (cmap == i).any()
        )
    omap = read_png(obj_path)
    _check_size(omap, size, obj_path)
    out = []
    for n in sorted(set(np.unique(omap).tolist()) - {0, VOID}):
        on = omap == n
        values, counts = np.unique(cmap[on], return_counts=True)
        c = int(values[np.argmax(counts)])
        if c in (0, VOID):
            raise FormatError(f"{obj_path}: object {n} has no class in {cls_path.name}")
        out.append(Mask.from_array(classes[c - 1], on))
    return tuple(out)


def _check_size(arr: np.ndarray, size: tuple[int, int], path: Path) -> None:
    if (arr.shape[1], arr.shape[0]) != tuple(size):
        raise FormatError(
            f"{path}: {arr.shape[1]}x{arr.shape[0]} disagrees with the "
            f"{size[0]}x{size[1]} of its annotation XML"
        )


def labelmap_classes(root: Path) -> list[str] | None:
    """Class names in index order from labelmap.txt (background first, skipped)."""
    path = root / "labelmap.txt"
    if not path.exists():
        return None
    names = [
        line.split(":")[0]
        for line in read_text(path).splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [n for n in names if n != "background"]


def segmented_names(root: Path) -> Any:
    return {p.stem for p in (root / "SegmentationClass").glob("*.png")}


def with_masks(xml_path: Path, ann: Any, size: tuple[int, int], taxonomy_classes: list[str]) -> Any:
    """The XML's annotation with its image's segmentation PNGs read in: the first N
    XML objects are the N instances of SegmentationObject, so they become masks (their
    XML class must agree) and only the rest stay boxes."""
    from dataclasses import replace

    root = xml_path.parent.parent
    classes = labelmap_classes(root) or taxonomy_classes
    masks = parse_segmentation(root, xml_path.stem, classes, size)
    if not masks:
        return ann
    if (root / "SegmentationObject" / f"{xml_path.stem}.png").exists():
        for n, (m, box) in enumerate(zip(masks, ann.boxes)):
            if m.cls != box.cls:
                raise FormatError(
                    f"{xml_path}: object[{n}] is {box.cls!r} but instance "
                    f"{n + 1} of SegmentationObject is {m.cls!r}"
                )
        boxes = ann.boxes[len(masks) :]
    else:
        boxes = ann.boxes
    return replace(ann, boxes=boxes, masks=masks, verdict=None)
