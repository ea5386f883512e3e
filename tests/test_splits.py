"""Splits: grouped by a manufacturing field, stratified by class, deterministic."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qclabel.splits import SplitError, SplitItem, assign_splits, group_key, parse_ratios

CLASSES = ["scratch", "dent", "crack", "burr"]


def synthetic(n_parts: int = 120, seed: int = 1) -> list[SplitItem]:
    """Parts with 1-6 images each; crack is rare (about 5% of parts)."""
    rng = random.Random(seed)
    items = []
    for p in range(n_parts):
        cls = "crack" if p % 20 == 0 else rng.choice(["scratch", "dent", "burr", None])
        for k in range(rng.randint(1, 6)):
            items.append(SplitItem(f"img{p:03d}-{k}", (cls,) if cls else (), f"part=P{p}"))
    return items


def test_parse_ratios():
    assert parse_ratios("0.8,0.1,0.1") == pytest.approx((0.8, 0.1, 0.1))
    assert parse_ratios("0.7,0.2,0.1") == pytest.approx((0.7, 0.2, 0.1))  # float sum .999..
    assert parse_ratios(None) == (1.0,)
    for bad in (
        "a,b",
        "0.5,-0.1",
        "0,0",
        "0.2,0.2,0.2,0.4",
        "nan,1",
        "8,1,1",
        "0.8,0.1",
        "0.5,0.5,0.1",
    ):
        with pytest.raises(SplitError, match="--split"):
            parse_ratios(bad)


def test_one_part_never_in_two_splits():
    items = synthetic()
    out = assign_splits(items, (0.7, 0.15, 0.15), seed=3)
    where: dict[str, set[str]] = {}
    for it in items:
        where.setdefault(it.group, set()).add(out[it.image])
    assert all(len(s) == 1 for s in where.values())
    assert set(out.values()) == {"train", "val", "test"}


def test_rare_class_reaches_every_split_and_shares_are_close():
    items = synthetic(n_parts=300)
    out = assign_splits(items, (0.6, 0.2, 0.2), seed=0)
    cracks = Counter(out[i.image] for i in items if "crack" in i.classes)
    assert set(cracks) == {"train", "val", "test"}
    sizes = Counter(out.values())
    for split, share in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        assert abs(sizes[split] / len(items) - share) < 0.05
    for cls in ("scratch", "dent", "burr"):
        per = Counter(out[i.image] for i in items if cls in i.classes)
        total = sum(per.values())
        assert abs(per["train"] / total - 0.6) < 0.1


def test_deterministic_for_a_seed_and_order_independent():
    items = synthetic()
    a = assign_splits(items, (0.8, 0.1, 0.1), seed=5)
    shuffled = items[:]
    random.Random(9).shuffle(shuffled)
    assert assign_splits(shuffled, (0.8, 0.1, 0.1), seed=5) == a
    assert assign_splits(items, (0.8, 0.1, 0.1), seed=6) != a


def test_group_key_requires_the_field():
    assert group_key("i1", {"part": "P7"}, "part", "x.png") == "part=P7"
    assert group_key("i1", {}, None, "x.png") == "i1"
    with pytest.raises(SplitError, match="x.png: image i1 has no 'lot' field"):
        group_key("i1", {"part": "P7"}, "lot", "x.png")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 15), st.sampled_from(CLASSES + [None])), min_size=1, max_size=60
    ),
    st.integers(0, 100),
)
def test_property_every_image_assigned_groups_intact(rows, seed):
    items = [SplitItem(f"i{n}", (c,) if c else (), f"g{g}") for n, (g, c) in enumerate(rows)]
    out = assign_splits(items, (0.8, 0.2), seed)
    assert set(out) == {i.image for i in items}
    assert set(out.values()) <= {"train", "val"}
    groups: dict[str, set[str]] = {}
    for it in items:
        groups.setdefault(it.group, set()).add(out[it.image])
    assert all(len(v) == 1 for v in groups.values())
