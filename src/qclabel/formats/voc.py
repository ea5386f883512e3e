"""Pascal VOC, devkit layout:

    Annotations/NAME.xml   JPEGImages/NAME.ext   ImageSets/Main/<split>.txt   labelmap.txt
    SegmentationClass/NAME.png   SegmentationObject/NAME.png   ImageSets/Segmentation/
    (images with masks, formats.masks_voc)

Coordinates follow the VOC devkit: 1-based, inclusive, integers, so a box at pixel
x = 0 with width w has xmin = 1, xmax = w. `labelmap.txt` (`name:r,g,b::`) lists the
taxonomy's classes; without it Datumaro assumes the 20 VOC classes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import lru_cache
import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ..core.geometry import from_voc
from ..core.model import Annotation, Box
from ..errors import FormatError
from . import masks_voc, safe_read
from .safe_xml import NOT_NAME, xml_text
from .attributes import (
    AttributeTexts,
    apply_image,
    image_attributes,
    object_attributes,
    severity_of,
)
from .dataset import Dataset, ExportImage, Progress, iter_progress
from .masks_common import export_masks
from .outdir import write_new


def mask_boxes(ds: Dataset, image: ExportImage) -> list[Box]:
    return [
        Box(m.cls, m.left, m.top, m.width, m.height, m.severity, m.id)
        for m in export_masks(ds, image)
    ]


def export(
    ds: Dataset,
    out: Path,
    *,
    link: str = "copy",
    progress: Progress | None = None,
    cancel: Any = None,
    **_: Any,
) -> dict[str, Any]:
    (out / "Annotations").mkdir(parents=True)
    (out / "JPEGImages").mkdir()
    (out / "ImageSets" / "Main").mkdir(parents=True)
    stems, segmented, pal = set(), set(), masks_voc.palette(ds)
    # os.path.join(annotations, stem + ".xml") without a join per file: a stem is a
    # file's base name, never an absolute path that join would restart at
    annotations = os.path.join(str(out / "Annotations"), "")
    texts = xml_texts()
    named = []  # (split, stem) of each image, in order: the image sets
    for image in iter_progress(ds.images, progress, cancel):
        stem = image.stem
        if stem in stems:  # VOC has one flat folder: stems must be unique across splits
            raise FormatError(
                f"image {image.record.file}: file name {image.name!r} is used "
                "in two splits; VOC keeps all images in one folder"
            )
        stems.add(stem)
        named.append((image.split, stem))
        if link != "none":  # not even a Path per image for nothing
            ds.place_image(image, out / "JPEGImages" / image.name, link)
        write_new(annotations + stem + ".xml", image_xml(ds, image, texts))
        if masks_voc.write_image(ds, image, out, pal):
            segmented.add(stem)
    for split in ds.splits:
        names = "".join([f"{stem}\n" for s, stem in named if s == split])
        (out / "ImageSets" / "Main" / f"{split}.txt").write_text(names)
    # The devkit's (and torchvision's default) image set: train + val.
    trainval = "".join([f"{stem}\n" for s, stem in named if s in ("train", "val")])
    (out / "ImageSets" / "Main" / "trainval.txt").write_text(trainval)
    if segmented:
        masks_voc.write_image_sets(ds, out, segmented)
    (out / "labelmap.txt").write_text(labelmap(ds))
    return {"images": len(ds.images), "segmented": len(segmented)}


def labelmap(ds: Dataset) -> str:
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for c in ds.taxonomy.classes:
        r, g, b = (int(c.colour[i : i + 2], 16) for i in (1, 3, 5))
        lines.append(f"{c.name}:{r},{g},{b}::")
    return "\n".join(lines) + "\n"


_OBJECT = """  <object>
    <name>{name}</name>
    <pose>Unspecified</pose>
    <truncated>{truncated}</truncated>
    <difficult>0</difficult>
    <bndbox>
      <xmin>{xmin}</xmin>
      <ymin>{ymin}</ymin>
      <xmax>{xmax}</xmax>
      <ymax>{ymax}</ymax>
    </bndbox>
{attributes}  </object>
"""


# _OBJECT with its fields in order as %s (what str.format writes of a str or an int)
_OBJECT_AT = _OBJECT.replace("%", "%%")
for _field in ("name", "truncated", "xmin", "ymin", "xmax", "ymax", "attributes"):
    _OBJECT_AT = _OBJECT_AT.replace("{" + _field + "}", "%s")
_name = lru_cache(maxsize=4096)(escape)  # a class name's XML text, once per class


def attributes_xml(attrs: dict[str, Any], indent: str) -> str:
    """CVAT's VOC attributes block (booleans as true/false)."""
    if not attrs:
        return ""
    items = "".join(
        f"{indent}  <attribute>\n{indent}    <name>{escape(k)}</name>\n"
        f"{indent}    <value>{escape(_text(v))}</value>\n{indent}  </attribute>\n"
        for k, v in attrs.items()
    )
    return f"{indent}<attributes>\n{items}{indent}</attributes>\n"


