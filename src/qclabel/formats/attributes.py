"""Label fields that detection formats have no column for (verdict, image class,
severity...), written as CVAT writes attributes: a flat name -> scalar table.

    image   {"verdict": "fail", "class": "crack", "severity": "critical",
             "status": "agreed", "synthetic": false, "annotators": "alice;bob"}
    object  {"occluded": false, "severity": "minor"}

COCO puts them in `attributes` of each image and annotation, VOC in
`<attributes><attribute><name>..</name><value>..</value></attribute></attributes>`
(CVAT's VOC layout, per object and for the image), YOLO in the sidecar file
`qclabel_attributes.json`. Import reads them back; `occluded` (CVAT's own) is ignored.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..core.model import Annotation
from ..errors import FormatError
from .dataset import ExportImage

VERDICTS = ("pass", "fail")


def image_attributes(image: ExportImage) -> dict[str, Any]:
    ann = image.annotation
    out: dict[str, Any] = {
        "verdict": ann.verdict,
        "class": ann.defect_class,
        "severity": ann.severity,
        "status": image.status,
        "synthetic": image.synthetic is not None,
        "annotators": ";".join(image.annotators),
    }
    return {k: v for k, v in out.items() if v is not None and v != ""}


def object_attributes(severity: str | None) -> dict[str, Any]:
    return {"occluded": False, **({"severity": severity} if severity else {})}


def severity_of(attrs: Any, where: str) -> str | None:
    """The severity of an object's attributes (CVAT or ours), or None."""
    if attrs is None:
        return None
    if not isinstance(attrs, dict):
        raise FormatError(f"{where}: attributes = {attrs!r}: expected a table")
    sev = attrs.get("severity")
    if sev is None or sev == "":
        return None
    if not isinstance(sev, str):
        raise FormatError(f"{where}: attributes.severity = {sev!r}: expected a name")
    return sev


def apply_image(ann: Annotation, attrs: Any, where: str) -> Annotation:
    """`ann` with the verdict, image class and severity of an image's attributes
    (without a verdict attribute the verdict stays as the objects imply)."""
    if attrs is None:
        return ann
    if not isinstance(attrs, dict):
        raise FormatError(f"{where}: attributes = {attrs!r}: expected a table")
    verdict = attrs.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise FormatError(f"{where}: attributes.verdict = {verdict!r}: expected pass or fail")
    cls, sev = attrs.get("class"), attrs.get("severity")
    for key, val in (("class", cls), ("severity", sev)):
        if val is not None and not isinstance(val, str):
            raise FormatError(f"{where}: attributes.{key} = {val!r}: expected a name")
    return replace(
        ann,
        verdict=verdict or ann.verdict,
        defect_class=cls or ann.defect_class,
        severity=sev or ann.severity,
    )
