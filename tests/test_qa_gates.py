"""Quality gates on `version create`: a failing gate refuses the version, naming it; an
admin's override is recorded in the audit trail and in the version's QA evidence, which
`version show` and every export's qclabel_version.json carry."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core import edits
from qclabel.errors import ConfigError
from qclabel.qa.gates import GateFailed, configured
from qclabel.versions import VersionError, create_version, get_version, list_names

from test_qa_support import label, qa_project


def set_gates(p, **gates):
    p.config["qa"]["gates"] = gates
    p.save_config()
    return p


@pytest.fixture
def duals(tmp_path):
    """4 dual images: 3 agreed, 1 class disagreement (class agreement 75 %)."""
    p = qa_project(tmp_path, 4, dual_first_n=4, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    for i in ids[:3]:
        for u in ("ann1", "ann2"):
            label(p, u, i, edits.set_verdict("pass"))
    label(p, "ann1", ids[3], edits.set_class("dent", "minor"))
    label(p, "ann2", ids[3], edits.set_class("scratch", "minor"))
    return p, ids


def test_gate_config_is_validated(duals):
    p, _ = duals
    for gates, match in (
        ({"kappa": 0.9}, "qa.gates.kappa = 0.9: unknown gate"),
        ({"class_agreement": 1.5}, "must be a share from 0 to 1"),
        ({"lots_accepted": "yes"}, "must be true or false"),
        ({"golden_accuracy": "high"}, r"\(or true\)"),
    ):
        set_gates(p, **gates)
        with pytest.raises(ConfigError, match=match):
            configured(p)
    set_gates(p, class_agreement=0.9, lots_accepted=False)
    assert configured(p) == {"class_agreement": 0.9}


def test_failing_gates_refuse_the_version_and_name_themselves(duals, as_user):
    p, ids = duals
    set_gates(p, class_agreement=0.95, calibration_complete=True)
    with pytest.raises(GateFailed) as exc:
        create_version(p, "v1", "admin")
    msg = str(exc.value)
    assert "class_agreement: class agreement of dual images 75.0 % < 95 %" in msg
    assert "calibration_complete: 0 dual image(s) still being labeled, 1 disagreement" in msg
    assert list_names(p) == [] and not (p.root / "versions.json").exists()
    as_user("admin")
    out = CliRunner().invoke(main, ["version", "create", str(p.root), "v1"])
    assert out.exit_code == 6 and "quality gate(s) failed" in out.output
    assert "Traceback" not in out.output
    out = CliRunner().invoke(main, ["version", "create", str(p.root), "v1", "--override"])
    assert out.exit_code == 2 and "--override needs --note" in out.output


def test_passing_gates_release_with_evidence(duals):
    p, ids = duals
    with p.store.open_session("adj") as s:
        from qclabel.qa.decisions import adjudicate
        from qclabel.core.model import Annotation

        adjudicate(p, s, ids[3], "A", Annotation(defect_class="dent", severity="minor"), "dent")
    set_gates(p, class_agreement=0.7, calibration_complete=True)
    m = create_version(p, "v1", "admin")
    gates = {g["gate"]: g["passed"] for g in m["qa"]["evidence"]["gates"]}
    assert gates == {"calibration_complete": True, "class_agreement": True}
    assert m["qa"]["evidence"]["metrics"][1]["metric"] == "class agreement"
    assert m["qa"]["evidence"]["overrides"] == []


def test_an_admin_override_is_recorded(duals, as_user, tmp_path):
    p, ids = duals
    set_gates(p, class_agreement=0.95)
    as_user("admin")
    out = CliRunner().invoke(
        main,
        [
            "version",
            "create",
            str(p.root),
            "v1",
            "--override",
            "--note",
            "customer accepts 75 % on this pilot lot",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "overridden by admin: class_agreement" in out.output
    shown = json.loads(CliRunner().invoke(main, ["version", "show", str(p.root), "v1"]).output)
    ov = shown["qa"]["evidence"]["overrides"]
    assert [(o["gates"], o["by"], o["note"]) for o in ov] == [
        (["class_agreement"], "admin", "customer accepts 75 % on this pilot lot")
    ]
    log = CliRunner().invoke(main, ["audit", "log", str(p.root), "--user", "admin"]).output
    assert "gate_override" in log and "customer accepts 75 %" in log
    assert CliRunner().invoke(main, ["audit", "verify", str(p.root)]).exit_code == 0
    out = CliRunner().invoke(
        main,
        [
            "export",
            str(p.root),
            "--format",
            "jsonl",
            "--out",
            str(tmp_path / "out"),
            "--version",
            "v1",
        ],
    )
    assert out.exit_code == 0, out.output
    info = json.loads((tmp_path / "out" / "qclabel_version.json").read_text())
    assert info["qa"]["evidence"]["overrides"][0]["note"].startswith("customer accepts")
    assert info["qa"]["evidence"]["gates"][0]["passed"] is False


def test_only_an_admin_may_override(duals):
    p, _ = duals
    set_gates(p, class_agreement=0.95)
    p.add_role("admin", "adj", "reviewer")
    from qclabel.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        create_version(p, "v1", "adj", override_note="because")


def test_edited_evidence_is_detected(duals):
    p, _ = duals
    set_gates(p, class_agreement=0.95)
    create_version(p, "v1", "admin", override_note="pilot")
    path = p.root / "versions.json"
    path.write_text(path.read_text().replace('"pilot"', '"approved by QA"'))
    with pytest.raises(VersionError, match="does not match its recorded hash"):
        get_version(p, "v1")


def test_gates_without_data_fail(tmp_path):
    p = qa_project(tmp_path, 2, dual_first_n=0)
    set_gates(
        p, box_iou_share=0.9, lots_accepted=True, no_consistency_problems=True, golden_accuracy=True
    )
    with pytest.raises(GateFailed) as exc:
        create_version(p, "v1", "admin")
    msg = str(exc.value)
    assert "box_iou_share: no box pairs at the IoU target to measure" in msg
    assert 'lots_accepted: lots are sampled only with [qa] spot_check_by = "aql"' in msg
    assert "no_consistency_problems" not in msg  # nothing inconsistent: passes
    assert "golden_accuracy" not in msg  # nobody flagged: passes


def test_consistency_gate_fails_on_a_blocking_finding_not_on_incomplete(tmp_path):
    """A pass image with a box (written around the labeler's refusal, as an old journal
    or a raw API call could) fails the gate; a fail image without a box only is named."""
    from qclabel.core.model import Box

    p = qa_project(tmp_path, 3, dual_first_n=0, spot_check_rate=0.0)
    ids = p.store.catalog.ids()
    set_gates(p, no_consistency_problems=True)
    label(p, "ann1", ids[0], edits.set_class("dent", "minor"))  # incomplete
    assert create_version(p, "v1", "admin")["qa"]["evidence"]["gates"]
    label(
        p,
        "ann1",
        ids[1],
        edits.set_verdict("pass"),
        edits.add_box(Box("dent", 1, 1, 8, 8, "minor")),
    )
    with pytest.raises(GateFailed) as exc:
        create_version(p, "v2", "admin")
    msg = str(exc.value)
    assert "no_consistency_problems: 1 blocking inconsistencies" in msg
    assert "pass-with-objects" in msg and "1 incomplete images" in msg


def test_lots_gate_follows_the_lot_outcomes(tmp_path):
    from test_qa_lots import _review
    from qclabel.qa.plan import build_plan

    p = qa_project(tmp_path, 30, annotators=("ann1",), dual_first_n=0, spot_check_by="aql", aql=10)
    with p.store.open_session("ann1") as s:
        for i in p.store.catalog.ids():
            s.commit(edits.apply(i, s.annotation(i), edits.set_verdict("pass")))
    set_gates(p, lots_accepted=True)
    with pytest.raises(GateFailed, match=r"lot \(no lot\) sampling \(0/8 reviewed"):
        create_version(p, "v1", "admin")
    _review(p, build_plan(p).lots[0].sample, corrected=0)
    m = create_version(p, "v1", "admin")
    assert m["qa"]["evidence"]["lots"][0]["outcome"] == "accepted"
    assert m["qa"]["evidence"]["lots_passed"] == 1
