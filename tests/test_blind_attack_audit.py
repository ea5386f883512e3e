"""`audit verify` as an annotator of a project with a privileged group: the files of the
other annotators cannot be read (mode 0640 in the privileged group), so the annotator's
audit verifies the annotator's own journal in full and says of each other journal only
that it was not read; it does not stop with a permission error. What it prints is the
same whether or not the other annotator labeled the dual images (beyond the file names
every project member sees). Real OS users (tests/blind_attack_setup.py)."""

from __future__ import annotations

import json


from blind_attack_setup import ADJ, AN1, AN2, SECRETS, cli, needs_root
from test_file_attacks import as_os

pytestmark = needs_root


def _lines(root, *args) -> tuple[int, list[str]]:
    code, out = as_os(AN1, cli, root, "audit", "verify", "DIR", *args)
    return code, out.replace(str(root), "DIR").splitlines()


def test_an_annotators_audit_verifies_their_own_journal_and_skips_the_unreadable(blind_both):
    code, lines = _lines(blind_both)
    assert code == 0, lines
    assert f"OK   DIR/labels/{AN1}.jsonl: OK, 2 events, chain intact" in lines
    theirs = [line for line in lines if AN2 in line]
    assert theirs == [f"SKIP DIR/labels/{AN2}.jsonl: not readable by {AN1} (not verified)"]
    assert not any(word in "\n".join(lines) for word in SECRETS[:2])
    code, out = as_os(AN1, cli, blind_both, "audit", "verify", "DIR", "--json")
    found = {f["file"].rsplit("/", 1)[1]: f for f in json.loads(out)}
    assert found[f"{AN2}.jsonl"] == {
        "file": str(blind_both / "labels" / f"{AN2}.jsonl"),
        "ok": True,
        "verified": False,
    }
    assert found[f"{AN1}.jsonl"]["events"] == 2


def test_what_the_annotator_sees_does_not_depend_on_the_other_annotators_labels(
    blind_both, blind_only_a
):
    code, lines = _lines(blind_both)
    mine = [line for line in lines if AN2 not in line]
    code_a, lines_a = _lines(blind_only_a)
    assert (code, mine) == (code_a, lines_a)


def test_the_adjudicator_verifies_every_journal(blind_both):
    code, out = as_os(ADJ, cli, blind_both, "audit", "verify", "DIR")
    assert code == 0, out
    assert f"OK   {blind_both}/labels/{AN2}.jsonl: OK, 4 events, chain intact" in out
    assert "SKIP" not in out
