"""Building a labeling queue without walking the catalog in Python.

Manufacturing-field filters become SQL on the catalog's indexed columns; the queue is
the sequence numbers that query returns, minus or intersected with this annotator's
own labels (numpy over their positions), held by a lazy `CatalogQueue`. Only filters
SQL cannot say (a file-name glob) and the `plan` queue look at records one by one.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, Iterable, Sequence

import numpy as np

from ..core.model import Annotation, ImageRecord
from ..core.queue_filter import QueueSpec, Term
from ..project import Project
from ..store import AnnotatorSession
from ..store.catalog_db import INDEXED_FIELDS, key, record_of
from ..store.catalog_queue import CatalogQueue, all_seqs, member, seqs_of, sorted_seqs
from ..store.labels import state_of

DONE = ("labeled", "flagged")


def field_sql(terms: Iterable[Term]) -> tuple[str, tuple[Any, ...]]:
    """The SQL condition of the terms on ingest fields (not file, class or state)."""
    parts: list[str] = []
    args: list[Any] = []
    for t in terms:
        if t.key in ("file", "class", "state"):
            continue
        if t.key in INDEXED_FIELDS:
            col, values = t.key, [key(v) for v in sorted(t.values)]
        else:
            col, values = "CAST(json_extract(doc, ?) AS TEXT)", sorted(t.values)
            args.append(f'$.fields."{t.key}"')
        cond = f"({col} IS NOT NULL AND {col} IN ({','.join('?' * len(values))}))"
        if col != t.key:
            args.append(args[-1])  # the column appears twice
        args += values
        parts.append(f"NOT {cond}" if t.negate else cond)
    return " AND ".join(parts), tuple(args)


def own_labels(session: AnnotatorSession) -> dict[str, dict[str, Any] | None]:
    return {i: e["after"] for (k, i), e in session.state.entries.items() if k == "label"}


def done_ids(mine: dict[str, dict[str, Any] | None]) -> list[str]:
    """The images of `mine` (own_labels) labeled or flagged; equal labels often share
    one dict (store.snapshot_cache), whose state is then worked out once."""
    distinct = {id(a): a for a in mine.values()}
    done = {k for k, a in distinct.items() if state_of(a) in DONE}
    if len(done) == len(distinct):
        return list(mine)
    return [i for i, a in mine.items() if id(a) in done]


def done_positions(own_seqs: dict[str, int], mine: dict[str, Any]) -> np.ndarray:
    """Catalog positions (ascending) of the images of `mine` labeled or flagged, from
    `own_seqs` (the positions of all of them; images not in the catalog are left out)."""
    done = done_ids(mine)
    seqs = np.fromiter(map(own_seqs.get, done, repeat(-1)), np.int64, count=len(done))
    return np.sort(seqs[seqs >= 0])


def build_queue(
    project: Project,
    session: AnnotatorSession,
    spec: QueueSpec,
    own_seqs: dict[str, int] | None = None,
    done: np.ndarray | None = None,
) -> CatalogQueue:
    """The queue `spec` names (not `plan`), filtered, in catalog order. `own_seqs`: the
    catalog sequence numbers of this annotator's labeled images, and `done` those of
    the labeled or flagged ones, when known."""
    catalog = project.store.catalog
    where, args = field_sql(spec.terms)
    seqs = all_seqs(catalog, where, args)
    mine = own_labels(session) if done is None or spec.terms else {}
    if done is None:
        done = done_positions(seqs_of(catalog, mine) if own_seqs is None else own_seqs, mine)
    if spec.name == "unlabeled":
        seqs = seqs[~member(seqs, done)]
    elif spec.name == "mine":
        seqs = seqs[member(seqs, done)]
    elif spec.name == "flagged":
        seqs = seqs[member(seqs, sorted_seqs(catalog, flagged(project, session)))]
    for t in spec.terms:
        if t.key in ("state", "class"):
            seqs = _label_term(catalog, seqs, t, mine)
    queue = CatalogQueue(catalog, seqs)
    globs = QueueSpec(spec.name, tuple(t for t in spec.terms if t.key == "file"))
    if globs.terms:
        queue = CatalogQueue(
            catalog,
            np.asarray([s for s, rec in _records(catalog, seqs) if globs.matches(rec)], np.int64),
        )
    return queue


def _label_term(
    catalog: Any, seqs: np.ndarray, t: Term, mine: dict[str, dict[str, Any] | None]
) -> np.ndarray:
    """Images whose own label matches (an image without one is unlabeled, no class)."""
    if t.key == "state":
        hit = [i for i, a in mine.items() if state_of(a) in t.values]
        labeled = sorted_seqs(catalog, [i for i, a in mine.items() if state_of(a) != "unlabeled"])
        match = member(seqs, sorted_seqs(catalog, hit))
        if "unlabeled" in t.values:
            match |= ~member(seqs, labeled)
    else:
        hit = [
            i for i, a in mine.items() if a and set(Annotation.from_dict(a).classes()) & t.values
        ]
        match = member(seqs, sorted_seqs(catalog, hit))
    return seqs[~match if t.negate else match]


def _records(catalog: Any, seqs: np.ndarray) -> Iterable[tuple[int, ImageRecord]]:
    import json

    for n in range(0, len(seqs), 2000):
        rows = catalog.select(
            "SELECT seq, doc FROM images WHERE seq IN (SELECT value FROM "
            "json_each(?)) ORDER BY seq",
            (json.dumps(seqs[n : n + 2000].tolist()),),
        )
        yield from ((s, record_of(d)) for s, d in rows)


def flagged(project: Project, session: AnnotatorSession) -> list[str]:
    """Images anyone flagged, that this annotator may see (a flag is a label: blind)."""
    from ..qa.blind import hider

    states = {
        u: session.state if u == session.user else project.store.state(u)
        for u in project.store.users()
    }
    hidden = hider(project, session.user, states)
    return [
        i
        for user, state in states.items()
        for (k, i), e in state.entries.items()
        if k == "label"
        and e["after"]
        and e["after"].get("flag") is not None
        and not hidden(user, i)
    ]


def filtered_list(
    project: Project, session: AnnotatorSession, ids: Sequence[str], spec: QueueSpec
) -> list[str]:
    """A list queue (the plan's) filtered record by record."""
    catalog = project.store.catalog
    own = session.state.annotations("label") if spec.needs_labels else {}
    return [i for i in ids if spec.matches(catalog.get(i), own.get(i))]
