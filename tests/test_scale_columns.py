"""The column plan, the lazy queue and the shared label objects against the
record-by-record rules they replace, on real projects (real images, real journals)."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections import defaultdict

from qclabel.core import edits
from qclabel.core.model import Annotation, Box
from qclabel.core.queue_filter import parse_queue
from qclabel.project import Project
from qclabel.qa.plan import build_plan
from qclabel.status import project_status
from qclabel.store import catalog_db
from qclabel.store.catalog_queue import CatalogQueue
from qclabel.tui.labeling import QUEUES, Labeler, queue_ids

from test_qa_support import qa_project, set_fields


def reference_plan(project: Project) -> dict[str, tuple]:
    """The plan's rules (qa.plan docstring) walked record by record."""
    cfg, roles = project.qa, project.role_table()
    anns = list(dict.fromkeys(roles["annotator"]))
    revs = list(dict.fromkeys(roles["reviewer"]))
    pairs = list(itertools.combinations(anns, 2))
    recs = project.store.catalog.all()
    by_task = defaultdict(list)
    for r in recs:
        by_task[r.fields.get("task", "")].append(r)
    out, singles = {}, []
    for task, rs in by_task.items():
        for i, r in enumerate(rs):
            if i < cfg["dual_first_n"] and pairs:
                out[r.id] = (task, "dual", pairs[i % len(pairs)], None)
            else:
                k = i - min(i, cfg["dual_first_n"]) if pairs else i
                singles.append((r, task, (anns[k % len(anns)],) if anns else ()))
    groups = defaultdict(list)
    for r, _task, _who in singles:
        groups[r.fields.get(cfg["spot_check_by"], "") if cfg["spot_check_by"] else ""].append(r)
    chosen = set()
    for members in groups.values():
        k = max(round(cfg["spot_check_rate"] * len(members)), 1)
        rank = sorted(
            members, key=lambda r: hashlib.sha256(f"{cfg['seed']}:{r.id}".encode()).hexdigest()
        )
        chosen.update(r.id for r in rank[:k])
    turn = 0
    for r, task, who in singles:
        rev = None
        if r.id in chosen:
            for step in range(len(revs)):
                cand = revs[(turn + step) % len(revs)]
                if cand not in who:
                    rev, turn = cand, turn + step + 1
                    break
        out[r.id] = (task, "single", who, rev)
    return out


def test_column_plan_is_the_record_by_record_plan(tmp_path):
    p = qa_project(
        tmp_path,
        60,
        annotators=("a", "b", "c"),
        reviewers=("rev", "a"),
        dual_first_n=4,
        spot_check_rate=0.2,
        spot_check_by="lot",
        seed=5,
    )
    ids = p.store.catalog.ids()
    p = set_fields(
        p,
        {
            i: {"task": ("left", "right", "")[n % 3], "lot": f"L{n // 25}"}
            for n, i in enumerate(ids)
        },
    )
    plan = build_plan(p)
    got = {i: (a.task, a.phase, a.annotators, a.reviewer) for i, a in plan.assignments.items()}
    want = reference_plan(p)
    assert got == want
    assert list(got) == list(want)  # the same order: each task's duals, then the singles
    s = plan.summary()
    assert s["spot_checks"] == sum(1 for v in want.values() if v[3]) > 0
    assert s["per_user"]["rev"]["review"] == sum(1 for v in want.values() if v[3] == "rev")
    assert sum(u["label"] for u in s["per_user"].values()) == sum(len(v[2]) for v in want.values())


def labeled_project(tmp_path) -> tuple[Project, list[str]]:
    p = qa_project(tmp_path, 30, annotators=("ann",), reviewers=(), dual_first_n=0)
    ids = p.store.catalog.ids()
    p = set_fields(p, {i: {"lot": f"L{n % 3}", "shift": str(n % 2)} for n, i in enumerate(ids)})
    with p.store.open_session("ann") as s:
        s.commit_many([edits.Change(i, Annotation(), Annotation(verdict="pass")) for i in ids[:6]])
        s.commit(
            edits.Change(
                ids[6],
                Annotation(),
                Annotation(verdict="fail", defect_class="crack", boxes=(Box("crack", 1, 1, 5, 5),)),
            )
        )
        s.commit(edits.Change(ids[7], Annotation(), Annotation(skipped=True)))
        s.commit(edits.Change(ids[8], Annotation(), Annotation(flag="unsure")))
    return p, ids


