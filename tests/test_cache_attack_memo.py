"""In-process memos against files changed behind them: the predictions sets a process
keeps (formats.suggestions) after the set is imported again with the same modification
time (a clock that ticks every few milliseconds, or a time put back). What the process
shows next is the set on disk, as a new process shows it."""

from __future__ import annotations

import os

from qclabel.core.model import Annotation
from qclabel.formats import suggestions
from qclabel.project import Project

from test_qa_support import qa_project


def test_a_set_imported_again_in_the_same_clock_tick_is_read_again(tmp_path):
    p = qa_project(tmp_path, 3, annotators=("ann",))
    image = p.store.catalog.ids()[0]
    first = {image: Annotation(verdict="pass")}
    second = {image: Annotation(verdict="fail", defect_class="dent", severity="minor")}
    suggestions.store(p, "model", first, "a.json", "admin")
    assert suggestions.suggestion_for(p, image) == first[image]  # the app shows it
    path = p.store.documents(suggestions.COLLECTION).path
    was = os.stat(path)
    suggestions.store(p, "model", second, "a.json", "admin")  # imported again
    os.utime(path, ns=(was.st_atime_ns, was.st_mtime_ns))  # within the same tick
    assert suggestions.suggestion_for(Project.open(p.root), image) == second[image]
    assert suggestions.suggestion_for(p, image) == second[image]  # the same process
