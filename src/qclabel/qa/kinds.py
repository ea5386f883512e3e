"""Journal event kinds written by production QA and the pipeline, and the role each one
needs: an event counts only when its author holds that role (readers check it too).

    golden         admin   a golden image's reference label, or its removal (after None)
    gate_override  admin   a dataset version released although quality gates failed
    pipeline       admin   one `pipeline run` that changed something

Acceptance-sampling reviews are ordinary `review` events (reviewer role). The one
table of every kind's role, these included, is store/authority.py's EVENT_ROLES; every
reader applies it through `Store.all_states()`.
"""

from __future__ import annotations

from ..store.authority import EVENT_ROLES as _ALL

GOLDEN = "golden"
GATE_OVERRIDE = "gate_override"
PIPELINE = "pipeline"

EVENT_ROLES: dict[str, str] = {k: _ALL[k] for k in (GOLDEN, GATE_OVERRIDE, PIPELINE)}
