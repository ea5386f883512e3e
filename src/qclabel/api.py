"""The Python API for notebooks and training scripts: read a project, never change it.

    from qclabel import api
    project = api.open_project("/data/line4")
    project.versions()                     # [VersionInfo(name, created, ..., images)]
    v = project.version("rc1")             # a frozen dataset version (hash-checked)
    images = v.to_dataframe()              # pandas: pip install 'qclabel[pandas]'
    objects = v.to_dataframe("objects")
    train = v.dataset("train")             # len(train); train[i] -> (pixels, labels)

Nothing here writes to the project folder: no session is opened, no journal, snapshot,
catalog or lock file is touched, so it is safe on a project that annotators are
labeling right now and on a read-only copy. Labels are the final labels of a version
(or of the project now, `current()`), exactly what `qclabel export` writes; reading them
needs the adjudicator or admin role like the export (blind dual annotation).

`dataset()` follows PyTorch's map-style `Dataset` protocol (`__len__`, `__getitem__`)
without importing torch; pass it to `torch.utils.data.DataLoader` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from . import identity
from .core.taxonomy import Taxonomy
from .errors import QclabelError
from .formats.dataset import Dataset, ExportImage, is_derived, read_source
from .project import Project

if TYPE_CHECKING:  # pandas is an optional extra, imported only when a frame is asked for
    import pandas

__all__ = [
    "open_project",
    "ProjectView",
    "Version",
    "VersionInfo",
    "ImageDataset",
    "Sample",
    "TABLES",
]

TABLES = ("images", "objects")
Sample = tuple[np.ndarray, dict[str, Any]]


@dataclass(frozen=True)
class VersionInfo:
    """One dataset version as `qclabel version list` shows it. `images` is None for
    users who may not see the labels (the count tells how many dual images agreed)."""

    name: str
    created: str
    created_by: str
    hash: str
    images: int | None


def open_project(path: str | Path) -> ProjectView:
    """Open the project in `path` for reading (NotAProjectError when it holds none)."""
    return ProjectView(Project.open(Path(path)))


class ProjectView:
    """A project opened read-only, as the operating-system user running Python."""

    def __init__(self, project: Project):
        self._project = project
        self.user = identity.current_user()

    @property
    def root(self) -> Path:
        return self._project.root

    @property
    def name(self) -> str:
        return self._project.name

    @property
    def taxonomy(self) -> Taxonomy:
        return self._project.taxonomy

    @property
    def classes(self) -> list[str]:
        """Defect classes in taxonomy order: index i is class_index i everywhere."""
        return self._project.taxonomy.class_names()

    def versions(self) -> list[VersionInfo]:
        """Every dataset version, oldest first (each manifest's hash is checked);
        PermissionDenied where versions.json is the privileged group's to read."""
        from .qa.blind import sees_everything
        from .versions import get_version, list_names

        full = sees_everything(self._project, self.user)
        out = []
        for n in list_names(self._project):
            m = get_version(self._project, n)
            out.append(
                VersionInfo(
                    n,
                    m.get("created", ""),
                    m.get("created_by", ""),
                    m["hash"],
                    len(m["labels"]) if full else None,
                )
            )
        return out

    def version(self, name: str) -> Version:
        """Dataset version `name` (VersionError when unknown or altered)."""
        from .versions import get_version

        self._require("read a dataset version's labels")
        return Version(Dataset(get_version(self._project, name), self.root))

    def current(self, min_status: str = "single") -> Version:
        """The project's final labels now, as an unnamed version (not frozen: the next
        label changes them; create a version to train on something reproducible)."""
        from .versions import build_manifest

        self._require("read the final labels")
        return Version(Dataset(build_manifest(self._project, min_status=min_status), self.root))

    def _require(self, action: str) -> None:
        from .qa.blind import require_sees_everything

        require_sees_everything(self._project, self.user, action)


class Version:
    """The images and final labels of one dataset version."""

    def __init__(self, dataset: Dataset):
        self._ds = dataset

    @property
    def name(self) -> str | None:
        return self._ds.manifest.get("name")

    @property
    def hash(self) -> str:
        """Content hash of the images, labels, taxonomy and split settings."""
        return self._ds.content_hash

    @property
    def classes(self) -> list[str]:
        return list(self._ds.classes)

    @property
    def splits(self) -> list[str]:
        return list(self._ds.splits)

    def __len__(self) -> int:
        return len(self._ds.images)

    def to_dataframe(self, table: str = "images", split: str | None = None) -> pandas.DataFrame:
        """One row per image (`images`) or per box, keypoint set and mask (`objects`):
        the columns of the CSV export (README, schema.json), `path` absolute."""
        from ._api_rows import image_rows, object_rows

        try:
            import pandas as pd
        except ImportError:
            raise QclabelError("to_dataframe needs pandas: pip install 'qclabel[pandas]'") from None
        if table not in TABLES:
            raise QclabelError(f"table {table!r}: expected one of {', '.join(TABLES)}")
        ds = self._subset(split)
        rows, columns = (image_rows if table == "images" else object_rows)(ds)
        return pd.DataFrame(rows, columns=columns)

    def dataset(
        self,
        split: str | None = None,
        *,
        drop_incomplete: bool = False,
        transform: Callable[[np.ndarray, dict[str, Any]], Any] | None = None,
        verify: bool = True,
    ) -> ImageDataset:
        """The images of `split` (default: all) with their labels, for training.

        `drop_incomplete`: leave out fail images without any box, keypoint set or mask,
        as the detection exports do. `transform(pixels, labels)` is applied to each
        sample. `verify`: check each image file's sha256 against the version."""
        ds = self._subset(split)
        if drop_incomplete:
            from .core.consistency import incomplete

            ds = ds.without(lambda i: incomplete(i.annotation))
        return ImageDataset(ds, transform, verify)

    def _subset(self, split: str | None) -> Dataset:
        if split is None:
            return self._ds
        if split not in ("train", "val", "test"):
            raise QclabelError(f"split {split!r}: expected train, val or test")
        return self._ds.without(lambda i: i.split != split)


class ImageDataset:
    """A map-style dataset: `ds[i]` is `(pixels, labels)` (or `transform(pixels,
    labels)`). Pixels are the canonical image as numpy: H×W (grey) or H×W×3 (RGB),
    uint8, or uint16 for 16-bit images. Labels: see `labels_of`."""

    def __init__(
        self, ds: Dataset, transform: Callable[..., Any] | None = None, verify: bool = True
    ):
        self._ds = ds
        self.transform = transform
        self.verify = verify

    @property
    def classes(self) -> list[str]:
        return list(self._ds.classes)

    @property
    def image_ids(self) -> list[str]:
        return [i.record.id for i in self._ds.images]

    def __len__(self) -> int:
        return len(self._ds.images)

    def __getitem__(self, index: int) -> Any:
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"dataset index must be an int, not {type(index).__name__}")
        image = self._ds.images[index]  # IndexError past the end, as a sequence does
        pixels, labels = self.pixels_of(image), self.labels_of(image)
        return self.transform(pixels, labels) if self.transform else (pixels, labels)

    def __iter__(self) -> Iterator[Any]:
        for n in range(len(self)):
            yield self[n]

    def pixels_of(self, image: ExportImage) -> np.ndarray:
        from .ingest import load_canonical_array

        if self.verify and not is_derived(image.record):
            read_source(image.record, self._ds.root)  # FormatError when the file changed
        try:
            return load_canonical_array(image.record, self._ds.root)
        except QclabelError as exc:
            raise QclabelError(f"cannot load image {image.record.id}: {exc}") from exc

    def labels_of(self, image: ExportImage) -> dict[str, Any]:
        """torchvision's detection target keys plus the rest of the label:
        `boxes` float32 N×4 (x1, y1, x2, y2 pixels, clipped), `labels` int64 N (0-based
        class index), `box_severities`, `keypoints` (one dict per set: template, class,
        class_index, `points` float32 P×3 of x, y, v), `masks` bool M×H×W,
        `mask_labels` int64 M, and the image fields of the images table."""
        from ._api_rows import labels_of

        return labels_of(self._ds, image)
