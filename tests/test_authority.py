"""Authority is checked where labels are read: an event counts only if its author held
the role its kind needs at its time, from the admins' signed role events in roles/.

The attacker writes through the Python API, as anyone with a shell can:
`Store(dir).open_session(me).record("final", IMG, ...)`."""

from __future__ import annotations

import csv
import json
import multiprocessing
from pathlib import Path

from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.core.model import Annotation
from qclabel.project import Project
from qclabel.qa.final import final_labels
from qclabel.status import project_status
from qclabel.store import Store
from qclabel.store.authority import EVENT_ROLES
from test_qa_support import label, qa_project


def run(as_user, user, *args):
    as_user(user)
    res = CliRunner().invoke(main, [str(a) for a in args])
    return res.exit_code, res.output


def forge_final(root: Path, user: str, image: str, defect: str = "crack") -> None:
    forged = Annotation.from_dict(None)
    forged = edits.apply(image, forged, edits.set_class(defect, "critical")).after
    with Store(root).open_session(user) as s:
        s.record(
            "final",
            image,
            None,
            {"annotation": forged.to_dict(), "source": "B", "annotators": ["ann1", "ann2"]},
            "forged",
        )


def test_an_annotators_final_event_is_not_honoured(tmp_path, as_user):
    p = qa_project(tmp_path, 3, dual_first_n=0, spot_check_rate=0.0)
    img = p.store.catalog.ids()[0]
    label(p, "ann1", img, edits.set_verdict("pass"))
    forge_final(p.root, "ann1", img)
    p = Project.open(p.root)
    final = final_labels(p)
    assert final[img].status == "single" and final[img].annotation.verdict == "pass"

    code, out = run(
        as_user, "admin", "export", p.root, "--format", "csv", "--out", tmp_path / "out"
    )
    assert code == 0, out
    rows = list(csv.DictReader(open(tmp_path / "out" / "images.csv")))
    assert [(r["verdict"], r["status"]) for r in rows] == [("pass", "single")]

    code, out = run(as_user, "admin", "audit", "verify", p.root)
    assert code == 1
    assert (
        f"FAIL {p.root}/labels/ann1.jsonl:2: final event on image {img} by ann1, "
        "who did not hold the adjudicator role"
    ) in out
    s = project_status(p, viewer="admin")
    assert any("ann1" in f and "not honoured" in f for f in s["audit_findings"])


def test_roles_count_at_the_time_of_the_event(tmp_path):
    p = qa_project(tmp_path, 3, dual_first_n=0, spot_check_rate=0.0)
    a, b, c = p.store.catalog.ids()
    for img in (a, b, c):
        label(p, "ann1", img, edits.set_verdict("pass"))
    forge_final(p.root, "ann2", a)  # before ann2 is an adjudicator: never counts
    p.add_role("admin", "ann2", "adjudicator")
    forge_final(p.root, "ann2", b)  # while ann2 is one: counts
    p.remove_role("admin", "ann2", "adjudicator")
    forge_final(p.root, "ann2", c)  # after: does not
    final = final_labels(Project.open(p.root))
    assert [final[i].status for i in (a, b, c)] == ["single", "adjudicated", "single"]
    history = Store(p.root).authority()  # also without the Project
    events = [e["ts"] for e in _events(p.root / "labels" / "ann2.jsonl")]
    assert [history.held("ann2", "adjudicator", ts) for ts in events] == [False, True, False]


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_a_role_event_not_signed_by_an_admin_grants_nothing(tmp_path, as_user):
    p = qa_project(tmp_path, 2, dual_first_n=0, spot_check_rate=0.0)
    img = p.store.catalog.ids()[0]
    # ann1 writes a well-chained role journal of their own, granting themselves admin
    with Store(p.root).role_session("ann1") as s:
        s.record("role", "ann1", None, {"user": "ann1", "role": "admin", "held": True})
    p = Project.open(p.root)
    assert not p.has_role("ann1", "admin") and "ann1" not in p.role_table()["admin"]
    forge_final(p.root, "ann1", img)
    assert img not in final_labels(p)
    code, out = run(as_user, "admin", "audit", "verify", p.root)
    assert code == 1 and "roles/ann1.jsonl:1: ann1 changed the admin role of ann1" in out
    code, out = run(as_user, "ann1", "role", "add", p.root, "ann1", "adjudicator")
    assert code == 3 and "needs the admin role" in out


def test_golden_and_review_need_their_roles_too(tmp_path):
    assert EVENT_ROLES["review"] == "reviewer" and EVENT_ROLES["final"] == "adjudicator"
    from qclabel.qa.kinds import EVENT_ROLES as production

    assert production.items() <= EVENT_ROLES.items()
    p = qa_project(tmp_path, 2, dual_first_n=0, spot_check_rate=0.0)
    img = p.store.catalog.ids()[0]
    label(p, "ann1", img, edits.set_verdict("pass"))
    ann = Annotation.from_dict(None)
    ann = edits.apply(img, ann, edits.set_class("crack", "critical")).after
    with Store(p.root).open_session("ann2") as s:
        s.record("review", img, None, {"annotation": ann.to_dict(), "of": "ann1"})
        s.record("golden", img, None, {"annotation": ann.to_dict(), "labelers": []})
    final = final_labels(Project.open(p.root))
    assert final[img].status == "single" and final[img].annotation.verdict == "pass"


def _add_roles(root: str, start: int, n: int) -> None:
    project = Project.open(Path(root))
    for i in range(start, start + n):
        project.add_role("admin", f"u{i:03d}", "annotator")


def test_concurrent_role_changes_lose_none(tmp_path, as_user):
    """90 role adds from 6 processes at once, each acknowledged: all 90 hold."""
    p = Project.init(tmp_path / "proj", "metal-stamping", user="admin")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_add_roles, args=(str(p.root), k * 15, 15)) for k in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    table = Project.open(p.root).role_table()
    assert table["annotator"] == [f"u{i:03d}" for i in range(90)]
    as_user("admin")
    log = CliRunner().invoke(main, ["audit", "log", str(p.root)]).output.splitlines()
    assert sum("the annotator role given to u" in line for line in log) == 90
    code = CliRunner().invoke(main, ["audit", "verify", str(p.root)]).exit_code
    assert code == 0
