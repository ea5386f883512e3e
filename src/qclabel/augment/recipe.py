"""Augmentation recipes: which operations, how likely, over which ranges.

A recipe is a table under `[augment.recipes.NAME]` in `qclabel.toml`; every key is one
operation with its probability `p` and, where it has one, a `range = [low, high]`:

    [augment.recipes.gentle]
    hflip = { p = 0.5 }
    rotate = { p = 0.5, range = [-8, 8] }          # degrees
    brightness = { p = 0.5, range = [-0.08, 0.08] } # fraction of full scale

`default` is built in (and may be redefined in the config). Unknown operations, a
probability outside 0..1 or a backwards range are refused naming the key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

# Operation -> (default range or None when it takes none, what the range means).
GEOMETRIC = {
    "hflip": (None, "mirror left-right"),
    "vflip": (None, "mirror top-bottom"),
    "rot90": (None, "quarter turns (1-3, uniform)"),
    "rotate": ((-10.0, 10.0), "degrees about the centre"),
    "scale": ((0.9, 1.1), "zoom factor about the centre"),
    "crop": ((0.8, 1.0), "kept fraction of each side, resized back to full size"),
    "perspective": ((0.0, 0.05), "corner shift, fraction of the side"),
}
PHOTOMETRIC = {
    "brightness": ((-0.1, 0.1), "offset, fraction of full scale"),
    "contrast": ((0.85, 1.15), "gain about the mean"),
    "gamma": ((0.8, 1.25), "exponent"),
    "colour": ((-0.05, 0.05), "per-channel gain offset (colour images)"),
    "blur": ((0.3, 1.2), "Gaussian sigma, pixels"),
    "noise": ((0.0, 0.02), "Gaussian noise sigma, fraction of full scale"),
    "shot_noise": ((0.0, 0.02), "Poisson-like noise, fraction of full scale at white"),
    "jpeg": ((60.0, 95.0), "JPEG quality (8-bit images only)"),
}
PASTE = {"copy_paste": ((0.8, 1.2), "scale of the pasted defect")}
OPERATIONS = {**GEOMETRIC, **PHOTOMETRIC, **PASTE}
BLENDS = ("mixed", "alpha")

DEFAULT_SPEC: dict[str, Any] = {
    "hflip": {"p": 0.5},
    "vflip": {"p": 0.5},
    "rot90": {"p": 0.25},
    "rotate": {"p": 0.5, "range": [-10, 10]},
    "scale": {"p": 0.5, "range": [0.9, 1.1]},
    "crop": {"p": 0.25, "range": [0.85, 1.0]},
    "perspective": {"p": 0.2, "range": [0.0, 0.04]},
    "brightness": {"p": 0.5, "range": [-0.08, 0.08]},
    "contrast": {"p": 0.5, "range": [0.85, 1.15]},
    "gamma": {"p": 0.3, "range": [0.8, 1.25]},
    "colour": {"p": 0.3, "range": [-0.04, 0.04]},
    "blur": {"p": 0.2, "range": [0.3, 1.0]},
    "noise": {"p": 0.3, "range": [0.0, 0.015]},
    "shot_noise": {"p": 0.1, "range": [0.0, 0.01]},
    "jpeg": {"p": 0.2, "range": [70, 95]},
    "copy_paste": {"p": 0.5, "range": [0.8, 1.2], "degrees": 20, "blend": "mixed", "feather": 3},
}


@dataclass(frozen=True)
class Op:
    name: str
    p: float
    low: float = 0.0
    high: float = 0.0
    extra: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.extra).get(key, default)


@dataclass(frozen=True)
class Recipe:
    name: str
    ops: tuple[Op, ...]
    spec: dict[str, Any]

    @property
    def digest(self) -> str:
        """Hash of what the recipe does (not its name): part of a synthetic file's path."""
        raw = json.dumps(self.spec, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()

    def op(self, name: str) -> Op | None:
        return next((o for o in self.ops if o.name == name), None)


def recipe_names(config: dict[str, Any]) -> list[str]:
    return sorted({"default", *config.get("augment", {}).get("recipes", {})})


def load_recipe(config: dict[str, Any], name: str, file: object = "qclabel.toml") -> Recipe:
    """The recipe `name` from the config (or the built-in `default`), validated."""
    recipes = config.get("augment", {}).get("recipes", {})
    if name in recipes:
        spec = recipes[name]
    elif name == "default":
        spec = DEFAULT_SPEC
    else:
        raise ConfigError(
            file,
            f"augment.recipes.{name}",
            None,
            f"no such recipe; known: {', '.join(recipe_names(config))}",
        )
    where = f"augment.recipes.{name}"
    if not isinstance(spec, dict) or not spec:
        raise ConfigError(file, where, spec, "must be a table of operations")
    ops = tuple(_load_op(file, f"{where}.{k}", k, v) for k, v in sorted(spec.items()))
    plain = {o.name: _plain(o) for o in ops}
    return Recipe(name, ops, plain)


def _load_op(file: object, where: str, name: str, raw: Any) -> Op:
    if name not in OPERATIONS:
        raise ConfigError(
            file, where, raw, f"unknown operation; expected one of {', '.join(OPERATIONS)}"
        )
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = {"p": raw}
    if not isinstance(raw, dict):
        raise ConfigError(file, where, raw, "must be a table such as { p = 0.5 }")
    p = raw.get("p", 1.0)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ConfigError(file, f"{where}.p", p, "must be a probability from 0 to 1")
    default, _ = OPERATIONS[name]
    rng = raw.get("range", list(default) if default else None)
    low = high = 0.0
    if default is not None:
        ok = (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
        )
        if not ok or rng[0] > rng[1]:
            raise ConfigError(file, f"{where}.range", rng, "must be [low, high], low <= high")
        low, high = float(rng[0]), float(rng[1])
        _check_bounds(file, where, name, low, high)
    elif "range" in raw:
        raise ConfigError(file, f"{where}.range", rng, f"{name} takes no range")
    extra = {k: v for k, v in raw.items() if k not in ("p", "range")}
    if name == "copy_paste":
        _check_paste(file, where, extra)
    elif extra:
        raise ConfigError(
            file, where, sorted(extra), "unknown keys; an operation takes p and range"
        )
    return Op(name, float(p), low, high, tuple(sorted(extra.items())))


def _check_bounds(file: object, where: str, name: str, low: float, high: float) -> None:
    positive = {"scale", "contrast", "gamma", "blur"}
    if name in positive and low <= 0:
        raise ConfigError(file, f"{where}.range", [low, high], "must be above 0")
    if name == "crop" and not (0 < low and high <= 1):
        raise ConfigError(file, f"{where}.range", [low, high], "must be within (0, 1]")
    if name == "jpeg" and not (1 <= low and high <= 100):
        raise ConfigError(file, f"{where}.range", [low, high], "qualities are 1..100")
    if name in ("noise", "shot_noise", "perspective") and low < 0:
        raise ConfigError(file, f"{where}.range", [low, high], "must not be negative")


def _check_paste(file: object, where: str, extra: dict[str, Any]) -> None:
    unknown = set(extra) - {"degrees", "blend", "feather", "max_objects"}
    if unknown:
        raise ConfigError(
            file,
            where,
            sorted(unknown),
            "unknown keys; copy_paste takes p, range, degrees, blend, feather, max_objects",
        )
    if extra.get("blend", "mixed") not in BLENDS:
        raise ConfigError(file, f"{where}.blend", extra.get("blend"), f"expected one of {BLENDS}")
    for key in ("degrees", "feather"):
        v = extra.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError(file, f"{where}.{key}", v, "must be a number >= 0")


def _plain(op: Op) -> dict[str, Any]:
    d: dict[str, Any] = {"p": op.p}
    if OPERATIONS[op.name][0] is not None:
        d["range"] = [op.low, op.high]
    d.update(dict(op.extra))
    return d
