"""The image catalog: TinyDB file written atomically, in batches at ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tinydb import TinyDB

from ..core.model import ImageRecord
from .atomic import AtomicJSONStorage, writer_lock


class Catalog:
    """Images in ingest order. Reads are cached; writes replace the whole file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._images: dict[str, ImageRecord] | None = None

    def _db(self, read_only: bool = False) -> TinyDB:
        return TinyDB(self.path, storage=AtomicJSONStorage, read_only=read_only)

    def _load(self) -> dict[str, ImageRecord]:
        if self._images is None:
            docs = self._db(read_only=True).table("images").all() if self.path.exists() else []
            recs = sorted((ImageRecord.from_dict(d) for d in docs), key=lambda r: r.seq)
            self._images = {r.id: r for r in recs}
        return self._images

    def reload(self) -> None:
        self._images = None

    def all(self) -> list[ImageRecord]:
        return list(self._load().values())

    def ids(self) -> list[str]:
        return list(self._load())

    def get(self, image_id: str) -> ImageRecord:
        return self._load()[image_id]

    def find(self, prefix: str) -> ImageRecord | None:
        """Look an image up by id, unique id prefix, or 1-based catalog position."""
        images = self._load()
        if prefix in images:
            return images[prefix]
        if prefix.isdigit() and 0 < int(prefix) <= len(images) and len(prefix) < 8:
            return list(images.values())[int(prefix) - 1]
        hits = [r for i, r in images.items() if i.startswith(prefix)]
        return hits[0] if len(hits) == 1 else None

    def __contains__(self, image_id: str) -> bool:
        return image_id in self._load()

    def __len__(self) -> int:
        return len(self._load())

    def add(self, records: Iterable[ImageRecord]) -> list[ImageRecord]:
        """Add new images in one atomic write; ids already present are skipped.
        Returns the records actually added (with their catalog sequence numbers)."""
        with writer_lock(self.path):
            self.reload()  # another process may have added images since we read
            images = dict(self._load())
            added = []
            for rec in records:
                if rec.id in images:
                    continue
                rec = ImageRecord.from_dict({**rec.to_dict(), "seq": len(images) + 1})
                images[rec.id] = rec
                added.append(rec)
            if added:
                self._write(images)
            return added

    def update(self, records: Iterable[ImageRecord]) -> None:
        with writer_lock(self.path):
            self.reload()
            images = dict(self._load())
            for rec in records:
                images[rec.id] = rec
            self._write(images)

    def _write(self, images: dict[str, ImageRecord]) -> None:
        table = {str(n): r.to_dict() for n, r in enumerate(images.values(), start=1)}
        AtomicJSONStorage(self.path).write({"images": table})
        self._images = images
