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
from typing import Any, Callable

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


class AttributeTexts:
    """What an export writes of an image's attributes (`image_text(image)`) and of an
    object's (`object_text(severity)`), made once per distinct attributes: a project
    has a handful (verdict, class, status, annotators; a few severities), an export
    100k images and 300k objects. Only names (str or None) are kept as keys, so only
    names find one: 1 and True are one dict key but not one text; any other value
    is written afresh, raising what writing it raises."""

    def __init__(self, image_text: Callable[[ExportImage], Any], object_text: Callable[[Any], Any]):
        self.image_text, self.object_text = image_text, object_text
        self.images: dict[tuple[Any, ...], Any] = {}
        self.objects: dict[str | None, Any] = {}

    def image(self, image: ExportImage) -> Any:
        ann = image.annotation
        # everything image_attributes reads
        key = (
            ann.verdict,
            ann.defect_class,
            ann.severity,
            image.status,
            image.synthetic is not None,
            image.annotators,
        )
        try:
            text = self.images.get(key)
        except TypeError:  # an unhashable value (a list): no name
            return self.image_text(image)
        if text is None:
            if not (_names(key[:4]) and _names(image.annotators)):
                return self.image_text(image)
            if len(self.images) >= _KEEP:
                self.images.clear()
            text = self.images[key] = self.image_text(image)
        return text

    def object(self, severity: Any) -> Any:
        if severity is not None and type(severity) is not str:
            return self.object_text(severity)
        text = self.objects.get(severity)
        if text is None:
            if len(self.objects) >= _KEEP:
                self.objects.clear()
            text = self.objects[severity] = self.object_text(severity)
        return text


_KEEP = 4096


def _names(values: Any) -> bool:
    return all(v is None or type(v) is str for v in values)


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
