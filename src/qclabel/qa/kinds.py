"""Journal event kinds written by production QA and the pipeline, and the role each one
needs: an event counts only when its author holds that role (readers check it too).

    golden         admin   a golden image's reference label, or its removal (after None)
    gate_override  admin   a dataset version released although quality gates failed
    pipeline       admin   one `pipeline run` that changed something

Acceptance-sampling reviews are ordinary `review` events (reviewer role).
"""

from __future__ import annotations

GOLDEN = "golden"
GATE_OVERRIDE = "gate_override"
PIPELINE = "pipeline"

EVENT_ROLES: dict[str, str] = {GOLDEN: "admin", GATE_OVERRIDE: "admin", PIPELINE: "admin"}
