"""Reading a published queue (qa.queues.published_items): the catalog asked about all its
images at once (Catalog.known, by index or by every id), the user's own labels and
reviews left out, damaged items skipped, and the plan made only for images ingested
since the publication."""

from __future__ import annotations

import json

from qclabel.core import edits
from qclabel.project import Project
from qclabel.qa import plan as plan_mod
from qclabel.qa.plan import queue_items
from qclabel.qa.queues import publish, published_items, queue_path

from test_qa_support import qa_project


def test_known_is_the_same_by_index_and_by_every_id(tmp_path):
    p = qa_project(tmp_path, 20)
    ids = p.store.catalog.ids()
    few = [ids[3], "f" * 16]  # by index: fewer than an eighth of the catalog
    many = ids + ["0" * 16, "not an id"]  # every id read at once
    assert p.store.catalog.known(few) == {ids[3]}
    assert p.store.catalog.known(many) == set(ids)


def test_own_labels_leave_the_queue_and_damaged_items_are_skipped(tmp_path, monkeypatch):
    p = qa_project(tmp_path, 12, dual_first_n=0, spot_check_rate=0.0)
    publish(p, "admin")
    path = queue_path(p, "ann1")
    doc = json.loads(path.read_text())
    mine = [i["image"] for i in doc["items"] if i["role"] == "annotator"]
    assert len(mine) >= 2
    with p.store.open_session("ann1") as s:
        s.commit(edits.apply(mine[0], s.annotation(mine[0]), edits.set_verdict("pass")))
    doc["items"] += [
        ["a list"],
        {"image": 7, "role": "annotator"},
        {"image": [1]},
        {"image": mine[1]},
    ]
    path.write_text(json.dumps(doc))
    p = Project.open(p.root)
    planned = []
    real = plan_mod.build_plan
    monkeypatch.setattr(plan_mod, "build_plan", lambda *a: planned.append(1) or real(*a))
    got = [i.image for i in queue_items(p, "ann1")]
    assert got == mine[1:]  # the labeled one left out; the damaged items skipped
    assert planned == []  # nothing ingested since the publication: no plan made
    own = p.store.all_states().get("ann1")
    assert [i.image for i in published_items(p, "ann1", own) or []] == mine[1:]
    assert [i.image for i in published_items(p, "ann1", None) or []] == mine  # --all
