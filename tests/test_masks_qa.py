"""QA, adjudication and versions on mask images: instance masks matched one-to-one on
mask IoU, semantic layers by pixel IoU and Dice, `adjudicate --take` and the screen's
take A on masks, version diffs with the IoU of a changed mask."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from textual.geometry import Region
from click.testing import CliRunner

from mask_projects import make_mask_project
from qclabel.cli import main
from qclabel.core.edits import Change
from qclabel.core.mask import Mask
from qclabel.core.mask_kind import mask_iou
from qclabel.core.model import Annotation
from qclabel.qa.decisions import adjudication_queue
from qclabel.qa.final import final_labels
from qclabel.qa.report import build_report
from qclabel.qa.report_format import format_report
from qclabel.versions import create_version, diff_versions, get_version


def eroded(m: Mask, px: int) -> Mask:
    import cv2

    region = cv2.erode(m.region(), np.ones((2 * px + 1, 2 * px + 1), np.uint8))
    return replace(Mask.from_array(m.cls, region, m.left, m.top, severity=m.severity), id=m.id)


def grown(m: Mask, px: int) -> Mask:
    import cv2

    region = cv2.dilate(np.pad(m.region(), px), np.ones((2 * px + 1, 2 * px + 1), np.uint8))
    return replace(
        Mask.from_array(m.cls, region, m.left - px, m.top - px, severity=m.severity), id=m.id
    )


def write(project, user: str, image: str, ann: Annotation) -> None:
    with project.store.open_session(user) as s:
        s.commit(Change(image, s.annotation(image), ann))


def ids_by_name(project) -> dict[str, str]:
    return {Path(r.source).name: r.id for r in project.store.catalog.all()}


@pytest.fixture
def dual(tmp_path):
    """alice = the ground truth; qm_bob agrees except on four images."""
    p = make_mask_project(tmp_path, "metal")
    for user, role in (("alice", "annotator"), ("qm_bob", "annotator"), ("qm_adj", "adjudicator")):
        p.add_role("admin", user, role)
    alice = p.store.state("alice")
    ids = ids_by_name(p)
    changes = {}
    for name, image in ids.items():
        ann = alice.annotation(image)
        if name.endswith("0001.jpg"):  # scratch painted 1 px wider: IoU < 0.70
            ann = replace(ann, masks=(grown(ann.masks[0], 1),) + ann.masks[1:])
        elif name.endswith("0004.jpg"):  # B missed the pores
            ann = replace(ann, masks=ann.masks[1:])
        elif name.endswith("0005.jpg"):  # B called the burr a scratch
            ann = replace(ann, masks=(replace(ann.masks[0], cls="scratch"),))
        elif name.endswith("0003.jpg"):  # B grades the crack another way
            ann = replace(ann, masks=(replace(ann.masks[0], severity="minor"),))
        changes[image] = ann
    with p.store.open_session("qm_bob") as s:
        for image, ann in changes.items():
            s.commit(Change(image, s.annotation(image), ann))
    return p, ids


def test_instance_mask_qa_report(dual):
    p, ids = dual
    rep = build_report(p)
    m = rep["masks"]
    total = sum(len(p.store.state("alice").annotation(i).masks) for i in ids.values())
    assert m["missing"] == 1 and m["extra"] == 0 and m["class_mismatch"] == 1
    assert m["matched_pairs"] == total - 1
    assert m["share_at_target"] == pytest.approx((total - 2) / (total - 1), abs=1e-4)
    assert m["per_class"]["porosity"]["missing"] == 1
    scratch = m["per_class"]["scratch"]
    assert scratch["pairs"] >= 1 and scratch["mean_iou"] < 1
    checks = {c["metric"]: c for c in rep["checks"]}
    assert checks["mask mean IoU"]["target"] == 0.70
    share = checks["mask pairs at IoU >= 0.7"]
    assert share["value"] == m["share_at_target"] and share["ok"] is (share["value"] >= 0.95)
    pair = rep["per_pair"]["alice|qm_bob"]["masks"]
    assert pair["missing"] == 1 and pair["matched_pairs"] == total - 1
    kinds = {d["image"]: d["kind"] for d in rep["disagreements"]}
    assert kinds == {
        ids["P1001_L07_S2_cam1_0001.jpg"]: "geometry",
        ids["P1001_L07_S2_cam2_0004.jpg"]: "geometry",
        ids["P1001_L08_S2_cam1_0005.jpg"]: "class",
        ids["P1001_L07_S2_cam2_0003.jpg"]: "severity",
    }
    text = format_report(rep)
    assert "masks: matched pairs" in text and "masks per class:" in text
    json.dumps(rep)  # the JSON report carries all of it


def test_take_b_on_a_mask_image_from_the_cli_and_export(dual, as_user, tmp_path):
    p, ids = dual
    image = ids["P1001_L07_S2_cam1_0001.jpg"]
    assert image in [d.image for d in adjudication_queue(p)]
    as_user("qm_adj")
    r = CliRunner().invoke(
        main,
        [
            "adjudicate",
            str(p.root),
            "--image",
            image,
            "--take",
            "B",
            "--note",
            "scratch is wider than A painted",
        ],
    )
    assert r.exit_code == 0, r.output
    final = final_labels(p)[image]
    bob = p.store.state("qm_bob").annotation(image)
    assert final.status == "adjudicated" and final.annotation.masks == bob.masks
    from qclabel.formats import dataset_for, export_dataset
    from pycocotools.coco import COCO

    out = export_dataset(dataset_for(p), "coco", tmp_path / "coco").out
    gt = COCO(str(out / "annotations/instances_train.json"))
    img = next(i for i in gt.imgs.values() if i["file_name"].endswith("0001.jpg"))
    first = gt.loadAnns(gt.getAnnIds(imgIds=[img["id"]]))[0]
    assert np.array_equal(gt.annToMask(first), bob.masks[0].full(800, 600))


async def test_adjudication_screen_takes_a_on_a_mask_image(dual):
    from qclabel.tui.app import build_app
    from test_tui_support import SIZE, settle

    p, ids = dual
    app = build_app(p, "qm_adj", graphics="halfcell", start="adjudicate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        first = screen.current
        assert first.kind == "class"
        panel = screen.query_one("#labels")
        text = "\n".join(
            s.text for s in panel.render_lines(Region(0, 0, panel.size.width, panel.size.height))
        )
        assert "mask " in text
        await pilot.press("a")
        await settle(pilot, app)
    final = final_labels(p)[first.image]
    assert final.annotation.masks == first.labels[0].masks and final.status == "adjudicated"


def test_semantic_layers_compared_by_pixel_iou_and_dice(tmp_path):
    p = make_mask_project(tmp_path, "paint")
    alice = p.store.state("alice")
    want = {}
    with p.store.open_session("qm_bob") as s:
        for image, ann in alice.annotations().items():
            layers = tuple(eroded(m, 2) for m in ann.masks)
            s.commit(Change(image, s.annotation(image), replace(ann, masks=layers)))
            for a, b in zip(ann.masks, layers):
                want.setdefault(a.cls, []).append((b.area / a.area, 2 * b.area / (a.area + b.area)))
    rep = build_report(p)
    per = rep["masks"]["per_class"]
    for cls, pairs in want.items():
        assert per[cls]["pairs"] == len(pairs)
        assert per[cls]["mean_iou"] == pytest.approx(np.mean([i for i, _ in pairs]), abs=1e-4)
        assert per[cls]["mean_dice"] == pytest.approx(np.mean([d for _, d in pairs]), abs=1e-4)
    assert rep["masks"]["missing"] == rep["masks"]["extra"] == 0


def test_version_diff_counts_masks_and_the_iou_of_a_changed_one(dual):
    p, ids = dual
    v1 = create_version(p, "v1", "admin")
    image = ids["P1001_L08_S2_cam1_0006.jpg"]  # agreed by both; change it in both
    for user in ("alice", "qm_bob"):
        ann = p.store.state(user).annotation(image)
        write(p, user, image, replace(ann, masks=(grown(ann.masks[0], 1),)))
    v2 = create_version(p, "v2", "admin")
    d = diff_versions(get_version(p, "v1"), get_version(p, "v2"))
    cont = d["classes"]["contamination"]
    assert cont == {"added": 0, "removed": 1, "changed": 1}
    (changed,) = [c for c in d["changed"] if c["image"] == image]
    old = Annotation.from_dict(v1["labels"][image]["annotation"]).masks[0]
    new = Annotation.from_dict(v2["labels"][image]["annotation"]).masks[0]
    assert changed["iou"] == pytest.approx(mask_iou(old, new), abs=1e-4) and changed["iou"] < 1
