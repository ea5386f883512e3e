"""CVAT for images 1.1 (XML): `annotations.xml` and `images/`, as CVAT's own
"CVAT for images 1.1" dataset export lays them out: a task's (one split), or a
project's (several splits: one task per split in the meta, `images/<split>/`, each
`<image>` with its `subset`).

    <annotations><version>1.1</version><meta><task>... <labels> ...</labels></task></meta>
      <image id="0" name="a.png" width="100" height="80">
        <box label="scratch" source="manual" occluded="0" xtl=".." ytl=".." xbr=".." ybr=".."
             z_order="0"><attribute name="severity">minor</attribute></box>
        <polygon label="dent" points="x,y;x,y;..." .../>     (a mask drawn as polygons;
                                                             rings of one mask share group_id)
        <mask label="dent" rle="0, 5, 3, ..." left top width height .../>  (a painted mask:
                                                             runs row by row over its box)
        <skeleton label="bracket"><points label="hole_left" outside="0" occluded="0"
                                          points="x,y"/>...</skeleton>     (keypoint set)
        <tag label="fail"/> <tag label="crack"><attribute name="severity">..</attribute></tag>
      </image>

Coordinates are CVAT's: pixels, origin at the image's top-left corner (the same as
ours), written exactly (CVAT writes 2 decimals; it reads any). Keypoints: `outside="1"`
is an unlabeled point, `occluded="1"` an occluded one (v = 1). The meta lists every class
(type `any`, with its severities as a `select` attribute), the verdict tags and each
keypoint template as a skeleton, so the file creates a matching CVAT project.
Import: formats.cvat_read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..core.mask import Mask
from ..core.model import OCCLUDED, VERDICTS
from ..core.taxonomy import KeypointTemplate
from ..errors import FormatError
from .dataset import Dataset, ExportImage, Progress, iter_progress
from .interchange import (
    check_tag_names,
    image_tags,
    keypoint_class,
    num,
    region_runs,
    skeleton_label,
)
from .masks_common import export_masks
from .safe_xml import xml_values

VERSION = "1.1"


def export(
    ds: Dataset,
    out: Path,
    *,
    link: str = "copy",
    progress: Progress | None = None,
    cancel: Any = None,
    **_: Any,
) -> dict[str, Any]:
    check_tag_names(ds)
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = VERSION
    root.append(meta(ds))
    multi = len(ds.splits) > 1
    (out / "images").mkdir(parents=True, exist_ok=True)
    for n, image in enumerate(iter_progress(ds.images, progress, cancel)):
        folder = out / "images" / image.split if multi else out / "images"
        ds.place_image(image, folder / image.name, link)
        el = image_element(ds, image, n, multi)
        try:  # a file name or label holding a control character: no parser reads it
            xml_values(el)
        except FormatError as exc:
            raise FormatError(f"image {image.record.file}: {exc}") from None
        root.append(el)
    ET.indent(root)
    ET.ElementTree(root).write(out / "annotations.xml", encoding="utf-8", xml_declaration=True)
    return {"images": len(ds.images)}


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = text
    return el


def _select(parent: ET.Element, name: str, values: list[str]) -> None:
    attr = ET.SubElement(parent, "attribute")
    _text(attr, "name", name)
    _text(attr, "mutable", "False")
    _text(attr, "input_type", "select")
    _text(attr, "default_value", values[0])
    _text(attr, "values", "\n".join(values))


def _label(
    labels: ET.Element, name: str, colour: str, kind: str, parent: str | None = None
) -> ET.Element:
    label = ET.SubElement(labels, "label")
    _text(label, "name", name)
    _text(label, "color", colour)
    _text(label, "type", kind)
    attrs = ET.SubElement(label, "attributes")
    if parent is not None:
        _text(label, "parent", parent)
    return attrs


def meta(ds: Dataset) -> ET.Element:
    """A task's meta; with several splits a project's, one task per split (subset), as
    CVAT dumps a project."""
    m = ds.manifest
    name = m.get("name") or f"qclabel {ds.taxonomy.name}"
    meta_el = ET.Element("meta")
    multi = len(ds.splits) > 1
    head = ET.SubElement(meta_el, "project" if multi else "task")
    _text(head, "id", "0")
    _text(head, "name", name)
    if not multi:
        _task_fields(head, len(ds.images))
    _text(head, "created", m.get("created") or "")
    labels = ET.SubElement(head, "labels")
    for c in ds.taxonomy.classes:
        attrs = _label(labels, c.name, c.colour, "any")
        if c.severities:
            _select(attrs, "severity", c.severity_names())
    for verdict, colour in zip(VERDICTS, ("#66bb6a", "#ef5350")):
        _label(labels, verdict, colour, "tag")
    for t in ds.taxonomy.keypoint_templates:
        _skeleton_labels(ds, labels, t)
    if multi:
        tasks = ET.SubElement(head, "tasks")
        for n, split in enumerate(ds.splits):
            task = ET.SubElement(tasks, "task")
            _text(task, "id", str(n))
            _text(task, "name", f"{name} {split}")
            _task_fields(task, len(ds.in_split(split)))
            _text(task, "subset", split)
        _text(head, "subsets", "\n".join(ds.splits))
    _text(meta_el, "dumped", m.get("created") or "")
    return meta_el


def _task_fields(task: ET.Element, size: int) -> None:
    _text(task, "size", str(size))
    _text(task, "mode", "annotation")
    _text(task, "overlap", "0")


def _skeleton_labels(ds: Dataset, labels: ET.Element, t: KeypointTemplate) -> None:
    name = skeleton_label(ds, t)
    attrs = _label(labels, name, "#4dd0e1", "skeleton")
    _select(attrs, "class", ds.classes)
    label = labels[-1]
    _text(label, "svg", _svg(t))
    for p in t.points:
        _label(labels, p, "#b3b3b3", "points", parent=name)


def _svg(t: KeypointTemplate) -> str:
    """The skeleton drawing CVAT shows in its label editor (0..100 canvas)."""
    pos = {p: (x, y) for p, x, y in t.positions}
    if len(pos) == len(t.points):
        xs, ys = [v[0] for v in pos.values()], [v[1] for v in pos.values()]
        span = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
        pos = {
            p: (10 + 80 * (x - min(xs)) / span, 10 + 80 * (y - min(ys)) / span)
            for p, (x, y) in pos.items()
        }
    else:
        pos = {p: (10 + 80 * i / max(len(t.points) - 1, 1), 50.0) for i, p in enumerate(t.points)}
    ids = {p: i + 1 for i, p in enumerate(t.points)}
    lines = [
        f'<line x1="{num(pos[a][0])}" y1="{num(pos[a][1])}" x2="{num(pos[b][0])}" '
        f'y2="{num(pos[b][1])}" stroke="black" data-type="edge" data-node-from='
        f'"{ids[a]}" data-node-to="{ids[b]}" stroke-width="0.5"></line>'
        for a, b in t.skeleton
    ]
    circles = [
        f'<circle r="1.5" stroke="black" fill="#b3b3b3" cx="{num(pos[p][0])}" '
        f'cy="{num(pos[p][1])}" stroke-width="0.1" data-type="element node" '
        f'data-element-id="{ids[p]}" data-node-id="{ids[p]}" '
        f'data-label-name="{p}"></circle>'
        for p in t.points
    ]
    return "".join(lines + circles)


def _attribute(el: ET.Element, name: str, value: str | None) -> None:
    if value is not None:
        _text(el, "attribute", value).set("name", name)


def _shape(parent: ET.Element, tag: str, label: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {"label": label, "source": "manual", "occluded": "0"})
    for k, v in attrs.items():
        el.set(k, v)
    return el


def image_element(ds: Dataset, image: ExportImage, n: int, multi: bool) -> ET.Element:
    rec = image.record
    el = ET.Element("image", {"id": str(n), "name": image.name})
    if multi:  # a project's image names its task's subset; a task's has none
        el.set("subset", image.split)
    el.set("width", str(rec.width))
    el.set("height", str(rec.height))
    for box in ds.boxes(image):
        shape = _shape(
            el,
            "box",
            box.cls,
            xtl=num(box.x),
            ytl=num(box.y),
            xbr=num(box.x2),
            ybr=num(box.y2),
            z_order="0",
        )
        _attribute(shape, "severity", box.severity)
    group = 0
    for m in export_masks(ds, image):
        if len(m.polygons) > 1:
            group += 1
        _mask(el, m, group if len(m.polygons) > 1 else 0)
    for kps in image.annotation.keypoints:
        template, cls = keypoint_class(ds, image, kps)
        sk = ET.SubElement(
            el,
            "skeleton",
            {"label": skeleton_label(ds, template), "source": "manual", "z_order": "0"},
        )
        for p in (kps.point(name) for name in template.points):
            ET.SubElement(
                sk,
                "points",
                {
                    "label": p.name,
                    "source": "manual",
                    "outside": str(int(not p.v)),
                    "occluded": str(int(p.v == OCCLUDED)),
                    "points": f"{num(p.x)},{num(p.y)}" if p.v else "0,0",
                },
            )
        _attribute(sk, "class", cls)
    for label, severity in image_tags(image):
        tag = ET.SubElement(el, "tag", {"label": label, "source": "manual"})
        _attribute(tag, "severity", severity)
    return el


def _mask(el: ET.Element, m: Mask, group: int) -> None:
    extra = {"group_id": str(group)} if group else {}
    if m.polygons:
        for ring in m.polygons:
            pts = ";".join(f"{num(x)},{num(y)}" for x, y in zip(ring[0::2], ring[1::2]))
            shape = _shape(el, "polygon", m.cls, points=pts, z_order="0", **extra)
            _attribute(shape, "severity", m.severity)
        return
    runs = ", ".join(map(str, region_runs(m.region())))
    shape = _shape(
        el,
        "mask",
        m.cls,
        rle=runs,
        left=str(m.left),
        top=str(m.top),
        width=str(m.width),
        height=str(m.height),
        z_order="0",
    )
    _attribute(shape, "severity", m.severity)
