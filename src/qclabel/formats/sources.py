"""Read an import source (a file or an export folder) into `Parsed` items per format."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from ..core.taxonomy import Taxonomy
from ..errors import FormatError
from ..project import Project
from . import (
    coco,
    cvat_read,
    labelme,
    labelstudio_read,
    masks_voc,
    tabular,
    voc,
    yolo,
    yolo_attrs,
    yolo_layout,
)
from .importing import Matcher, Parsed


def _templates(tax: Taxonomy) -> dict[Any, Any]:
    return {t.name: t for t in tax.keypoint_templates}


def _files(src: Path, pattern: str, what: str) -> list[Path]:
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise FormatError(
            f"{src}: not a regular file or folder"
            if src.exists()
            else f"{src}: no such file or folder"
        )
    files = sorted(p for p in src.glob(pattern) if p.name != "qclabel_version.json")
    if not files:
        raise FormatError(f"{src}: no {what} files ({pattern}) found")
    return files


def read_coco(project: Project, src: Path) -> list[Parsed]:
    """Instances and keypoint files are merged per image (one image may be in both)."""
    merged: dict[str, Parsed] = {}
    pattern = "annotations/*.json" if (src / "annotations").is_dir() else "*.json"
    for path in _files(src, pattern, "COCO"):
        for name, (ann, size) in coco.parse_sized(path, _templates(project.taxonomy)).items():
            if name in merged:
                prev = merged[name].annotation
                boxes, sets = prev.boxes + ann.boxes, prev.keypoints + ann.keypoints
                masks = prev.masks + ann.masks
                # A verdict is None (objects), "pass" (none, or said) or "fail" (said).
                pair = (prev.verdict, ann.verdict)
                verdict = "fail" if "fail" in pair else None if None in pair else "pass"
                ann = replace(
                    ann,
                    boxes=boxes,
                    keypoints=sets,
                    masks=masks,
                    verdict=verdict,
                    defect_class=ann.defect_class or prev.defect_class,
                    severity=ann.severity or prev.severity,
                )
            merged[name] = Parsed(name, ann, str(path), size=size)
    return list(merged.values())


def read_voc(project: Project, src: Path) -> list[Parsed]:
    out = []
    for path in _files(src, "**/Annotations/*.xml" if src.is_dir() else "*.xml", "VOC XML"):
        name, ann, size = voc.parse(path)
        ann = masks_voc.with_masks(path, ann, size, project.taxonomy.class_names())
        out.append(Parsed(name, ann, str(path), size=size))
    return out


def read_labelme(project: Project, src: Path) -> list[Parsed]:
    out = []
    tax = project.taxonomy
    for path in _files(src, "*.json", "labelme JSON"):
        name, ann, size = labelme.parse(path, _templates(tax), tax.class_names())
        out.append(Parsed(name, ann, str(path), size=size))
    return out


def read_yolo(project: Project, src: Path) -> list[Parsed]:
    """A YOLO dataset of any common layout (formats.yolo_layout), or prediction .txt
    files without class names (`yolo predict save_txt`): then class indices are the
    taxonomy's, the order our exports train models with. Normalized coordinates are
    scaled by the matched catalog image's canonical size."""
    names, kpt, names_file = yolo_layout.find_names(src)
    classes = project.taxonomy.class_names()
    if names is None:
        names = classes
    else:
        yolo_layout.check_names(names, classes, names_file)  # type: ignore[arg-type]
    # kpt comes from a names file, so names_file is set whenever kpt is.
    template = _pose_template(project.taxonomy, kpt, names_file) if kpt else None  # type: ignore[arg-type]
    matcher = Matcher(project.store.catalog.all())
    root = names_file.parent if names_file else src if src.is_dir() else src.parent
    sidecar = yolo_attrs.read_sidecar(root)
    out = []
    for label in yolo_layout.label_files(src):
        image = yolo_layout.image_beside(label)
        name = image.name if image is not None else label.stem
        rec = matcher.find(name, None, str(label))
        ann, scores = yolo.parse_label_file(label, names, rec.width, rec.height, template)
        key = label.relative_to(root).as_posix() if label.is_relative_to(root) else None
        ann = yolo_attrs.apply(ann, sidecar.get(key), label)  # type: ignore[arg-type]
        out.append(Parsed(name, ann, str(label), sha256=rec.sha256, scores=scores))
    if not out:
        raise FormatError(f"{src}: no YOLO label files (*.txt) found")
    return out


def _pose_template(tax: Taxonomy, k: int, where: Path) -> Any:
    fits = [t for t in tax.keypoint_templates if len(t.points) == k]
    if len(fits) != 1:
        raise FormatError(
            f"{where}: kpt_shape [{k}, 3] matches {len(fits)} keypoint "
            "templates of the taxonomy; exactly one is needed"
        )
    return fits[0]


def _tabular(kind: str) -> Callable[[Project, Path], list[Parsed]]:
    def read(project: Project, src: Path) -> list[Parsed]:
        folder = src if src.is_dir() else src.parent
        rows = tabular.parse(folder, kind, _templates(project.taxonomy))
        return [
            Parsed(name, ann, f"{folder / f'images.{kind}'} image {iid}", sha256=sha)
            for iid, (sha, name, ann) in rows.items()
        ]

    return read


READERS: dict[str, Callable[[Project, Path], list[Parsed]]] = {
    "coco": read_coco,
    "yolo": read_yolo,
    "voc": read_voc,
    "labelme": read_labelme,
    "csv": _tabular("csv"),
    "jsonl": _tabular("jsonl"),
    "cvat": lambda project, src: cvat_read.read(project.taxonomy, Path(src)),
    "labelstudio": lambda project, src: labelstudio_read.read(project, Path(src)),
}
