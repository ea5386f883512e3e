"""Augmentation as a dataset-version step: version NAME + recipe + seed -> version NAME2.

The new version is the old one plus synthetic train images (val and test are copied
untouched), each recording its source image ids, the sampled parameters and the seed.
Tasks run on an executor (a local process pool, or a Dask cluster's); results are put
back in task order, so the new version's bytes do not depend on who finished first.
"""

from __future__ import annotations

import copy
import multiprocessing
from collections import Counter
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from ..errors import QclabelError
from ..project import Project
from .balance import build_balance
from .plan import MAX_PER_SOURCE, plan
from .recipe import load_recipe
from .render import render_task

Progress = Callable[[int, int], None]
_META = ("name", "created", "created_by", "project", "hash", "qa_hash", "seal")


class AugmentError(QclabelError):
    """Augmentation cannot run: unknown version, name taken, nothing to start from."""


class AugmentCancelled(AugmentError):
    """Cancelled; no version was stored."""


class _Inline(Executor):
    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - re-raised by result()
            fut.set_exception(exc)
        return fut


def local_pool(workers: int) -> Executor:
    """Inline for one worker; else processes (forkserver: forking a threaded parent,
    OpenCV's and the app's threads, can deadlock the child)."""
    if workers <= 1:
        return _Inline()
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["qclabel.augment.render"])
    return ProcessPoolExecutor(workers, mp_context=ctx)


def augment_version(
    project: Project,
    version: str,
    recipe_name: str,
    out_version: str,
    user: str,
    *,
    to_ratio: float | None = None,
    seed: int = 0,
    max_per_source: int = MAX_PER_SOURCE,
    executor: Executor | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    cancel: Any = None,
) -> dict[str, Any]:
    """Make version `out_version` from `version`; returns a summary."""
    from ..versions import get_version, list_names, store_derived

    project.require(user, "admin", "create a dataset version")
    if out_version in list_names(project):
        raise AugmentError(
            f"dataset version {out_version!r} already exists; versions are "
            "immutable, pick a new --out-version"
        )
    if to_ratio is not None and to_ratio <= 0:
        raise AugmentError(f"--to-ratio {to_ratio:g}: must be above 0")
    parent = get_version(project, version)
    recipe = load_recipe(project.config, recipe_name, project.config_path)
    tasks, short = plan(parent, project.config, recipe, seed, to_ratio, max_per_source)
    try:
        results = _run(tasks, str(project.root), executor, workers, progress, cancel)
    except BaseException:
        if tasks:
            discard_unreferenced(project, tasks[0]["folder"])
        raise
    manifest = _derive(parent, tasks, results, recipe, seed, to_ratio, max_per_source)
    stored = store_derived(project, out_version, user, manifest)
    dropped: Counter[str] = Counter()
    for r in results:
        dropped.update(r["dropped"])
    after = build_balance(stored, project.config, to_ratio)
    made = [r for r in results if r["entry"] is not None]
    return {
        "version": out_version,
        "from": version,
        "hash": stored["hash"],
        "synthetic": len(made),
        "discarded": len(results) - len(made),
        "pasted": sum(
            t["kind"] == "paste" and r["entry"] is not None for t, r in zip(tasks, results)
        ),
        "dropped": dict(sorted(dropped.items())),
        "short": short,
        "folder": tasks[0]["folder"] if tasks else None,
        "balance": after,
    }


def _run(
    tasks: list[dict[str, Any]],
    root: str,
    executor: Executor | None,
    workers: int,
    progress: Progress | None,
    cancel: Any,
) -> list[dict[str, Any]]:
    own = executor is None
    pool = local_pool(workers) if own else executor
    # Inline, each image is made when its turn comes (so progress and cancel work one
    # image at a time); a pool gets everything at once.
    lazy = isinstance(pool, _Inline)
    futures = (
        (pool.submit(render_task, t, root) for t in tasks)
        if lazy
        else [pool.submit(render_task, t, root) for t in tasks]
    )
    out = []
    try:
        for n, (task, fut) in enumerate(zip(tasks, futures)):
            if cancel is not None and cancel.is_set():
                raise AugmentCancelled("augmentation cancelled; no version was stored")
            out.append(_result(task, fut))
            if progress:
                progress(n + 1, len(tasks))
    except BaseException:
        for fut in [] if lazy else futures:
            fut.cancel()
        raise
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return out


def _result(task: dict[str, Any], fut: Future) -> dict[str, Any]:
    """The worker's result; its failure as one error naming the image and the source."""
    try:
        return fut.result()
    except QclabelError as exc:
        raise AugmentError(f"{task['name']}: {exc}; no version was stored") from None
    except Exception as exc:  # noqa: BLE001 - OpenCV and decoders raise their own types
        raise AugmentError(
            f"{task['name']} from {task['source']['file']}: "
            f"{type(exc).__name__}: {exc}; no version was stored"
        ) from None


def _derive(
    parent: dict[str, Any],
    tasks: list[dict[str, Any]],
    results: list[dict[str, Any]],
    recipe: Any,
    seed: int,
    to_ratio: float | None,
    max_per_source: int,
) -> dict[str, Any]:
    m = {k: copy.deepcopy(v) for k, v in parent.items() if k not in _META}
    for task, r in zip(tasks, results):
        if r["entry"] is None:
            continue  # nothing of its defects was left in the frame
        image_id = r["entry"]["id"]
        m["images"].append(r["entry"])
        m["labels"][image_id] = r["label"]
        # Synthetic images stay in their source's split: train, the only one augmented.
        m["splits"][image_id] = parent["splits"].get(task["source"]["id"], "train")
    # A list: an augmented version can be augmented again, each step recorded.
    m["settings"]["augment"] = list(m["settings"].get("augment", [])) + [
        {
            "from": parent.get("name"),
            "from_hash": parent["hash"],
            "recipe": recipe.name,
            "recipe_spec": recipe.spec,
            "seed": seed,
            "to_ratio": to_ratio,
            "max_per_source": max_per_source,
            "synthetic": [r["entry"]["id"] for r in results if r["entry"] is not None],
            "dropped": dict(
                sorted(sum((Counter(r["dropped"]) for r in results), Counter()).items())
            ),
            "discarded": sum(r["entry"] is None for r in results),
        }
    ]
    return m


def discard_unreferenced(project: Project, folder: str) -> None:
    """After a failed or cancelled run: remove the files it wrote that no stored version
    refers to (a version made with the same inputs shares the folder and keeps them)."""
    docs = project.store.documents("versions")
    kept = {
        e["file"]
        for n in docs.names()
        for e in (docs.get(n) or {}).get("images", [])
        if e.get("synthetic")
    }
    path = project.root / folder
    for f in sorted(path.glob("*")) if path.is_dir() else []:
        if f"{folder}/{f.name}" not in kept:
            f.unlink(missing_ok=True)
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()


def synthetic_ids(manifest: dict[str, Any]) -> list[str]:
    return [e["id"] for e in manifest["images"] if e.get("synthetic")]


def folder_path(project: Project, result: dict[str, Any]) -> Path | None:
    return project.root / result["folder"] if result.get("folder") else None
