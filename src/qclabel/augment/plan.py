"""Which synthetic images to make: enough defect images of each short class to reach
its good:defect target, made only from real train images.

The plan is decided before anything runs, from the manifest, the recipe and the seed
alone, so every worker gets a self-contained task and the output never depends on the
order in which workers finish.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..core.model import Annotation
from .balance import build_balance
from .recipe import Recipe

MAX_PER_SOURCE = 50


def _digest(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def out_folder(
    manifest: dict[str, Any], recipe: Recipe, seed: int, to_ratio: float | None, max_per_source: int
) -> str:
    """Where the synthetic files go, named by everything that decides their bytes: the
    same inputs write the same files to the same place (and a changed recipe elsewhere,
    so an older version's files are never overwritten)."""
    return (
        f"augmented/{_digest(manifest['hash'], recipe.digest, seed, to_ratio, max_per_source)[:16]}"
    )


def plan(
    manifest: dict[str, Any],
    config: dict[str, Any],
    recipe: Recipe,
    seed: int,
    to_ratio: float | None = None,
    max_per_source: int = MAX_PER_SOURCE,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The tasks (one per synthetic image) and, per class, how many images short of its
    target the plan still leaves (no train image to start from, or every source used
    `max_per_source` times)."""
    report = build_balance(manifest, config, to_ratio)
    deficit = {r["class"]: r["needed"] for r in report["classes"] if r["needed"] > 0}
    train = _train_images(manifest)
    by_class: dict[str, list[dict[str, Any]]] = {}
    donors: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for img in train:
        if img["good"]:
            continue  # synthetic images are defect images: a good one adds no defect
        for cls in img["classes"]:
            by_class.setdefault(cls, []).append(img)
        for m in img["annotation"].masks:
            donors.setdefault(m.cls, []).append((img, m.id))
    goods: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for img in train:
        if img["good"]:
            goods.setdefault(_part_key(img["entry"]), []).append(img)
    paste = recipe.op("copy_paste")
    rng = np.random.default_rng([seed, 0x5EED])
    uses: Counter[str] = Counter()
    short: dict[str, int] = {}
    folder = out_folder(manifest, recipe, seed, to_ratio, max_per_source)
    tasks: list[dict[str, Any]] = []
    while deficit:
        cls = max(deficit, key=lambda c: (deficit[c], -list(deficit).index(c)))
        wants_paste = paste is not None and rng.random() < paste.p
        task = None
        if wants_paste:
            task = _paste_task(donors.get(cls, []), goods, uses, len(tasks), max_per_source)
        if task is None:
            task = _transform_task(by_class.get(cls, []), uses, max_per_source)
        if task is None:
            short[cls] = deficit.pop(cls)
            continue
        index = len(tasks) + 1
        base = task.get("dest") or task["source"]  # a paste is named by its pass image
        stem = Path(base["entry"]["source"]).stem
        name = f"{stem}_aug{index:04d}"
        tasks.append(_finish(task, manifest, recipe, seed, index, folder, name))
        for c in set(task["gives"]):
            if c in deficit:
                deficit[c] -= 1
                if deficit[c] <= 0:
                    del deficit[c]
    return tasks, short


def _part_key(entry: dict[str, Any]) -> tuple[str, str]:
    return entry.get("profile", "default"), (entry.get("fields") or {}).get("part", "")


def _train_images(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Real (never synthetic) train images with their labels, in manifest order."""
    splits = manifest.get("splits", {})
    out = []
    for entry in manifest["images"]:
        lab = manifest["labels"].get(entry["id"])
        if lab is None or entry.get("synthetic") or splits.get(entry["id"], "train") != "train":
            continue
        ann = Annotation.from_dict(lab["annotation"])
        classes = sorted(set(ann.classes()))
        out.append(
            {
                "entry": entry,
                "label": lab,
                "annotation": ann,
                "classes": classes,
                "good": ann.verdict == "pass" or (ann.verdict is None and not classes),
            }
        )
    return out


def _transform_task(
    sources: list[dict[str, Any]], uses: Counter[str], cap: int
) -> dict[str, Any] | None:
    free = [s for s in sources if uses[s["entry"]["id"]] < cap]
    if not free:
        return None
    src = min(free, key=lambda s: uses[s["entry"]["id"]])  # spread over the sources
    uses[src["entry"]["id"]] += 1
    return {"kind": "transform", "source": src, "gives": src["classes"]}


def _paste_task(
    donors: list[tuple[dict[str, Any], str]],
    goods: dict[tuple[str, str], list[dict[str, Any]]],
    uses: Counter[str],
    n: int,
    cap: int,
) -> dict[str, Any] | None:
    for offset in range(len(donors)):
        img, mask_id = donors[(n + offset) % len(donors)]
        dests = [g for g in goods.get(_part_key(img["entry"]), []) if uses[g["entry"]["id"]] < cap]
        if dests:
            dest = dests[n % len(dests)]
            uses[dest["entry"]["id"]] += 1
            cls = next(m.cls for m in img["annotation"].masks if m.id == mask_id)
            return {
                "kind": "paste",
                "source": img,
                "dest": dest,
                "instance": mask_id,
                "gives": [cls],
            }
    return None


def _finish(
    task: dict[str, Any],
    manifest: dict[str, Any],
    recipe: Recipe,
    seed: int,
    index: int,
    folder: str,
    name: str,
) -> dict[str, Any]:
    """A self-contained task a worker process can run (plain data only)."""
    src = task["source"]
    out = {
        "kind": task["kind"],
        "index": index,
        "seed": seed,
        "recipe": recipe.name,
        "recipe_spec": recipe.spec,
        "taxonomy": manifest["taxonomy"],
        "id": _digest(manifest["hash"], recipe.digest, seed, index)[:24],
        "source": src["entry"],
        "label": src["label"],
        "folder": folder,
        "name": name,
        "gives": list(task["gives"]),
    }
    if task["kind"] == "paste":
        out.update(
            dest=task["dest"]["entry"], dest_label=task["dest"]["label"], instance=task["instance"]
        )
    return out
