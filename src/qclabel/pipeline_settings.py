"""The pipeline's settings: the `[pipeline]` table of the project config, checked whole
before a run does anything (every refusal names the config file, the field and the bad
value), with relative folders resolved against the project folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import ConfigError
from .formats import EXPORT_FORMATS
from .formats.dataset import LINK_MODES
from .formats.yolo import TASKS
from .project import Project
from .qa.final import STATUSES


def settings(project: Project) -> dict[str, Any]:
    cfg, path = project.config.get("pipeline"), project.config_path
    if not isinstance(cfg, dict):
        raise ConfigError(path, "pipeline", cfg, "no [pipeline] table in the config")
    prefix = cfg.get("version_prefix", "auto")
    if not isinstance(prefix, str) or not prefix.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(
            path, "pipeline.version_prefix", prefix, "use letters, digits, '-' or '_'"
        )
    if cfg.get("min_status", "single") not in STATUSES:
        raise ConfigError(
            path,
            "pipeline.min_status",
            cfg.get("min_status"),
            f"expected one of {', '.join(STATUSES)}",
        )
    split = _split(path, "pipeline.split", cfg.get("split", [1.0]))
    seed, group_by = cfg.get("seed", 0), cfg.get("group_by")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(path, "pipeline.seed", seed, "must be a whole number")
    if group_by is not None and not isinstance(group_by, str):
        raise ConfigError(path, "pipeline.group_by", group_by, "must be an image field name")
    gates = cfg.get("gates")
    if gates is not None and not (
        isinstance(gates, list) and all(isinstance(g, str) for g in gates)
    ):
        raise ConfigError(path, "pipeline.gates", gates, "must be a list of gate names")
    return {
        "prefix": prefix,
        "min_status": cfg.get("min_status", "single"),
        "split": split,
        "group_by": group_by,
        "seed": seed,
        "gates": gates,
        "sources": [_source(project, n, s) for n, s in enumerate(cfg.get("sources", []))],
        "exports": [_target(project, n, t, split) for n, t in enumerate(cfg.get("exports", []))],
    }


def _split(path: Path, name: str, value: Any) -> tuple[float, ...]:
    if not (
        isinstance(value, list)
        and 1 <= len(value) <= 3
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value)
        and sum(value) > 0
    ):
        raise ConfigError(path, name, value, "must be 1 to 3 ratios, e.g. [0.8, 0.1, 0.1]")
    if abs(sum(value) - 1) > 1e-6:
        raise ConfigError(path, name, value, f"the ratios add up to {sum(value):g}, not 1")
    return tuple(v / sum(value) for v in value)


def _where(project: Project, value: Any, name: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(project.config_path, name, value, "must be a folder path")
    p = Path(value)
    return p if p.is_absolute() else project.root / p


def _source(project: Project, n: int, src: Any) -> dict[str, Any]:
    name = f"pipeline.sources[{n}]"
    if not isinstance(src, dict):
        raise ConfigError(project.config_path, name, src, "must be a table with path")
    profile = src.get("profile", "default")
    if profile != "default" and profile not in project.profiles:
        raise ConfigError(
            project.config_path,
            f"{name}.profile",
            profile,
            f"no [profiles.{profile}] in the config",
        )
    return {"path": _where(project, src.get("path"), f"{name}.path"), "profile": profile}


def _target(project: Project, n: int, t: Any, split: tuple[float, ...]) -> dict[str, Any]:
    name, path = f"pipeline.exports[{n}]", project.config_path
    if not isinstance(t, dict) or t.get("format") not in EXPORT_FORMATS:
        raise ConfigError(
            path,
            f"{name}.format",
            (t or {}).get("format") if isinstance(t, dict) else t,
            f"expected one of {', '.join(EXPORT_FORMATS)}",
        )
    task, link = t.get("task", "detect"), t.get("images", "copy")
    if task not in TASKS:
        raise ConfigError(path, f"{name}.task", task, f"expected one of {', '.join(TASKS)}")
    if link not in LINK_MODES:
        raise ConfigError(path, f"{name}.images", link, f"expected one of {LINK_MODES}")
    if "split" in t and _split(path, f"{name}.split", t["split"]) != split:
        raise ConfigError(
            path,
            f"{name}.split",
            t["split"],
            "a dataset version has one "
            "split: set [pipeline] split (every export writes that version)",
        )
    return {
        "format": t["format"],
        "task": task,
        "images": link,
        "out": _where(project, t.get("out"), f"{name}.out"),
    }
