"""The assignment plan as columns: one numpy array per property, one entry per image.

A million-image plan built as a million `Assignment` objects costs tens of seconds and
gigabytes; `qa plan` only shows counts. So the plan is computed here over compact
columns read straight from the catalog's indexed columns (id, task, the spot-check
field), in the same order and with the same rules as qa.plan describes; `Assignment`
objects are made only for callers that walk them (Plan.assignments).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from ..store.catalog import Catalog

DUAL, SINGLE = 0, 1


@dataclass
class PlanTable:
    """Rows in plan order (each task's dual images, then each task's singles)."""

    ids: list[str]
    tasks: list[str]  # task names, indexed by `task`
    task: np.ndarray  # int32, per row
    phase: np.ndarray  # int8: DUAL or SINGLE
    who: np.ndarray  # int32: pair index (dual) or annotator index (single)
    reviewer: np.ndarray  # int32: index into reviewers, -1 for none
    pairs: list[tuple[str, ...]]
    annotators: list[str]
    reviewers: list[str]

    def annotators_of(self, row: int) -> tuple[str, ...]:
        w = int(self.who[row])
        if w < 0:
            return ()
        return self.pairs[w] if self.phase[row] == DUAL else (self.annotators[w],)

    def per_user(self) -> dict[str, dict[str, int]]:
        label: dict[str, int] = {}
        dual = self.who[(self.phase == DUAL) & (self.who >= 0)]
        for w, n in zip(*np.unique(dual, return_counts=True)):
            for u in self.pairs[int(w)]:
                label[u] = label.get(u, 0) + int(n)
        single = self.who[(self.phase == SINGLE) & (self.who >= 0)]
        for w, n in zip(*np.unique(single, return_counts=True)):
            u = self.annotators[int(w)]
            label[u] = label.get(u, 0) + int(n)
        out = {u: {"label": n, "review": 0} for u, n in label.items()}
        for r, n in zip(*np.unique(self.reviewer[self.reviewer >= 0], return_counts=True)):
            out.setdefault(self.reviewers[int(r)], {"label": 0, "review": 0})["review"] = int(n)
        return out


def read_columns(catalog: Catalog, by: str) -> tuple[list[str], list[Any], list[Any]]:
    """Ids, tasks and spot-check groups in catalog order, from indexed columns where the
    field has one ("" and no value are the same value, as in the plan's rules), kept
    between plans per catalog state (store.catalog_columns)."""
    from ..store.catalog_db import INDEXED_FIELDS

    group = (
        by
        if by in INDEXED_FIELDS
        else ("json_extract(doc, '$.fields.\"%s\"')" % by if by else "NULL")
    )
    from ..store.catalog_columns import order_columns

    return order_columns(catalog, group)


def _codes(values: Iterable[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each value's index in the order values first appear ("" and None alike)."""
    norm = [v or "" for v in values]
    first = list(dict.fromkeys(norm))
    if len(first) <= 1:
        return np.zeros(len(norm), np.int32), first or [""]
    index = {v: n for n, v in enumerate(first)}
    return np.fromiter(map(index.__getitem__, norm), np.int32, count=len(norm)), first


def _cumcount(codes: np.ndarray) -> np.ndarray:
    """Position of each row among the rows of its code (catalog order)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    counts = np.diff(np.r_[starts, len(codes)])
    pos = np.empty(len(codes), np.int64)
    pos[order] = np.arange(len(codes)) - np.repeat(starts, counts)
    return pos


def build_table(
    catalog: Catalog,
    cfg: dict[str, Any],
    annotators: list[str],
    reviewers: list[str],
    choose: Any = None,
) -> tuple[PlanTable, int]:
    """The plan's columns; `choose(single_ids)` (the AQL sampling) picks the spot checks
    instead of the seeded per-group sample. Also returns how many were chosen."""
    by = cfg["spot_check_by"] if cfg["spot_check_by"] != "aql" else ""
    ids, tasks, groups = read_columns(catalog, by)
    task, names = _codes(tasks)
    within = _cumcount(task) if len(task) else np.zeros(0, np.int64)
    pairs: list[tuple[str, ...]] = list(itertools.combinations(annotators, 2))
    n = cfg["dual_first_n"]
    is_dual = (within < n) if pairs else np.zeros(len(ids), bool)
    who = np.full(len(ids), -1, np.int32)
    if pairs:
        who[is_dual] = within[is_dual] % len(pairs)
    if annotators:
        k = within - np.minimum(within, n) if pairs else within
        who[~is_dual] = (k % len(annotators))[~is_dual]
    # plan order: the dual rows task by task, then the single rows task by task
    order = np.r_[
        np.flatnonzero(is_dual)[np.argsort(task[is_dual], kind="stable")],
        np.flatnonzero(~is_dual)[np.argsort(task[~is_dual], kind="stable")],
    ]
    n_dual = int(is_dual.sum())
    single_rows = order[n_dual:]
    reviewer = np.full(len(ids), -1, np.int32)
    if choose is not None:
        single_ids = [ids[i] for i in single_rows.tolist()]
        chosen = choose(single_ids)
        mask = np.fromiter((i in chosen for i in single_ids), bool, count=len(single_ids))
    else:  # the single rows' groups as one object array: no Python int per row
        subset = np.empty(len(groups), object)
        subset[:] = groups
        mask = _sample(single_rows, ids, subset[single_rows], cfg, catalog)
    _review(reviewer, single_rows[mask], who, annotators, reviewers)
    table = PlanTable(
        [ids[i] for i in order.tolist()],
        names,
        task[order],
        np.where(is_dual[order], DUAL, SINGLE).astype(np.int8),
        who[order],
        reviewer[order],
        pairs,
        annotators,
        reviewers,
    )
    return table, int(mask.sum())


def _sample(
    rows: np.ndarray, ids: list[str], groups: Iterable[Any], cfg: dict[str, Any], catalog: Catalog
) -> np.ndarray:
    """The `rate` share of each group of the images at `rows` with the lowest SHA-256
    of "seed:image" (digests kept between plans by qa.spot_digests)."""
    mask = np.zeros(len(rows), bool)
    rate = cfg["spot_check_rate"]
    if not len(rows) or rate <= 0:
        return mask
    from .spot_digests import digest_words

    codes, values = _codes(groups)
    size = np.bincount(codes, minlength=len(values))
    k = np.maximum(np.round(rate * size).astype(np.int64), 1)  # every group gets one
    # the hex digests compare as their bytes do; 16 bytes decide every realistic tie
    file = catalog.path if catalog.path.exists() else None
    words = digest_words(ids, cfg["seed"], file)[rows]
    if len(values) == 1:  # one group (no `spot_check_by`): only the k lowest matter
        return _lowest(words, int(k[0]))
    order = np.lexsort((words[:, 1], words[:, 0], codes))
    rank = np.empty(len(rows), np.int64)
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    rank[order] = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    chosen: np.ndarray = rank < k[codes]
    return chosen


def _lowest(words: np.ndarray, k: int) -> np.ndarray:
    """The `k` rows with the lowest (word 0, word 1, row), as the full sort ranks them,
    found by partition: a million-row sort for a few percent of it costs seconds."""
    mask = np.zeros(len(words), bool)
    if k >= len(words):
        mask[:] = True
        return mask
    first = words[:, 0]
    cut = first[np.argpartition(first, k - 1)[k - 1]]  # the k-th lowest first word
    mask[first < cut] = True
    tied = np.flatnonzero(first == cut)  # ranked by the second word, then by row
    need = k - int(mask.sum())
    mask[tied[np.lexsort((tied, words[tied, 1]))[:need]]] = True
    return mask


def _review(
    reviewer: np.ndarray,
    rows: np.ndarray,
    who: np.ndarray,
    annotators: list[str],
    reviewers: list[str],
) -> None:
    """Round-robin over reviewers in plan order, skipping the image's own annotator."""
    if not reviewers:
        return
    own = [annotators.index(r) if r in annotators else -2 for r in reviewers]
    turn, m = 0, len(reviewers)
    for row, w in zip(rows.tolist(), who[rows].tolist()):
        for step in range(m):
            r = (turn + step) % m
            if own[r] != w:
                reviewer[row] = r
                turn += step + 1
                break
