"""The spot-check digests kept between plans (qa.spot_digests): the sample stays the one
the record-by-record rules give, after images are added, with the cache damaged, planted
or in a folder others can write; only new images are hashed when the cache holds."""

from __future__ import annotations

import os

import pytest

from qclabel.ingest import ingest_paths
from qclabel.project import Project
from qclabel.qa import spot_digests
from qclabel.qa.plan import build_plan

from test_qa_support import qa_project, write_images
from test_scale_columns import reference_plan


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "qclabel" / "spot-check"


@pytest.fixture
def hashed(monkeypatch):
    """How many ids each plan hashed."""
    counts: list[int] = []
    real = spot_digests.compute

    def counting(ids, seed):
        counts.append(len(ids))
        return real(ids, seed)

    monkeypatch.setattr(spot_digests, "compute", counting)
    return counts


def plan_of(p: Project) -> dict[str, tuple]:
    return {
        i: (a.task, a.phase, a.annotators, a.reviewer) for i, a in build_plan(p).assignments.items()
    }


def project(tmp_path, n=40) -> Project:
    return qa_project(
        tmp_path, n, annotators=("a", "b"), reviewers=("rev",), dual_first_n=3, spot_check_rate=0.25
    )


def test_the_cache_gives_the_same_sample_and_hashes_only_new_images(tmp_path, cache, hashed):
    p = project(tmp_path)
    first = plan_of(p)
    assert first == reference_plan(p) and any(v[3] for v in first.values())
    assert hashed == [40]
    (cache_file,) = cache.iterdir()
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert oct(cache_file.stat().st_mode & 0o777) == "0o600"
    assert plan_of(Project.open(p.root)) == first
    assert hashed == [40, 0]  # nothing new: nothing hashed, file left as it was
    ingest_paths(p, [write_images(tmp_path / "more", 12, size=(33, 24))])
    p = Project.open(p.root)
    assert len(p.store.catalog) == 52
    got = plan_of(p)
    assert got == reference_plan(p)
    assert hashed == [40, 0, 12]
    assert plan_of(p) == got and hashed[-1] == 0


def test_a_damaged_or_foreign_cache_is_hashed_afresh(tmp_path, cache, hashed):
    p = project(tmp_path)
    want = plan_of(p)
    (cache_file,) = cache.iterdir()
    data = bytearray(cache_file.read_bytes())
    # digests that would pick other images, under the proof of the real ids
    data[spot_digests.HEAD :] = bytes(len(data) - spot_digests.HEAD)
    data[0] ^= 1  # and the proof no longer matches the ids
    cache_file.write_bytes(bytes(data))
    assert plan_of(Project.open(p.root)) == want and hashed[-1] == 40
    # a cache folder others can write is not trusted (its files could be planted)
    os.chmod(cache, 0o777)
    assert plan_of(Project.open(p.root)) == want and hashed[-1] == 40
    os.chmod(cache, 0o700)
    # a symbolic link planted in place of the file is not followed
    target = tmp_path / "planted.bin"
    planted = cache_file.read_bytes()
    target.write_bytes(planted)
    cache_file.unlink()
    cache_file.symlink_to(target)
    assert plan_of(Project.open(p.root)) == want and hashed[-1] == 40
    # the link is replaced by a file of the user's own; its target is never written
    assert not cache_file.is_symlink() and target.read_bytes() == planted
    assert plan_of(Project.open(p.root)) == want and hashed[-1] == 0


def test_a_cache_for_a_longer_catalog_or_another_seed_is_not_used(tmp_path, cache, hashed):
    p = project(tmp_path)
    want = plan_of(p)
    (cache_file,) = cache.iterdir()
    data = bytearray(cache_file.read_bytes())
    data[32:40] = (41).to_bytes(8, "little")  # claims more images than the catalog has
    cache_file.write_bytes(bytes(data) + bytes(16))
    assert plan_of(Project.open(p.root)) == want and hashed[-1] == 40
    p.config["qa"]["seed"] = 9
    p.save_config()
    p = Project.open(p.root)
    assert plan_of(p) == reference_plan(p) and hashed[-1] == 40
    assert len(list(cache.iterdir())) == 2  # one file per seed


def test_the_k_lowest_by_partition_are_the_k_first_of_the_full_sort():
    import numpy as np

    from qclabel.qa.plan_table import _lowest

    rng = np.random.default_rng(3)
    for n, k in ((1, 1), (7, 7), (50, 3), (400, 40), (400, 399)):
        # few distinct first words: ties the second word (then the row) must break
        words = np.stack([rng.integers(0, 4, n), rng.integers(0, 3, n)], 1).astype(">u8")
        order = np.lexsort((np.arange(n), words[:, 1], words[:, 0]))
        want = np.zeros(n, bool)
        want[order[:k]] = True
        got = _lowest(words, k)
        assert got.sum() == k and (got == want).all()
