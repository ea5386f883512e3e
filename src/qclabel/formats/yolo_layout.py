"""Where the parts of a YOLO dataset written by another tool are: class names, label
files and the image each label file belongs to.

    Ultralytics    data.yaml (names), images/<split>/X.jpg, labels/<split>/X.txt
    Roboflow       data.yaml (train: ../train/images), train/images/X.jpg, train/labels/X.txt,
                   valid/..., test/..., README.roboflow.txt
    CVAT YOLO 1.1  obj.names, obj.data, train.txt, obj_train_data/X.jpg beside X.txt
    labelImg       classes.txt beside the label files
    yolo predict   labels/X.txt and no names: the taxonomy's order, as our exports train

Class names come from the first of data.yaml / data.yml, the `names =` file of obj.data,
obj.names, classes.txt (in the folder, else the one such file below it, else a parent
folder's for a single label file). Every name must be a taxonomy class: a row's class
index is looked up by name, so a reordered obj.names maps each class correctly.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FormatError
from . import safe_read, yolo

YAML_NAMES = ("data.yaml", "data.yml")
TEXT_NAMES = ("obj.names", "classes.txt")
# Image lists of darknet / CVAT / Ultralytics (paths, not labels).
LIST_NAMES = {"train.txt", "val.txt", "valid.txt", "test.txt", "trainval.txt"}
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".dng", ".mpo"}


def find_names(src: Path) -> tuple[list[str] | None, int | None, Path | None]:
    """(class names, kpt_shape[0], the file they came from); names None when the
    source names no classes."""
    if src.is_file() and src.suffix in (".yaml", ".yml"):
        names, kpt = yolo.read_names(src)
        return names, kpt, src
    if src.is_file() and src.name in TEXT_NAMES:
        return read_text_names(src), None, src
    folders = [src] if src.is_dir() else list(src.parents)[:3]
    for folder in folders:
        found = _names_in(folder)
        if found:
            return found
    if src.is_dir():
        below = sorted({p for n in (*YAML_NAMES, *TEXT_NAMES) for p in src.rglob(n)})
        if len(below) > 1:
            listed = ", ".join(str(p.relative_to(src)) for p in below)
            raise FormatError(
                f"{src}: several class-name files ({listed}); import the "
                "folder that has the one you mean"
            )
        if below:
            return _read_any(below[0])
    return None, None, None


def _names_in(folder: Path) -> tuple[list[str] | None, int | None, Path | None] | None:
    for n in YAML_NAMES:
        if (folder / n).is_file():
            return _read_any(folder / n)
    data = folder / "obj.data"
    if data.is_file():
        target = _obj_data_names(data)
        if target is not None:
            return read_text_names(target), None, target
    for n in TEXT_NAMES:
        if (folder / n).is_file():
            return _read_any(folder / n)
    return None


def _read_any(path: Path) -> tuple[list[str], int | None, Path]:
    if path.suffix in (".yaml", ".yml"):
        names, kpt = yolo.read_names(path)
        return names, kpt, path
    return read_text_names(path), None, path


def _obj_data_names(path: Path) -> Path | None:
    """The `names = data/obj.names` file of a darknet obj.data: CVAT writes paths for
    darknet's own tree (data/...), so the file is also looked for by name beside it."""
    for line in _text(path).splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "names" and value.strip():
            rel = Path(value.strip())
            for cand in (path.parent / rel, path.parent / rel.name):
                if cand.is_file():
                    return cand
            raise FormatError(f"{path}: names = {value.strip()}: no such file")
    return None


def read_text_names(path: Path) -> list[str]:
    """One class name per line (obj.names, classes.txt); a blank line inside the list
    would shift every later index, so it is refused."""
    lines = _text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    names = [ln.strip() for ln in lines]
    if not names:
        raise FormatError(f"{path}: no class names")
    if "" in names:
        raise FormatError(
            f"{path}:{names.index('') + 1}: blank line in the class list "
            "(it would shift every later class index)"
        )
    return names


def _text(path: Path) -> str:
    """A names or obj.data file: bounded like data.yaml (names, never more)."""
    return safe_read.read_text(path, safe_read.MAX_YAML_BYTES).lstrip("\ufeff")


def check_names(names: list[str], classes: list[str], where: Path) -> None:
    """Every name of the file is a taxonomy class, each once."""
    for i, name in enumerate(names):
        if name not in classes:
            raise FormatError(
                f"{where}: class {name!r} (index {i}) is not in the taxonomy "
                f"{classes}; rename it there or add it to the taxonomy"
            )
        if names.index(name) != i:
            raise FormatError(
                f"{where}: class {name!r} is listed twice (index {names.index(name)} and {i})"
            )


def label_files(src: Path) -> list[Path]:
    """The label .txt files of a dataset folder (image lists, READMEs and name files
    left out)."""
    if src.is_file() and src.suffix == ".txt" and src.name not in TEXT_NAMES:
        return [src]
    if src.is_file():  # data.yaml or obj.names: the dataset around it
        src = src.parent
    out = []
    for p in sorted(src.rglob("*.txt")):
        if p.name in TEXT_NAMES or p.name.upper().startswith("README"):
            continue
        if p.name in LIST_NAMES and image_beside(p) is None:
            continue
        out.append(p)
    return out


def image_beside(label: Path) -> Path | None:
    """The image a label file belongs to: same stem in the same folder (darknet, CVAT
    1.1), else in the matching `images` folder (Ultralytics: the last `labels` of the
    path becomes `images`; Roboflow: train/labels -> train/images)."""
    folders = [label.parent]
    parts = label.parent.parts
    if "labels" in parts:
        i = len(parts) - 1 - parts[::-1].index("labels")
        folders.append(Path(*parts[:i], "images", *parts[i + 1 :]))
    for folder in folders:
        hits = (
            sorted(
                p
                for p in folder.glob(f"{_glob_escape(label.stem)}.*")
                if p.suffix.lower() in IMAGE_EXTS
            )
            if folder.is_dir()
            else []
        )
        if hits:
            return hits[0]
    return None


def _glob_escape(s: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in s)
