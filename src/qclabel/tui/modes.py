"""The labeling modes the home screen offers. Add a mode here (one line) to plug a
screen into the app; see `qclabel.tui` for the whole recipe."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    id: str
    title: str
    key: str  # the home screen key that opens it
    description: str
    screen: str  # "module:Class"; imported only when opened
    tasks: tuple[str, ...] = ()  # taxonomy tasks it labels (`qclabel label --task`)
    role: str | None = None  # role needed to open it (None: anyone on the project)

    def load(self):
        module, cls = self.screen.split(":")
        return getattr(importlib.import_module(module), cls)


MODES: list[Mode] = [
    Mode(
        "classify",
        "Classify",
        "c",
        "one key per defect class; pass/fail; severity",
        "qclabel.tui.screens.classify:ClassifyScreen",
        ("passfail", "classification"),
    ),
    Mode(
        "grid",
        "Grid triage",
        "t",
        "contact sheet: mark the fails, accept the page as pass",
        "qclabel.tui.screens.grid:GridScreen",
        ("passfail",),
    ),
    Mode(
        "qa",
        "QA report",
        "r",
        "agreement of the dual-annotated images against the targets",
        "qclabel.tui.screens.qa_report:QAReportScreen",
        (),
        "adjudicator",
    ),
    Mode(
        "adjudicate",
        "Adjudicate",
        "d",
        "resolve disagreements: take A, take B or edit",
        "qclabel.tui.screens.adjudicate:AdjudicateScreen",
        (),
        "adjudicator",
    ),
    Mode(
        "review",
        "Spot check",
        "s",
        "confirm or correct sampled labels; send edge cases to consensus",
        "qclabel.tui.screens.review:ReviewScreen",
        (),
        "reviewer",
    ),
    Mode(
        "box",
        "Boxes",
        "b",
        "draw and edit boxes to the pixel: cursor, zoom, loupe, snap",
        "qclabel.tui.screens.box:BoxScreen",
        ("box",),
    ),
    Mode(
        "segment",
        "Masks",
        "m",
        "paint and trace masks: polygon, brush, fill, box -> mask",
        "qclabel.tui.screens.segment:SegmentScreen",
        ("segmentation",),
    ),
    Mode(
        "keypoint",
        "Keypoints",
        "k",
        "place a template's points; distances in mm vs tolerance",
        "qclabel.tui.screens.keypoint:KeypointScreen",
        ("keypoint",),
    ),
    Mode(
        "assembly",
        "Assembly check",
        "a",
        "expected positions: present / absent / misplaced",
        "qclabel.tui.screens.assembly:AssemblyScreen",
    ),
    Mode(
        "analytics",
        "Annotator analytics",
        "w",
        "per annotator and week: speed, agreement, golden accuracy",
        "qclabel.tui.screens.analytics:AnalyticsScreen",
        (),
        "adjudicator",
    ),
    Mode(
        "balance",
        "Balance & augment",
        "o",
        "class balance against the targets; augment a version in the background",
        "qclabel.tui.screens.balance:BalanceScreen",
        (),
        "adjudicator",
    ),
    Mode(
        "export",
        "Export",
        "e",
        "export final labels or a dataset version, in the background",
        "qclabel.tui.screens.export:ExportScreen",
        (),
        "adjudicator",
    ),
]


def mode_for_task(task: str) -> Mode | None:
    return next((m for m in MODES if task in m.tasks), None)


def get_mode(mode_id: str) -> Mode:
    for m in MODES:
        if m.id == mode_id:
            return m
    raise KeyError(mode_id)
