"""Label Studio JSON: `tasks.json` (tasks with predictions), `labeling_config.xml`,
`images/`.

Each image is one task, `data.image` = `/data/local-files/?d=images/NAME` (serve the
export folder as Label Studio local storage), with `data.sha256` and `data.split` kept
for the way back. Its labels are one prediction (`model_version` = the version name or
content hash), which Label Studio shows as pre-annotations. Results, in Label Studio's
percent-of-image coordinates (`original_width`/`original_height` give the pixels):

    rectanglelabels (from_name label)    a box
    keypointlabels  (from_name keypoint) one point of a keypoint set, labeled with the
                    point's name; the set's other points have `parentID` = its first
    polygonlabels   (from_name polygon)  a mask drawn as polygons (more rings: parentID)
    brushlabels     (from_name brush)    a painted mask, Label Studio's brush RLE
                                         (formats.ls_brush: RGBA, 4 values per pixel)
    choices         per region (the region's id): severity, visibility ["occluded"],
                    keypoint_class; per image: verdict, defect_class, image_severity

`labeling_config.xml` declares exactly these controls for the taxonomy. Region ids are
the qclabel object ids, so an object keeps its id through Label Studio and back.
Import: formats.labelstudio_read.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..core.mask import Mask
from ..core.model import OCCLUDED, VERDICTS, Box, KeypointSet
from . import ls_brush
from .dataset import Dataset, ExportImage, Progress, iter_progress
from .interchange import check_tag_names, keypoint_class
from .masks_common import export_masks

POINT_SIZE = 0.5  # percent of the image width Label Studio draws a keypoint with


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
    multi = len(ds.splits) > 1
    model = ds.manifest.get("name") or f"qclabel {ds.content_hash[:12]}"
    tasks = []
    for n, image in enumerate(iter_progress(ds.images, progress, cancel), start=1):
        rel = f"images/{image.split}/{image.name}" if multi else f"images/{image.name}"
        ds.place_image(image, out / rel, link)
        tasks.append(
            {
                "id": n,
                "data": {
                    "image": f"/data/local-files/?d={rel}",
                    "sha256": image.record.sha256,
                    "split": image.split,
                },
                "predictions": [{"model_version": model, "result": results(ds, image)}],
            }
        )
    (out / "images").mkdir(exist_ok=True)
    (out / "tasks.json").write_text(
        json.dumps(tasks, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    )
    (out / "labeling_config.xml").write_text(labeling_config(ds))
    return {"images": len(ds.images)}


class _Results:
    """The result list of one image, with the fields every region repeats."""

    def __init__(self, image: ExportImage):
        self.w, self.h = image.record.width, image.record.height
        self.items: list[dict[str, Any]] = []

    def add(
        self, rid: str, from_name: str, kind: str, value: dict[str, Any], parent: str | None = None
    ) -> None:
        item = {
            "id": rid,
            "from_name": from_name,
            "to_name": "image",
            "type": kind,
            "original_width": self.w,
            "original_height": self.h,
            "image_rotation": 0,
            "value": value,
        }
        if parent is not None:
            item["parentID"] = parent
        self.items.append(item)

    def choice(
        self, rid: str, from_name: str, choice: str | None, geometry: dict[str, Any] | None = None
    ) -> None:
        if choice is not None:
            self.add(rid, from_name, "choices", {**(geometry or {}), "choices": [choice]})

    def pct_x(self, v: float) -> float:
        return v / self.w * 100

    def pct_y(self, v: float) -> float:
        return v / self.h * 100


def results(ds: Dataset, image: ExportImage) -> list[dict[str, Any]]:
    r = _Results(image)
    for box in ds.boxes(image):
        _box(r, box)
    for kps in image.annotation.keypoints:
        _keypoints(r, ds, image, kps)
    for m in export_masks(ds, image):
        _mask(r, m)
    ann = image.annotation
    r.choice("verdict", "verdict", ann.verdict)
    r.choice("image-class", "defect_class", ann.defect_class)
    r.choice("image-severity", "image_severity", ann.severity if ann.defect_class else None)
    return r.items


def _box(r: _Results, box: Box) -> None:
    geo = {
        "x": r.pct_x(box.x),
        "y": r.pct_y(box.y),
        "width": r.pct_x(box.w),
        "height": r.pct_y(box.h),
        "rotation": 0,
    }
    r.add(box.id, "label", "rectanglelabels", {**geo, "rectanglelabels": [box.cls]})
    r.choice(box.id, "severity", box.severity, geo)


def _keypoints(r: _Results, ds: Dataset, image: ExportImage, kps: KeypointSet) -> None:
    template, cls = keypoint_class(ds, image, kps)
    root = None
    for name in template.points:
        p = kps.point(name)
        if not p.v:
            continue
        rid = kps.id if root is None else f"{kps.id}:{name}"
        geo = {"x": r.pct_x(p.x), "y": r.pct_y(p.y), "width": POINT_SIZE}
        r.add(rid, "keypoint", "keypointlabels", {**geo, "keypointlabels": [name]}, root)
        r.choice(rid, "visibility", "occluded" if p.v == OCCLUDED else None, geo)
        if root is None:
            r.choice(rid, "keypoint_class", cls, geo)
            root = rid


def _mask(r: _Results, m: Mask) -> None:
    if not m.polygons:
        full = m.full(r.w, r.h)
        r.add(
            m.id,
            "brush",
            "brushlabels",
            {"format": "rle", "rle": ls_brush.encode(full), "brushlabels": [m.cls]},
        )
        r.choice(m.id, "severity", m.severity)
        return
    for k, ring in enumerate(m.polygons):
        rid = m.id if k == 0 else f"{m.id}:{k}"
        pts = [[r.pct_x(x), r.pct_y(y)] for x, y in zip(ring[0::2], ring[1::2])]
        r.add(
            rid,
            "polygon",
            "polygonlabels",
            {"points": pts, "closed": True, "polygonlabels": [m.cls]},
            m.id if k else None,
        )
    r.choice(m.id, "severity", m.severity)


def labeling_config(ds: Dataset) -> str:
    """A Label Studio labeling config with every control the tasks use."""
    view = ET.Element("View")
    ET.SubElement(view, "Image", name="image", value="$image", zoom="true")
    colours = {c.name: c.colour for c in ds.taxonomy.classes}
    for tag, name in (
        ("RectangleLabels", "label"),
        ("PolygonLabels", "polygon"),
        ("BrushLabels", "brush"),
    ):
        el = ET.SubElement(view, tag, name=name, toName="image")
        for cls in ds.classes:
            ET.SubElement(el, "Label", value=cls, background=colours[cls])
    points = ET.SubElement(view, "KeyPointLabels", name="keypoint", toName="image")
    for p in dict.fromkeys(p for t in ds.taxonomy.keypoint_templates for p in t.points):
        ET.SubElement(points, "Label", value=p)
    severities = list(dict.fromkeys(s for c in ds.taxonomy.classes for s in c.severity_names()))
    per_region = {"severity": severities, "visibility": ["occluded"], "keypoint_class": ds.classes}
    per_image = {
        "verdict": list(VERDICTS),
        "defect_class": ds.classes,
        "image_severity": severities,
    }
    for group, region in ((per_region, "true"), (per_image, None)):
        for name, values in group.items():
            attrs = {"name": name, "toName": "image", "choice": "single"}
            if region:
                attrs["perRegion"] = region
            el = ET.SubElement(view, "Choices", attrs)
            for v in values:
                ET.SubElement(el, "Choice", value=v)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"
