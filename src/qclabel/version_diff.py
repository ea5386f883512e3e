"""What changed between two dataset versions, per defect class and per image.

Objects (every core.kinds kind) are paired in three passes, so an object that came back
unchanged through another tool (a re-import gives it a new id) is not counted as
removed + added:

1. by id (an object edited in qclabel keeps its id);
2. by equal content, ignoring the id (the same label, re-imported);
3. same kind and class, one-to-one by overlap (the kind's own matcher: box IoU, mask
   IoU) of at least PAIR_IOU: the same object, moved or reshaped, so "changed".

The image-level defect class counts as one label of its class (the verdict as one of
"(pass)" / "(fail)").
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .core.kinds import KINDS
from .core.model import Annotation

PAIR_IOU = 0.5


def diff_versions(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Counts per class, each changed box or mask with its IoU (`changed`), and per
    image the list of what changed (`images`)."""
    per_class: dict[str, Counter[str]] = {}
    changed: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    la, lb = a["labels"], b["labels"]
    names = {e["id"]: e.get("source", "") for m in (a, b) for e in m["images"]}
    for image in sorted(set(la) | set(lb)):
        what = "added" if image not in la else "removed" if image not in lb else None
        changes = image_changes(la.get(image), lb.get(image))
        for c in changes:
            per_class.setdefault(c["class"], Counter())[c["change"]] += 1
            if c["change"] == "changed" and "iou" in c:
                changed.append({"image": image, **{k: c[k] for k in c if k != "change"}})
        if changes or what:
            images.append(
                {
                    "image": image,
                    "name": names.get(image, "").rsplit("/", 1)[-1],
                    **({"image_" + what: True} if what else {}),
                    "changes": changes,
                }
            )
    return {
        "from": a.get("name"),
        "to": b.get("name"),
        "images_added": len(set(lb) - set(la)),
        "images_removed": len(set(la) - set(lb)),
        "taxonomy_changed": a["taxonomy"] != b["taxonomy"],
        "classes": {
            c: {k: v.get(k, 0) for k in ("added", "removed", "changed")}
            for c, v in sorted(per_class.items())
        },
        "changed": changed,
        "images": images,
    }


def _annotation(label: dict[str, Any] | None) -> Annotation:
    return Annotation.from_dict(label["annotation"]) if label else Annotation()


def _image_level(ann: Annotation) -> tuple[str, Any] | None:
    if ann.defect_class:
        return ann.defect_class, ann.severity
    if ann.verdict:
        return f"({ann.verdict})", None
    return None


def image_changes(
    old_label: dict[str, Any] | None, new_label: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Every change on one image: {change, class, object, ...} in a stable order."""
    old, new = _annotation(old_label), _annotation(new_label)
    out: list[dict[str, Any]] = []
    o, n = _image_level(old), _image_level(new)
    if o != n:
        if o and n and o[0] == n[0]:
            out.append(
                {"change": "changed", "class": n[0], "object": "image", "severity": [o[1], n[1]]}
            )
        else:
            out += [{"change": "removed", "class": o[0], "object": "image"}] if o else []
            out += [{"change": "added", "class": n[0], "object": "image"}] if n else []
    for kind in KINDS:
        out += _kind_changes(kind, list(getattr(old, kind.field)), list(getattr(new, kind.field)))
    return out


def _cls(kind: Any, obj: Any) -> str:
    return str(kind.cls_of(obj) or getattr(obj, "template", kind.name))


def _key(kind: Any, obj: Any) -> str:
    return json.dumps(kind.content(obj), sort_keys=True)


def _kind_changes(kind: Any, old: list[Any], new: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    by_id = {o.id: o for o in new}
    pairs = [(o, by_id.pop(o.id)) for o in old if o.id in by_id]
    rest_old = [o for o in old if o.id not in {p[0].id for p in pairs}]
    rest_new = list(by_id.values())
    # Pass 2: the same content under a new id is the same label.
    for o in list(rest_old):
        twin = next((x for x in rest_new if _key(kind, x) == _key(kind, o)), None)
        if twin is not None:
            rest_old.remove(o)
            rest_new.remove(twin)
    # Pass 3: same class, overlapping: moved or reshaped.
    match = kind.match(rest_old, rest_new) if rest_old and rest_new else None
    paired_old, paired_new = set(), set()
    for i, j, iou in match.pairs if match is not None else ():
        if iou >= PAIR_IOU and _cls(kind, rest_old[i]) == _cls(kind, rest_new[j]):
            pairs.append((rest_old[i], rest_new[j]))
            paired_old.add(i)
            paired_new.add(j)
    for o, n in pairs:
        if _key(kind, o) == _key(kind, n):
            continue
        if _cls(kind, o) != _cls(kind, n):
            out.append(_entry("removed", kind, o))
            out.append(_entry("added", kind, n))
        else:
            out.append({**_entry("changed", kind, n), **kind.changed(o, n)})
    out += [_entry("removed", kind, o) for i, o in enumerate(rest_old) if i not in paired_old]
    out += [_entry("added", kind, n) for j, n in enumerate(rest_new) if j not in paired_new]
    return out


def _entry(change: str, kind: Any, obj: Any) -> dict[str, Any]:
    return {
        "change": change,
        "class": _cls(kind, obj),
        "object": f"{kind.name}:{obj.id}",
        "kind": kind.name,
    }
