"""The work of the app's background jobs, as run in their child process (tui/jobs.py).

Each task opens the project from its folder (a child shares no objects with the app),
calls the same pure function as the CLI and returns something small and picklable.
Labels the app shows as saved are already fsynced in the journals, so the child reads
what the operator sees. No Textual here: the forkserver imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..project import Project

# What the children need, imported once in the forkserver rather than in every child.
from .. import formats as _formats  # noqa: F401
from ..qa import analytics as _analytics, report as _report  # noqa: F401
from .. import versions as _versions  # noqa: F401


def export_task(
    root: str, fmt: str, out: str, options: dict[str, Any], *, progress: Any, cancel: Any
) -> str:
    """Build the dataset and export it (atomically: the old output stays until done)."""
    from ..formats import dataset_for, export_dataset

    options = dict(options)
    project = Project.open(Path(root))
    ds = dataset_for(project, options.pop("version"), **options.pop("settings"))
    result = export_dataset(ds, fmt, Path(out), progress=progress, cancel=cancel, **options)
    return "; ".join(
        filter(None, (f"exported {result.images} images to {result.out}", result.left_out_text()))
    )


def augment_task(
    root: str, user: str, out_version: str, options: dict[str, Any], *, progress: Any, cancel: Any
) -> str:
    """Augment a version into a new one (stored only when complete)."""
    from ..augment.run import augment_version

    r = augment_version(
        Project.open(Path(root)),
        user=user,
        progress=progress,
        cancel=cancel,
        out_version=out_version,
        **options,
    )
    return (
        f"created dataset version {r['version']}: {r['synthetic']} synthetic "
        f"train images ({r['pasted']} pasted)"
    )


def report_task(root: str, *, progress: Any, cancel: Any) -> dict[str, Any]:
    """The QA report (read-only)."""
    from ..qa.report import build_report

    return build_report(Project.open(Path(root)), progress=progress, cancel=cancel.is_set)


def analytics_task(root: str, *, progress: Any, cancel: Any) -> dict[str, Any]:
    """Annotator analytics (read-only)."""
    from ..qa.analytics import build_analytics

    return build_analytics(Project.open(Path(root)))


def balance_task(root: str, version: str | None, *, progress: Any, cancel: Any) -> dict[str, Any]:
    """The class balance of a version, or of the current final labels (read-only)."""
    from ..augment.balance import build_balance
    from ..versions import build_manifest, get_version

    project = Project.open(Path(root))
    manifest = get_version(project, version) if version else build_manifest(project)
    return build_balance(manifest, project.config)
