"""The spot-check digests kept between plans (qa.spot_digests) against a file whose
header is intact and whose digests are not: what a crash after the rename can leave
(blocks of zeros: the file is not synced before it replaces the last), or any other
change of the body. The sample is still the one hashing every id gives."""

from __future__ import annotations

import pytest

from qclabel.project import Project
from qclabel.qa import spot_digests

from test_spot_digests import cache, hashed, plan_of, project  # noqa: F401 (fixtures)
from test_scale_columns import reference_plan


@pytest.mark.parametrize("damage", ["zeros", "one bit"])
def test_digests_changed_under_an_intact_header_are_hashed_afresh(
    tmp_path,
    cache,  # noqa: F811
    hashed,  # noqa: F811
    damage,
):
    p = project(tmp_path)
    want = plan_of(p)
    assert want == reference_plan(p)
    (entry,) = cache.iterdir()
    data = bytearray(entry.read_bytes())
    body = 16 * len(p.store.catalog)  # the digests end the file
    if damage == "zeros":
        data[-body:] = bytes(body)
    else:
        data[-body] ^= 0x80  # the first image's digest now sorts on the other side
    entry.write_bytes(bytes(data))
    assert plan_of(Project.open(p.root)) == want
    assert hashed[-1] == len(want)  # hashed again, and kept again
    assert plan_of(Project.open(p.root)) == want and hashed[-1] == 0


def test_a_file_of_the_earlier_layout_is_not_read(tmp_path, cache, hashed):  # noqa: F811
    """A file as an earlier release wrote it (no hash of the digests) is hashed afresh."""
    p = project(tmp_path)
    want = plan_of(p)
    ids = p.store.catalog.ids()
    (entry,) = cache.iterdir()
    old = spot_digests._ids_hash(0, ids) + len(ids).to_bytes(8, "little")
    entry.write_bytes(old + bytes(16 * len(ids)))
    assert plan_of(Project.open(p.root)) == want and hashed[-1] == len(ids)
