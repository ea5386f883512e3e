"""The balance report: how far each defect class is from a trainable good:defect ratio.

A well-running line gives 99 % pass images; a model trained on that predicts "pass"
for everything. The report counts, per split and per manufacturing field, the images
and objects of each class, the good:defect ratio (pass images per image showing the
class) against a target by criticality, and how many more defect images each class
needs. It flags classes with too few *real* examples to augment from, and those below
what a generative model would need. Synthetic images are counted apart from real ones.

    [balance]
    safety_critical_ratio = 5     # at most 5 good images per image of the class
    cosmetic_ratio = 10
    min_real = 30                 # fewer real examples: collect more, don't augment
    generative_min = 200          # real images a generative model would need
    fields = ["lot", "station", "camera"]
    targets = { crack = 3 }       # per-class ratio, overriding the criticality default
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ..core.model import Annotation
from ..core.taxonomy import Taxonomy, load_taxonomy
from ..errors import ConfigError

DEFAULTS: dict[str, Any] = {
    "safety_critical_ratio": 5.0,
    "cosmetic_ratio": 10.0,
    "min_real": 30,
    "generative_min": 200,
    "fields": ["lot", "station", "camera"],
    "targets": {},
}


def settings(config: dict[str, Any], file: object = "qclabel.toml") -> dict[str, Any]:
    """The `[balance]` table over the defaults, validated."""
    raw = config.get("balance", {})
    out = {**DEFAULTS, **raw}
    for key in ("safety_critical_ratio", "cosmetic_ratio", "min_real", "generative_min"):
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise ConfigError(file, f"balance.{key}", v, "must be a positive number")
    if not isinstance(out["fields"], list) or not all(isinstance(f, str) for f in out["fields"]):
        raise ConfigError(file, "balance.fields", out["fields"], "must be a list of field names")
    targets = out["targets"]
    if not isinstance(targets, dict) or any(
        isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 for v in targets.values()
    ):
        raise ConfigError(
            file, "balance.targets", targets, "must map class names to positive ratios"
        )
    return out


def target_ratio(
    taxonomy: Taxonomy, cls: str, conf: dict[str, Any], override: float | None = None
) -> float:
    if override is not None:
        return float(override)
    if cls in conf["targets"]:
        return float(conf["targets"][cls])
    crit = taxonomy.get(cls).criticality
    return float(conf["safety_critical_ratio" if crit == "safety-critical" else "cosmetic_ratio"])


def _counts(images: list[dict[str, Any]], classes: list[str]) -> dict[str, Any]:
    """Images, pass images and per class images/objects of one group of images."""
    good = sum(1 for i in images if i["good"])
    per: dict[str, dict[str, int]] = {}
    for cls in classes:
        with_cls = [i for i in images if cls in i["objects"] or cls in i["image_classes"]]
        per[cls] = {
            "images": len(with_cls),
            "real": sum(1 for i in with_cls if not i["synthetic"]),
            "synthetic": sum(1 for i in with_cls if i["synthetic"]),
            "objects": sum(i["objects"].get(cls, 0) for i in images),
        }
    return {
        "images": len(images),
        "good": good,
        "defect": len(images) - good,
        "synthetic": sum(1 for i in images if i["synthetic"]),
        "classes": per,
    }


def _ratio(good: int, n: int) -> float | None:
    return round(good / n, 2) if n else None


def _image_facts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for entry in manifest["images"]:
        lab = manifest["labels"].get(entry["id"])
        if lab is None:
            continue
        ann = Annotation.from_dict(lab["annotation"])
        objects = Counter(k.cls_of(o) for k, o in ann.objects() if k.cls_of(o))
        image_classes = {ann.defect_class} if ann.defect_class else set()
        # Good: passed, or unjudged with no defect named (a pass image may still carry
        # objects that mark parts, with taxonomy.pass_allows_objects).
        good = ann.verdict == "pass" or (ann.verdict is None and not objects and not image_classes)
        out.append(
            {
                "id": entry["id"],
                "split": manifest.get("splits", {}).get(entry["id"], "train"),
                "fields": entry.get("fields", {}),
                "good": good,
                "objects": dict(objects),
                "image_classes": image_classes,
                "synthetic": bool(entry.get("synthetic")),
            }
        )
    return out


def build_balance(
    manifest: dict[str, Any], config: dict[str, Any], to_ratio: float | None = None
) -> dict[str, Any]:
    """The report for one manifest (a version, or the current final labels)."""
    conf = settings(config)
    taxonomy = load_taxonomy(manifest["taxonomy"], "<version taxonomy>")
    classes = taxonomy.class_names()
    facts = _image_facts(manifest)
    overall = _counts(facts, classes)
    train = _counts([f for f in facts if f["split"] == "train"], classes)
    rows = []
    for cls in classes:
        c, t = overall["classes"][cls], train["classes"][cls]
        target = target_ratio(taxonomy, cls, conf, to_ratio)
        # The train split is what a model learns from and what augmentation can change:
        # the target is held against it; `needed` defect images bring it to the target.
        want = math.ceil(train["good"] / target) if train["good"] else 0
        needed = max(0, want - t["images"])
        rows.append(
            {
                "class": cls,
                "criticality": taxonomy.get(cls).criticality,
                "images": c["images"],
                "real": c["real"],
                "synthetic": c["synthetic"],
                "objects": c["objects"],
                "ratio": _ratio(overall["good"], c["images"]),
                "train_ratio": _ratio(train["good"], t["images"]),
                "target": target,
                "meets_target": needed == 0,
                "train_images": t["images"],
                "needed": needed,
                "too_few_to_augment": c["real"] < conf["min_real"],
                "below_generative": c["real"] < conf["generative_min"],
            }
        )
    splits = {
        s: _counts([f for f in facts if f["split"] == s], classes)
        for s in ("train", "val", "test")
        if any(f["split"] == s for f in facts)
    }
    by_field = {}
    for field in conf["fields"]:
        # one pass per field: a million images in 500 lots is not 500 passes
        groups: dict[Any, list[dict[str, Any]]] = {}
        for f in facts:
            if v := f["fields"].get(field):
                groups.setdefault(v, []).append(f)
        if groups:
            by_field[field] = {v: _counts(groups[v], classes) for v in sorted(groups)}
    return {
        "version": manifest.get("name"),
        "hash": manifest.get("hash"),
        "images": overall["images"],
        "good": overall["good"],
        "defect": overall["defect"],
        "synthetic": overall["synthetic"],
        "ratio": _ratio(overall["good"], overall["defect"]),
        "min_real": conf["min_real"],
        "generative_min": conf["generative_min"],
        "classes": rows,
        "splits": splits,
        "fields": by_field,
    }


def format_balance(r: dict[str, Any]) -> list[str]:
    """The report as text lines (the CLI's output)."""
    what = f"version {r['version']}" if r["version"] else "current final labels"
    lines = [
        f"balance of {what}: {r['images']} images, {r['good']} good, {r['defect']} "
        f"defect ({r['synthetic']} synthetic); good:defect "
        f"{_fmt_ratio(r['ratio'])}"
    ]
    lines.append(
        f"  {'class':<16} {'crit':<6} {'images':>6} {'real':>5} {'synth':>5} "
        f"{'objects':>7} {'good:1':>7} {'train':>6} {'target':>6} {'need':>5}  notes"
    )
    for c in r["classes"]:
        notes = []
        if c["too_few_to_augment"]:
            notes.append(f"< {r['min_real']} real: collect more")
        elif c["below_generative"]:
            notes.append(f"< {r['generative_min']} real for a generative model")
        flag = "" if c["meets_target"] else "!"
        lines.append(
            f"  {c['class']:<16} {c['criticality'][:6]:<6} {c['images']:>6} "
            f"{c['real']:>5} {c['synthetic']:>5} {c['objects']:>7} "
            f"{_fmt_ratio(c['ratio']):>7} {_fmt_ratio(c['train_ratio']):>6} "
            f"{c['target']:>6g} {c['needed']:>5}"
            f"{flag:1} {'; '.join(notes)}"
        )
    for split, s in r["splits"].items():
        lines.append(
            f"  {split}: {s['images']} images, {s['good']} good, {s['defect']} "
            f"defect, {s['synthetic']} synthetic"
        )
    for field, values in r["fields"].items():
        cells = [f"{v} {s['good']}/{s['images']}" for v, s in values.items()]
        lines.append(f"  by {field} (good/images): {'  '.join(cells)}")
    return lines


def _fmt_ratio(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"
