"""YOLO (Ultralytics layout): detection, pose, segment (formats.masks_yolo) and
classification; detection, pose and segment import.

    data.yaml                     train: images/train, val: images/val, names: {0: ...}
    images/<split>/NAME.ext       labels/<split>/NAME.txt (empty file = background image)
    qclabel_attributes.json       verdict, class, severities (formats.yolo_attrs)
    classify: <split>/<class>/NAME.ext

No `path:` key (Ultralytics resolves a relative one against the current directory);
numbers in plain `%.6f` (Datumaro skips files written in scientific notation);
coordinates clipped to [0, 1] (Ultralytics drops values outside). Import reads other
tools' layouts too (formats.yolo_layout).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import FormatError
from . import masks_yolo
from .dataset import Dataset, ExportImage, Progress, iter_progress
from .parts import hull as keypoint_bbox  # noqa: F401 (imported from here by tabular)
from .outdir import write_new
from .parts import keypoint_box, part_boxes
from .yolo_attrs import SIDECAR, Entries

# The import side lives in formats.yolo_read; these names stay importable from here.
from .yolo_read import parse_label_file, read_names  # noqa: F401

TASKS = ("detect", "pose", "segment", "classify")
PASS_FOLDER = "pass"


def export(
    ds: Dataset,
    out: Path,
    *,
    task: str = "detect",
    link: str = "copy",
    progress: Progress | None = None,
    cancel: Any = None,
) -> dict[str, Any]:
    if task not in TASKS:
        raise FormatError(f"--task {task!r}: YOLO tasks are {', '.join(TASKS)}")
    if task == "classify":
        return _export_classify(ds, out, link, progress, cancel)
    template = _pose_template(ds) if task == "pose" else None
    for split in ds.splits:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    # os.path.join(labels, split, stem + ".txt") without a join per file: a stem is
    # a file's base name, never an absolute path that join would restart at
    folders = {s: os.path.join(str(out / "labels"), s, "") for s in ds.splits}
    sidecar = Entries()
    for image in iter_progress(ds.images, progress, cancel):
        if link != "none":  # not even a Path per image for nothing
            ds.place_image(image, out / "images" / image.split / image.name, link)
        sev: list[str | None] = []
        if template or task == "segment":
            rows = (
                _pose_rows(ds, image, template, sev)
                if template
                else masks_yolo.segment_rows(ds, image, sev)
            )
            data = "".join(r + "\n" for r in rows).encode()
        else:
            data = _detect_text(ds, image, sev).encode()
        split, stem = image.split, image.stem
        write_new(folders[split] + stem + ".txt", data)
        sidecar.add(f"labels/{split}/{stem}.txt", image, sev, data)
    (out / "data.yaml").write_text(data_yaml(ds, "images", template))
    sidecar.write(out / SIDECAR)
    return {"images": len(ds.images), "notes": [n for n in [val_note(ds)] if n]}


def data_yaml(ds: Dataset, prefix: str, template: Any = None) -> str:
    """The dataset file, written by PyYAML so that any class name (`on`, `null`, `1e3`,
    `a: b`) reads back as the same string in `yaml.safe_load` (Ultralytics' reader)."""
    import yaml

    doc: dict[str, Any] = {}
    sep = "/" if prefix else ""
    comments = ["# Ultralytics dataset; paths resolve next to this file."]
    for split in ("train", "val", "test"):
        # Ultralytics refuses a dataset without val; validating on train is the only
        # choice then, and it must not look like a real validation set.
        target = split if split in ds.splits else (ds.splits[0] if split == "val" else None)
        if target:
            doc[split] = f"{prefix}{sep}{target}"
    if "val" not in ds.splits:
        comments.append(
            f"# NOTE: no val split, val points at {ds.splits[0]}: metrics on "
            "training images (export with --split)."
        )
    doc["nc"] = len(ds.classes)
    doc["names"] = dict(enumerate(ds.classes))
    if template is not None:
        doc["kpt_shape"] = [len(template.points), 3]
        flip = flip_idx(template)
        if flip is not None:
            doc["flip_idx"] = flip
        comments.append(f"# keypoints, in order: {', '.join(template.points)}")
    # Key by key: the integer lists in flow style ([4, 3]), the names one per line.
    body = "".join(
        f"{k}: [{', '.join(map(str, v))}]\n"
        if isinstance(v, list)
        else yaml.safe_dump({k: v}, sort_keys=False, allow_unicode=True, default_flow_style=False)
        for k, v in doc.items()
    )
    return "\n".join(comments) + "\n" + body


def flip_idx(template: Any) -> list[int] | None:
    """Ultralytics' `flip_idx`: for each point, the index of its mirror image under a
    left-right flip (itself when it has none), from the template's `flip_pairs`.
    None without pairs: Ultralytics then skips horizontal flips rather than swap
    left and right points wrongly."""
    pairs = getattr(template, "flip_pairs", ())
    if not pairs:
        return None
    index = {p: i for i, p in enumerate(template.points)}
    out = list(range(len(template.points)))
    seen: set[str] = set()
    for a, b in pairs:
        if seen & {a, b}:  # a mirror swaps each point with one other point only
            raise FormatError(
                f"keypoint template {template.name}: point "
                f"{sorted(seen & {a, b})[0]!r} is in two flip_pairs"
            )
        seen |= {a, b}
        out[index[a]], out[index[b]] = index[b], index[a]
    return out


def val_note(ds: Dataset) -> str:
    """The summary line of an export whose data.yaml validates on train, or ''."""
    return (
        ""
        if "val" in ds.splits
        else f"no val split: data.yaml points val at {ds.splits[0]} (use --split)"
    )


def n6(v: float) -> str:
    """Normalized value, clipped to [0, 1], fixed point."""
    return f"{min(max(v, 0.0), 1.0):.6f}"


def _detect_text(ds: Dataset, image: ExportImage, sev: list[str | None]) -> str:
    """The label file: a row per box of `ds.boxes(image)`, each number `n6` of it.
    Inline, with the clipping to [0, 1] only where a number is outside (1.2M numbers
    at 100k images): min(max(v, 0.0), 1.0) gives back a number already inside
    (-0.0 too), and `%.6f` writes what f"{v:.6f}" writes."""
    w, h = image.record.width, image.record.height
    rows = []
    index = ds.class_index  # ds.clipped refused any class not in it
    for box, x, y, bw, bh in ds.clipped(image):
        sev.append(box.severity)
        cx, cy = (x + bw / 2) / w, (y + bh / 2) / h
        nw, nh = bw / w, bh / h
        rows.append(
            "%d %.6f %.6f %.6f %.6f\n"
            % (
                index[box.cls],
                cx if 0.0 <= cx <= 1.0 else min(max(cx, 0.0), 1.0),
                cy if 0.0 <= cy <= 1.0 else min(max(cy, 0.0), 1.0),
                nw if 0.0 <= nw <= 1.0 else min(max(nw, 0.0), 1.0),
                nh if 0.0 <= nh <= 1.0 else min(max(nh, 0.0), 1.0),
            )
        )
    return "".join(rows)


def _pose_template(ds: Dataset) -> Any:
    return pose_template(ds.taxonomy)


def pose_template(taxonomy: Any) -> Any:
    """The one keypoint template YOLO pose writes (checked before an export reads
    any label, and again on the version's own taxonomy)."""
    templates = taxonomy.keypoint_templates
    if len(templates) != 1:
        raise FormatError(
            f"YOLO pose needs exactly one keypoint template (one kpt_shape); "
            f"taxonomy {taxonomy.name} has {len(templates)}"
        )
    return templates[0]


def _pose_rows(ds: Dataset, image: ExportImage, template: Any, sev: list[str | None]) -> list[str]:
    """One row per keypoint set: its part's box (formats.parts), else the box of
    its labeled points, then the points."""
    w, h = image.record.width, image.record.height
    rows = []
    parts = part_boxes(ds, image)
    for kps in image.annotation.keypoints:
        if kps.template != template.name:
            raise FormatError(
                f"image {image.record.file}: keypoint set {kps.id} uses "
                f"template {kps.template!r}, not {template.name!r}"
            )
        cls = ds.class_id(ds.keypoint_class(kps, image), image)
        x, y, bw, bh = keypoint_box(image, kps, parts)
        sev.append(parts[kps.id].severity if kps.id in parts else None)
        vals = [n6((x + bw / 2) / w), n6((y + bh / 2) / h), n6(bw / w), n6(bh / h)]
        for name in template.points:
            p = kps.point(name)
            vals += (
                [n6(p.x / w), n6(p.y / h), str(p.v)] if p.v > 0 else ["0.000000", "0.000000", "0"]
            )
        rows.append(f"{cls} " + " ".join(vals))
    return rows


def _export_classify(
    ds: Dataset, out: Path, link: str, progress: Progress | None, cancel: Any
) -> dict[str, Any]:
    """One folder per class, by the image-level defect class; passed images without a
    defect go to `pass/` (the good class of an OK/NG model). A fail without an
    image-level class has no folder: it is left out and named in the summary.
    Only classes with images get a folder (torchvision's ImageFolder, which
    Ultralytics reads class folders with, refuses an empty one)."""
    left_out: list[str] = []
    used: dict[str, set[str]] = {s: set() for s in ds.splits}
    for image in iter_progress(ds.images, progress, cancel):
        cls = image.annotation.defect_class
        if cls is None and image.annotation.verdict == "pass":
            cls = PASS_FOLDER
        if cls is None:
            left_out.append(f"{image.split}/{image.name}")
            continue
        if cls != PASS_FOLDER:
            ds.class_id(cls, image)
        used[image.split].add(cls)
        (out / image.split / cls).mkdir(parents=True, exist_ok=True)
        ds.place_image(image, out / image.split / cls / image.name, link)
    notes = []
    if left_out:
        shown = ", ".join(left_out[:10]) + (
            f" and {len(left_out) - 10} more" if len(left_out) > 10 else ""
        )
        notes.append(
            f"left out {len(left_out)} fail image(s) without an image-level class: {shown}"
        )
    everywhere = set().union(*used.values())
    for split, classes in used.items():
        if classes and classes != everywhere:
            # ImageFolder numbers the classes of each split on its own.
            missing = ", ".join(sorted(everywhere - classes))
            notes.append(
                f"split {split} has no images of {missing}: "
                "its class indices differ from the other splits'"
            )
    return {
        "images": len(ds.images) - len(left_out),
        "skipped_without_class": len(left_out),
        "left_out_without_class": left_out,
        "notes": notes,
    }


# -- import ------------------------------------------------------------------------------
