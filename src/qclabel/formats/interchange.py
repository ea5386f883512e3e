"""What the CVAT and Label Studio formats share: image-level labels as tags, keypoint
templates found from point names, masks as row-major runs, exact numbers.

Image-level labels travel as tags (CVAT `<tag>`, Label Studio `choices`): the verdict
as a tag named `pass` or `fail`, the image's defect class as a tag named after the class
with its severity as the `severity` attribute. Object severities are the `severity`
attribute of the object (CVAT) or its per-region choice (Label Studio).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.mask import Mask, MaskError
from ..core.model import NOT_LABELED, PASS, VERDICTS, Keypoint, KeypointSet
from ..core.taxonomy import KeypointTemplate, Taxonomy
from ..errors import FormatError
from .dataset import Dataset, ExportImage
from .safe_read import shown

KEYPOINT_SUFFIX = "-keypoints"


def num(v: float) -> str:
    """The shortest text that reads back as the same float: round trips are exact."""
    s = repr(float(v)).removesuffix(".0")
    return "0" if s == "-0" else s


def check_tag_names(ds: Dataset) -> None:
    """Verdict tags are named pass/fail; a class with one of those names would clash."""
    clash = [c for c in ds.classes if c in VERDICTS]
    if clash:
        raise FormatError(
            f"defect class {shown(clash[0])} has the name of a verdict tag; "
            "rename it in the taxonomy to export to CVAT or Label Studio"
        )


def skeleton_label(ds: Dataset, template: KeypointTemplate) -> str:
    """The CVAT/LS label of a keypoint template: its name, or name-keypoints when a
    class has the same name (label names are unique in both tools)."""
    name = template.name
    return name + KEYPOINT_SUFFIX if name in ds.class_index else name


def find_template(tax: Taxonomy, label: str, points: Iterable[str], where: str) -> KeypointTemplate:
    """The template a skeleton or point group means: by its label, else the one template
    holding all its point names."""
    names = set(points)
    for t in tax.keypoint_templates:
        if label in (t.name, t.name + KEYPOINT_SUFFIX) and names <= set(t.points):
            return t
    fits = [t for t in tax.keypoint_templates if names and names <= set(t.points)]
    if len(fits) == 1:
        return fits[0]
    raise FormatError(
        f"{where}: keypoints {shown(sorted(names))} (label {shown(label)}) match "
        f"{len(fits)} keypoint templates of the taxonomy; exactly one is needed"
    )


def keypoint_set(
    template: KeypointTemplate,
    given: dict[str, tuple[float, float, int]],
    cls: str | None,
    classes: list[str],
) -> KeypointSet:
    """A set in template order; points not given are unlabeled."""
    pts = tuple(
        Keypoint(n, *given[n]) if n in given and given[n][2] != NOT_LABELED else Keypoint(n)
        for n in template.points
    )
    if cls is None and template.name in classes:
        cls = template.name
    return KeypointSet(template.name, pts, cls)


def keypoint_class(
    ds: Dataset, image: ExportImage, kps: KeypointSet
) -> tuple[KeypointTemplate, str]:
    cls = ds.keypoint_class(kps, image)
    template = next((t for t in ds.taxonomy.keypoint_templates if t.name == kps.template), None)
    if template is None:
        raise FormatError(
            f"image {image.record.file}: keypoint set {kps.id} uses template "
            f"{shown(kps.template)}, which the taxonomy lacks"
        )
    return template, cls


def image_tags(image: ExportImage) -> list[tuple[str, str | None]]:
    """(tag, severity) of an image: its verdict, then its image-level class."""
    ann = image.annotation
    out: list[tuple[str, str | None]] = []
    if ann.verdict:
        out.append((ann.verdict, None))
    if ann.defect_class:
        out.append((ann.defect_class, ann.severity))
    return out


def read_tags(tags: list[tuple[str, str | None]], classes: list[str], where: str) -> dict[str, Any]:
    """Annotation fields from image tags; unknown tags are refused."""
    out: dict[str, Any] = {}
    for label, severity in tags:
        if label in VERDICTS:
            out["verdict"] = label
        elif label in classes:
            if out.get("defect_class") not in (None, label):
                raise FormatError(
                    f"{where}: two image-level classes ({out['defect_class']}, {label})"
                )
            out["defect_class"], out["severity"] = label, severity
        else:
            raise FormatError(
                f"{where}: image tag {shown(label)} is neither a verdict "
                f"(pass/fail) nor a class of the taxonomy {classes}"
            )
    return out


def default_verdict(
    fields: dict[str, Any], has_objects: bool, empty_is_pass: bool = True
) -> str | None:
    """An image without a verdict tag: pass when nothing is on it (as COCO import), if
    the tool tells a finished empty image from one nobody looked at (`empty_is_pass`:
    a submitted Label Studio annotation; CVAT lists every image of a task, so there an
    image without any label or tag stays unlabeled)."""
    if "verdict" in fields:
        return str(fields["verdict"])
    if has_objects or fields.get("defect_class") or not empty_is_pass:
        return None
    return PASS


# -- masks as row-major runs (CVAT's `rle`) -------------------------------------------------
def region_runs(region: np.ndarray) -> list[int]:
    """Run lengths over the region row by row, starting with a run of unset pixels
    (0 when the first pixel is set)."""
    flat = np.asarray(region, bool).ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], edges, [len(flat)]))
    runs: list[int] = np.diff(bounds).tolist()
    return [0] + runs if flat[0] else runs


def runs_region(runs: list[int], width: int, height: int, where: str) -> np.ndarray:
    if width <= 0 or height <= 0 or any(r < 0 for r in runs) or sum(runs) != width * height:
        raise FormatError(
            f"{where}: mask rle runs add up to {sum(runs)} pixels, not the "
            f"{width}x{height} = {width * height} of the mask (or a run is "
            "negative)"
        )
    values = np.zeros(len(runs), bool)
    values[1::2] = True
    return np.repeat(values, runs).reshape(height, width)


def mask_from_region(
    cls: str, region: np.ndarray, left: int, top: int, severity: str | None, where: str
) -> Mask:
    try:
        return Mask.from_array(cls, region, left, top, severity=severity)
    except MaskError as exc:
        raise FormatError(f"{where}: {exc}") from None


def mask_from_rings(
    cls: str, rings: list[tuple[float, ...]], severity: str | None, where: str
) -> Mask:
    if any(len(r) < 6 for r in rings):
        raise FormatError(f"{where}: a polygon needs at least 3 points")
    try:
        return Mask.from_polygons(cls, rings, severity=severity)
    except MaskError as exc:
        raise FormatError(f"{where}: {exc}") from None


def source_file(src: Path, name: str, what: str) -> Path:
    """The file an import reads: `src` itself, or `src/name` when `src` is a folder
    (the tool's export folder); a clear error for anything else."""
    if src.is_dir():
        path = src / name
        if not path.is_file():
            raise FormatError(f"{src}: no {name} ({what}) found")
        return path
    if not src.is_file():
        raise FormatError(
            f"{src}: not a regular file or folder"
            if src.exists()
            else f"{src}: no such file or folder"
        )
    return src
