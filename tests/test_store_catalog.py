"""The catalog and QA documents: atomic files, safe against two writing processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qclabel.core.model import ImageRecord
from qclabel.store import Store

ADDER = """
import sys
from qclabel.core.model import ImageRecord
from qclabel.store import Store
store = Store(sys.argv[1])
for n in range(int(sys.argv[3])):
    i = f"{sys.argv[2]}{n:04d}"
    store.catalog.add([ImageRecord(i, i * 4, f"src/{i}.png", f"{i}.png", 64, 48)])
    store.documents("qa").put(i, {"by": sys.argv[2]})
"""


def record(i: str) -> ImageRecord:
    return ImageRecord(i, i * 4, f"src/{i}.png", f"{i}.png", 64, 48)


def test_catalog_keeps_order_and_skips_known_ids(tmp_path: Path) -> None:
    catalog = Store(tmp_path).catalog
    added = catalog.add([record("b"), record("a"), record("b")])
    assert [r.seq for r in added] == [1, 2] and catalog.ids() == ["b", "a"]
    assert catalog.add([record("a")]) == []
    again = Store(tmp_path).catalog  # from disk
    assert again.ids() == ["b", "a"] and again.find("2").id == "a" and "b" in again
    catalog.update([ImageRecord.from_dict({**record("a").to_dict(), "seq": 2, "width": 99})])
    assert Store(tmp_path).catalog.get("a").width == 99


@pytest.mark.slow
def test_two_processes_adding_images_lose_none(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ADDER, str(tmp_path), who, "25"], stderr=subprocess.PIPE
        )
        for who in ("x", "y")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    store = Store(tmp_path)
    ids = store.catalog.ids()
    assert len(ids) == 50 and len(set(ids)) == 50
    assert sorted(store.catalog.get(i).seq for i in ids) == list(range(1, 51))
    assert len(store.documents("qa").names()) == 50
