"""The pieces that keep `status` and the labeling app's start proportional to what they
show: queue positions by binary search, catalog positions of a catalog with gaps, and
the `status`/`label` commands loaded without every other command's modules."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import numpy as np

from qclabel.core import edits
from qclabel.core.model import Annotation
from qclabel.project import Project
from qclabel.status import project_status
from qclabel.store.catalog_queue import all_seqs, count_in, member, sorted_seqs
from qclabel.tui.labeling import Labeler

from test_qa_support import qa_project
from test_scale_columns import labeled_project, reference_queue


def test_member_is_np_isin():
    rng = np.random.default_rng(3)
    for _ in range(200):
        seqs = np.unique(rng.integers(0, 60, rng.integers(0, 40)))
        other = rng.integers(-5, 70, rng.integers(0, 30))
        assert np.array_equal(member(seqs, other), np.isin(seqs, other)), (seqs, other)


def test_a_catalog_with_gaps_is_read_as_it_is(tmp_path):
    p = qa_project(tmp_path, 12, annotators=("ann",), reviewers=(), dual_first_n=0)
    ids = p.store.catalog.ids()
    assert np.array_equal(all_seqs(p.store.catalog), np.arange(1, 13))
    con = sqlite3.connect(p.root / "catalog.sqlite")  # not what qclabel writes: a hand edit
    con.execute("DELETE FROM images WHERE seq IN (1, 5, 12)")
    con.commit()
    con.close()
    p = Project.open(p.root)
    want = [n for n in range(1, 13) if n not in (1, 5, 12)]
    assert all_seqs(p.store.catalog).tolist() == want
    gone = {ids[0], ids[4], ids[11]}
    assert count_in(p.store.catalog, ids + ["nosuchimage"]) == 9
    assert sorted_seqs(p.store.catalog, reversed(ids)).tolist() == want
    with p.store.open_session("ann") as s:  # labels of images no longer in the catalog
        s.commit_many([edits.Change(i, Annotation(), Annotation(verdict="pass")) for i in ids[:6]])
        lab = Labeler(p, s)
        lab.load_queue("unlabeled")
        assert list(lab.queue) == [i for i in ids[6:] if i not in gone]
        assert lab.done_total() == (0, 5)
        lab.load_queue("mine")
        assert list(lab.queue) == [ids[n] for n in (1, 2, 3, 5)]
        assert lab.done_total() == (4, 4)
    s = project_status(Project.open(p.root))
    assert s["images"] == 9 and s["states"] == {
        "unlabeled": 5,
        "labeled": 4,
        "flagged": 0,
        "skipped": 0,
    }
    assert s["verdicts"] == {"pass": 6}  # a label counts, its image gone or not


def test_done_counts_follow_the_labelers_own_changes(tmp_path):
    p, ids = labeled_project(tmp_path)
    with p.store.open_session("ann") as s:
        lab = Labeler(p, s)
        lab.load_queue("all")
        assert lab.done_total() == (8, 30)
        lab.index = lab.queue.index(ids[20])
        lab.apply(ids[20], edits.set_verdict("pass"))
        assert lab.done_total() == (9, 30)
        lab.load_queue("unlabeled")  # the queue built again after a commit
        assert list(lab.queue) == reference_queue(p, s, "unlabeled") and ids[20] not in lab.queue
        lab.load_queue("mine")
        assert ids[20] in lab.queue and lab.done_total() == (9, 9)


QUICK_PROBE = """
import sys
from qclabel.cli import QUICK, for_args, full
words = sys.argv[1].split()
group, whole = for_args(words), full()
assert set(group.commands) < set(whole.commands), sorted(group.commands)
for w in words:
    group, whole = group.commands[w], whole.commands[w]
assert group.callback is whole.callback
"""


def test_status_and_label_load_only_their_own_command_modules(tmp_path):
    from qclabel.cli import QUICK

    assert set(QUICK) == {
        *("status", "check", "init", "role", "permissions", "label", "audit"),
        *("qa plan", "qa queue", "qa report"),
    }
    probe = (
        "import sys; from qclabel.entry import main; sys.argv = ['qclabel', 'status', "
        f"{str(tmp_path)!r}, '--json']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('qclabel.cli.')))\n"
        "print('qclabel.formats' in sys.modules, 'qclabel.ingest' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "is not a qclabel project" in out.stderr  # the command ran, its error one line
    mods, heavy = out.stdout.strip().splitlines()
    assert mods == "['qclabel.cli.common', 'qclabel.cli.project_cmds']"
    assert heavy == "False False"
    for name in QUICK:  # the quick group's command is the full group's own
        got = subprocess.run([sys.executable, "-c", QUICK_PROBE, name], capture_output=True)
        assert got.returncode == 0, got.stderr
    # `qa plan` loads the qa group's own module, nothing of ingest or the formats
    probe = probe.replace("'status', ", "'qa', 'plan', ").replace(", '--json'", "")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "is not a qclabel project" in out.stderr
    mods, heavy = out.stdout.strip().splitlines()
    assert mods == "['qclabel.cli.common', 'qclabel.cli.jsonout', 'qclabel.cli.qa_cmds']"
    assert heavy == "False False"