def reference_queue(p: Project, session, spec: str) -> list[str]:
    parsed = parse_queue(spec, QUEUES)
    own = session.state.annotations("label")
    done = {i for i, a in own.items() if a.state in ("labeled", "flagged")}
    name = parsed.name or "unlabeled"
    keep = {
        "unlabeled": lambda i: i not in done,
        "mine": lambda i: i in done,
        "all": lambda i: True,
        "flagged": lambda i: i in own and own[i].flag is not None,
    }[name]
    return [r.id for r in p.store.catalog.all() if keep(r.id) and parsed.matches(r, own.get(r.id))]


def test_lazy_queues_hold_what_the_list_queues_held(tmp_path):
    p, ids = labeled_project(tmp_path)
    specs = [
        "unlabeled",
        "mine",
        "all",
        "flagged",
        "lot=L1",
        "all,lot=L0|L2",
        "all,lot!=L1",
        "all,shift=1",
        "all,shift!=0,lot=L2",
        "all,state=unlabeled",
        "all,state=labeled|skipped",
        "all,state!=unlabeled",
        "all,class=crack",
        "mine,class!=crack",
        "all,file=part_001*",
        "unlabeled,lot=L9",
    ]
    with p.store.open_session("ann") as s:
        for spec in specs:
            parsed = parse_queue(spec, QUEUES)
            q = queue_ids(p, s, parsed.name or "unlabeled", parsed)
            want = reference_queue(p, s, spec)
            assert isinstance(q, CatalogQueue) and list(q) == want, spec
            assert len(q) == len(want) and q[:3] == want[:3] and q[-1:] == want[-1:]
            for n, i in enumerate(want):
                assert q[n] == i and q.index(i) == n and i in q
            assert all(i not in q for i in ids if i not in want)


def test_a_queue_longer_than_a_page_and_the_resumed_image(tmp_path):
    p, ids = labeled_project(tmp_path)
    import qclabel.store.catalog_queue as cq

    old = cq.PAGE
    cq.PAGE = 4  # many pages over 30 images
    try:
        with p.store.open_session("ann") as s:
            lab = Labeler(p, s)
            lab.load_queue("unlabeled", keep=ids[2])  # labeled: stays in, at its position
            want = reference_queue(p, s, "unlabeled")
            want = sorted(want + [ids[2]], key=ids.index)
            assert list(lab.queue) == want and lab.current == ids[2]
            assert lab.find(ids[20][:10]) == [want.index(ids[20])]
            assert lab.done_total() == (1, len(want))
            lab.index = lab.queue.index(ids[25])
            lab.apply(ids[25], edits.set_verdict("pass"))
            assert lab.done_total() == (2, len(want))
    finally:
        cq.PAGE = old


def test_equal_labels_share_one_annotation_and_status_counts_them_all(tmp_path):
    p, ids = labeled_project(tmp_path)
    state = p.store.state("ann")
    anns = state.annotations("label")
    assert len({id(anns[i]) for i in ids[:6]}) == 1  # six equal pass labels
    assert anns[ids[6]].boxes and anns[ids[6]] is not anns[ids[0]]
    s = project_status(p)
    assert s["states"] == {"unlabeled": 30 - 9, "labeled": 7, "flagged": 1, "skipped": 1}
    assert (
        s["verdicts"] == {"pass": 6, "fail": 1} and s["classes"]["crack"] == 2
    )  # the image class and its box


def test_a_catalog_written_before_the_order_index_is_read_and_then_indexed(tmp_path):
    p, ids = labeled_project(tmp_path)
    path = p.root / "catalog.sqlite"
    con = sqlite3.connect(path)
    con.execute("DROP INDEX images_order")  # what earlier releases wrote
    con.commit()
    con.close()
    old = Project.open(p.root)
    with old.store.open_session("ann") as s:
        assert list(queue_ids(old, s, "unlabeled")) == reference_queue(old, s, "unlabeled")
    assert build_plan(old).summary()["images"] == 30
    # the next write (any ingest) adds the index, nothing else changes
    catalog_db.open_writer(path).close()
    con = sqlite3.connect(path)
    names = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "images_order" in names
    assert [i for (i,) in con.execute("SELECT id FROM images ORDER BY seq")] == ids
