"""In-memory memos of folders that the owner's `touch -d` could fool: the role history
(Store._stamp) and the USER@TAG listing (ownership._alts) are keyed by the change time
too, which no one can set back."""

from __future__ import annotations

import os
import time

from qclabel.store import _stamp
from qclabel.store.ownership import _alts


def test_a_role_journal_rewritten_at_its_size_and_time_is_another_stamp(tmp_path):
    roles = tmp_path / "roles"
    roles.mkdir()
    journal = roles / "admin.jsonl"
    journal.write_text('{"a":1}\n')
    st = journal.stat()
    before = _stamp(roles)
    time.sleep(0.01)
    journal.write_text('{"a":2}\n')  # same size
    os.utime(journal, ns=(st.st_atime_ns, st.st_mtime_ns))  # its time put back
    assert journal.stat().st_size == st.st_size and journal.stat().st_mtime_ns == st.st_mtime_ns
    assert _stamp(roles) != before


def test_a_tag_journal_added_with_the_folder_time_put_back_is_listed(tmp_path):
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "ann@aaaa.jsonl").write_text("")
    old = time.time_ns() - 10**9  # older than the listing's 100 ms settling time
    os.utime(labels, ns=(old, old))
    assert _alts(labels) == {"ann": ["ann@aaaa"]}  # listed, and kept
    time.sleep(0.01)
    (labels / "bob@bbbb.jsonl").write_text("")
    os.utime(labels, ns=(old, old))  # the folder's modification time put back
    assert _alts(labels) == {"ann": ["ann@aaaa"], "bob": ["bob@bbbb"]}
