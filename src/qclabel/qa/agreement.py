"""When two annotators' labels on one image count as agreeing (used for final labels).

Classification must match exactly; boxes must pair one-to-one with the same class at
IoU >= the target. The full metrics (kappa, AC1, OKS, ...) live in the QA metrics modules.
"""

from __future__ import annotations

from ..core.geometry import iou
from ..core.model import Annotation

BOX_IOU_TARGET = 0.75


def annotations_agree(a: Annotation, b: Annotation, box_iou: float = BOX_IOU_TARGET) -> bool:
    if (a.verdict, a.defect_class) != (b.verdict, b.defect_class):
        return False
    if len(a.boxes) != len(b.boxes):
        return False
    unmatched = list(b.boxes)
    for box in a.boxes:
        best = max(unmatched, key=lambda o: iou(box, o) if o.cls == box.cls else -1, default=None)
        if best is None or best.cls != box.cls or iou(box, best) < box_iou:
            return False
        unmatched.remove(best)
    return True
