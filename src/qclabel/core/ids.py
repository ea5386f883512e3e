"""Object ids: short, random, stable across edits."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """Short random id for a box, keypoint set or mask (stable across edits)."""
    return uuid.uuid4().hex[:10]