def _text(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def xml_texts() -> AttributeTexts:
    """The attributes blocks of an export's images and objects, each made (and
    checked) once."""
    return AttributeTexts(
        lambda image: xml_text(
            attributes_xml(image_attributes(image), "  "), "the image's attributes"
        ),
        lambda severity: xml_text(
            attributes_xml(object_attributes(severity), "    "), f"severity {severity!r}"
        ),
    )


def image_xml(ds: Dataset, image: ExportImage, texts: AttributeTexts | None = None) -> bytes:
    """The annotation XML (a fixed template: ElementTree costs 1 ms per file); an image
    whose name or labels hold a character XML cannot is refused, naming it."""
    try:
        if not image.name.isprintable():  # most names: one C call
            xml_text(image.name, f"file name {image.name!r}", NOT_NAME)
        return _image_xml(ds, image, texts or xml_texts())
    except FormatError as exc:
        if str(exc).startswith(f"image {image.record.file}:"):  # named (an unknown class)
            raise
        raise FormatError(f"image {image.record.file}: {exc}") from None


def _image_xml(ds: Dataset, image: ExportImage, texts: AttributeTexts) -> bytes:
    rec = image.record
    width, height = rec.width, rec.height
    parts = [
        "<annotation>\n  <folder>JPEGImages</folder>\n",
        f"  <filename>{escape(image.name)}</filename>\n",
        f"  <size>\n    <width>{width}</width>\n    <height>{height}</height>\n"
        f"    <depth>{rec.channels}</depth>\n  </size>\n"
        f"  <segmented>{int(bool(image.annotation.masks))}</segmented>\n",
        texts.image(image),
    ]
    # Masks first: object n of the XML is instance n of SegmentationObject (devkit).
    # Each box as (class, x, y, w, h, severity): the clipped boxes' numbers without
    # a Box each (Dataset.clipped).
    objects = [(b.cls, b.x, b.y, b.w, b.h, b.severity) for b in mask_boxes(ds, image)]
    objects += [(b.cls, x, y, w, h, b.severity) for b, x, y, w, h in ds.clipped(image)]
    for cls, x, y, w, h, severity in objects:
        x2, y2 = x + w, y + h  # Box.x2, Box.y2
        xmin, ymin, xmax, ymax = round(x) + 1, round(y) + 1, round(x2), round(y2)  # to_voc
        if xmax < xmin or ymax < ymin:
            continue  # thinner than half a pixel: nothing left in integer pixels
        truncated = x <= 0 or y <= 0 or x2 >= width or y2 >= height
        parts.append(
            _OBJECT_AT
            % (_name(cls), int(truncated), xmin, ymin, xmax, ymax, texts.object(severity))
        )
    parts.append("</annotation>\n")
    return "".join(parts).encode()


# -- import ------------------------------------------------------------------------------
def parse(path: Path) -> tuple[str, Annotation, tuple[int, int]]:
    """(filename, annotation, (width, height)) of one VOC XML file."""
    root = _xml_root(path)
    name = (root.findtext("filename") or "").strip()
    if not name:
        raise FormatError(f"{path}: field filename is missing")
    size = (_int(root, "size/width", path), _int(root, "size/height", path))
    boxes = []
    for i, obj in enumerate(root.findall("object")):
        cls = (obj.findtext("name") or "").strip()
        if not cls:
            raise FormatError(f"{path}: object[{i}] has no name")
        xmin, ymin, xmax, ymax = (
            _num(obj, f"bndbox/{t}", path, i) for t in ("xmin", "ymin", "xmax", "ymax")
        )
        box = from_voc(cls, xmin, ymin, xmax, ymax)
        sev = severity_of(read_attributes(obj), f"{path}: object[{i}]")
        boxes.append(replace(box, severity=sev) if sev else box)
    ann = Annotation(verdict=None if boxes else "pass", boxes=tuple(boxes))
    return name, apply_image(ann, read_attributes(root), str(path)), size


def read_attributes(el: ET.Element) -> dict[str, str] | None:
    """name -> value of an element's CVAT `<attributes>` block, or None."""
    block = el.find("attributes")
    if block is None:
        return None
    return {
        (a.findtext("name") or "").strip(): (a.findtext("value") or "").strip()
        for a in block.findall("attribute")
    }


def _xml_root(path: Path) -> ET.Element:
    """The parsed XML, refusing DTDs: an entity declaration is how an XML file expands
    to gigabytes ("billion laughs") or pulls in other files, and VOC has none."""
    data = safe_read.read_bytes(path)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise FormatError(
            f"{path}: XML with a DOCTYPE or ENTITY declaration is not "
            "accepted (VOC files have none)"
        )
    try:
        return ET.fromstring(data)
    except (ET.ParseError, RecursionError) as exc:
        raise FormatError(
            f"{path}: not a readable VOC XML file: "
            f"{exc if isinstance(exc, ET.ParseError) else 'nested too deeply'}"
        ) from None


def _int(root: ET.Element, tag: str, path: Path) -> int:
    text = root.findtext(tag)
    try:
        if len(str(text).strip()) > safe_read.MAX_NUMBER_CHARS:
            raise ValueError
        return int(str(text).strip())
    except ValueError:
        raise FormatError(
            f"{path}: field {tag} = {safe_read.shown(text)}: expected an integer"
        ) from None


def _num(obj: ET.Element, tag: str, path: Path, i: int) -> float:
    return safe_read.number(obj.findtext(tag) or "", f"{path}: object[{i}]", tag)
