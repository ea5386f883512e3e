"""Source profiles: how one kind of source (a station, a camera, a microscope) is made
canonical. A profile is a `[profiles.NAME]` table in the project config.

Every key is validated here, defaults are filled in, and the resolved settings are
hashed (with the pipeline version), so each catalog record names the exact recipe that
produced its canonical pixels: re-running the same profile on the same files gives the
same pixels, and a changed profile gives a different `profile_hash`.

Keys (all optional):
    orient       = true                     apply the EXIF orientation
    mm_per_px    = 0.05                     scale calibration of the source pixels
    window       = { centre = 2048.0, width = 4096.0 }   display default for >8-bit,
                 | { low_pct = 0.5, high_pct = 99.5 }    or auto percentiles (default)
    normalize    = { method = "stretch", low_pct = 1.0, high_pct = 99.0 }
                 | { method = "clahe", clip_limit = 2.0, tile = 8 }
    colour       = "grey-world"             colour normalization
    roi          = [x, y, w, h]             fixed crop, after orientation
    roi_by_station = { ST1 = [x, y, w, h] } crop chosen by the `station` field
    max_size     = 2048                     longest side after resizing (phone photos)
    pages        = "split" | "first"        multi-page TIFF: one image per page, or page 1
    fields       = { pattern = '(?P<part>...)', sidecar = true, required = false }
    stitch       = { group = '^(?P<part>.+)_seg(?P<seq>\\d+)$', overlap_px = 0 | "auto",
                     max_overlap_px = 64, direction = "vertical" | "horizontal" }
    focus_stack  = { group = '^(?P<stack>.+)_z(?P<seq>\\d+)$', kernel = 3, smooth = 9 }
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

# Bump when a preprocessing step changes its output for the same settings.
PIPELINE_VERSION = 1
DEFAULT_WINDOW = {"low_pct": 0.5, "high_pct": 99.5}
BUILTIN_DEFAULT = {"orient": True}
_KEYS = {
    "orient",
    "mm_per_px",
    "window",
    "normalize",
    "colour",
    "roi",
    "roi_by_station",
    "max_size",
    "pages",
    "fields",
    "stitch",
    "focus_stack",
}
_PIXEL_OPS = ("normalize", "colour", "roi", "roi_by_station", "max_size")


@dataclass(frozen=True)
class Profile:
    name: str
    settings: dict[str, Any]
    hash: str

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    @property
    def changes_pixels(self) -> bool:
        """True when canonical pixels differ from the (oriented) source pixels."""
        return any(k in self.settings for k in _PIXEL_OPS)

    @property
    def group(self) -> tuple[str, dict[str, Any]] | None:
        """('stitch'|'focus_stack', settings) when files are combined, else None."""
        for kind in ("stitch", "focus_stack"):
            if kind in self.settings:
                return kind, self.settings[kind]
        return None


def resolve_profile(profiles: dict[str, Any], name: str | None, where: object) -> Profile:
    """Validate profile `name` from the config table `profiles` (file `where`)."""
    name = name or "default"
    if name not in profiles:
        if name != "default":
            raise ConfigError(
                where,
                "profiles",
                name,
                f"no such profile; defined: {', '.join(sorted(profiles)) or '-'}",
            )
        raw: dict[str, Any] = dict(BUILTIN_DEFAULT)
    else:
        raw = profiles[name]
    if not isinstance(raw, dict):
        raise ConfigError(where, f"profiles.{name}", raw, "must be a table")
    settings = _validate(copy.deepcopy(raw), f"profiles.{name}", where)
    blob = json.dumps({"v": PIPELINE_VERSION, **settings}, sort_keys=True).encode()
    return Profile(name, settings, hashlib.sha256(blob).hexdigest()[:12])


def _validate(s: dict[str, Any], at: str, where: object) -> dict[str, Any]:
    unknown = sorted(set(s) - _KEYS)
    if unknown:
        raise ConfigError(
            where,
            f"{at}.{unknown[0]}",
            s[unknown[0]],
            f"unknown profile key; known: {', '.join(sorted(_KEYS))}",
        )
    if "stitch" in s and "focus_stack" in s:
        raise ConfigError(
            where,
            f"{at}.stitch",
            s["stitch"],
            "a profile either stitches or focus-stacks, not both",
        )
    s["orient"] = _bool(s.get("orient", True), f"{at}.orient", where)
    if "mm_per_px" in s:
        s["mm_per_px"] = _positive(s["mm_per_px"], f"{at}.mm_per_px", where)
    s["window"] = _window(s.get("window", DEFAULT_WINDOW), f"{at}.window", where)
    if "normalize" in s:
        s["normalize"] = _normalize(s["normalize"], f"{at}.normalize", where)
    if "colour" in s and s["colour"] != "grey-world":
        raise ConfigError(where, f"{at}.colour", s["colour"], 'expected "grey-world"')
    if "roi" in s:
        s["roi"] = _rect(s["roi"], f"{at}.roi", where)
    if "roi_by_station" in s:
        table = s["roi_by_station"]
        if not isinstance(table, dict):
            raise ConfigError(where, f"{at}.roi_by_station", table, "must be a table")
        s["roi_by_station"] = {
            k: _rect(v, f"{at}.roi_by_station.{k}", where) for k, v in table.items()
        }
    if "max_size" in s:
        s["max_size"] = int(_positive(s["max_size"], f"{at}.max_size", where))
    if s.setdefault("pages", "split") not in ("split", "first"):
        raise ConfigError(where, f"{at}.pages", s["pages"], 'expected "split" or "first"')
    if "fields" in s:
        s["fields"] = _fields(s["fields"], f"{at}.fields", where)
    if "stitch" in s:
        s["stitch"] = _stitch(s["stitch"], f"{at}.stitch", where)
    if "focus_stack" in s:
        s["focus_stack"] = _stack(s["focus_stack"], f"{at}.focus_stack", where)
    return s


def _bool(v: Any, at: str, where: object) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(where, at, v, "expected true or false")
    return v


def _positive(v: Any, at: str, where: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise ConfigError(where, at, v, "expected a positive number")
    return float(v)


def _pct(d: dict[str, Any], lo: float, hi: float, at: str, where: object) -> dict[str, float]:
    low, high = d.get("low_pct", lo), d.get("high_pct", hi)
    for key, v in (("low_pct", low), ("high_pct", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
            raise ConfigError(where, f"{at}.{key}", v, "expected a percentile 0..100")
    if low >= high:
        raise ConfigError(where, f"{at}.low_pct", low, f"must be below high_pct ({high})")
    return {"low_pct": float(low), "high_pct": float(high)}


def _table(v: Any, at: str, where: object, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ConfigError(where, at, v, "must be a table")
    extra = sorted(set(v) - allowed)
    if extra:
        raise ConfigError(
            where,
            f"{at}.{extra[0]}",
            v[extra[0]],
            f"unknown key; known: {', '.join(sorted(allowed))}",
        )
    return dict(v)


def _window(v: Any, at: str, where: object) -> dict[str, float]:
    v = _table(v, at, where, {"centre", "width", "low_pct", "high_pct"})
    if "centre" in v or "width" in v:
        if "centre" not in v or "width" not in v:
            raise ConfigError(where, at, v, "give both centre and width")
        if isinstance(v["centre"], bool) or not isinstance(v["centre"], (int, float)):
            raise ConfigError(where, f"{at}.centre", v["centre"], "expected a number")
        return {"centre": float(v["centre"]), "width": _positive(v["width"], f"{at}.width", where)}
    return _pct(v, 0.5, 99.5, at, where)


def _normalize(v: Any, at: str, where: object) -> dict[str, Any]:
    v = _table(v, at, where, {"method", "low_pct", "high_pct", "clip_limit", "tile"})
    method = v.get("method")
    if method == "stretch":
        return {"method": "stretch", **_pct(v, 1.0, 99.0, at, where)}
    if method == "clahe":
        tile = v.get("tile", 8)
        if isinstance(tile, bool) or not isinstance(tile, int) or not 1 <= tile <= 64:
            raise ConfigError(where, f"{at}.tile", tile, "expected an integer 1..64")
        return {
            "method": "clahe",
            "tile": tile,
            "clip_limit": _positive(v.get("clip_limit", 2.0), f"{at}.clip_limit", where),
        }
    raise ConfigError(where, f"{at}.method", method, 'expected "stretch" or "clahe"')


def _rect(v: Any, at: str, where: object) -> list[int]:
    ok = (
        isinstance(v, list)
        and len(v) == 4
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in v)
        and v[2] > 0
        and v[3] > 0
    )
    if not ok:
        raise ConfigError(where, at, v, "expected [x, y, w, h] in pixels (w, h > 0)")
    return list(v)


def _regex(v: Any, at: str, where: object, need: tuple[str, ...]) -> str:
    try:
        rx = re.compile(v) if isinstance(v, str) else None
    except re.error as exc:
        raise ConfigError(where, at, v, f"not a valid regular expression: {exc}") from None
    if rx is None:
        raise ConfigError(where, at, v, "expected a regular expression string")
    missing = [g for g in need if g not in rx.groupindex]
    if missing:
        raise ConfigError(where, at, v, f"needs the named group(s) {', '.join(missing)}")
    result: str = v
    return result


def _fields(v: Any, at: str, where: object) -> dict[str, Any]:
    v = _table(v, at, where, {"pattern", "sidecar", "required"})
    out: dict[str, Any] = {
        "sidecar": _bool(v.get("sidecar", False), f"{at}.sidecar", where),
        "required": _bool(v.get("required", False), f"{at}.required", where),
    }
    if "pattern" in v:
        out["pattern"] = _regex(v["pattern"], f"{at}.pattern", where, ())
    return out


def _stitch(v: Any, at: str, where: object) -> dict[str, Any]:
    v = _table(v, at, where, {"group", "overlap_px", "max_overlap_px", "direction"})
    overlap = v.get("overlap_px", 0)
    if overlap != "auto" and (
        isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0
    ):
        raise ConfigError(
            where, f"{at}.overlap_px", overlap, 'expected a number of pixels >= 0 or "auto"'
        )
    direction = v.get("direction", "vertical")
    if direction not in ("vertical", "horizontal"):
        raise ConfigError(
            where, f"{at}.direction", direction, 'expected "vertical" or "horizontal"'
        )
    return {
        "group": _regex(v.get("group"), f"{at}.group", where, ("part", "seq")),
        "overlap_px": overlap,
        "direction": direction,
        "max_overlap_px": int(
            _positive(v.get("max_overlap_px", 64), f"{at}.max_overlap_px", where)
        ),
    }


def _stack(v: Any, at: str, where: object) -> dict[str, Any]:
    v = _table(v, at, where, {"group", "kernel", "smooth"})
    kernel, smooth = v.get("kernel", 3), v.get("smooth", 9)
    if kernel not in (1, 3, 5, 7):
        raise ConfigError(where, f"{at}.kernel", kernel, "expected 1, 3, 5 or 7")
    if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 1 or smooth % 2 == 0:
        raise ConfigError(where, f"{at}.smooth", smooth, "expected an odd integer >= 1")
    return {
        "group": _regex(v.get("group"), f"{at}.group", where, ("stack", "seq")),
        "kernel": kernel,
        "smooth": smooth,
    }
