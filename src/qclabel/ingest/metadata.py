"""Per-image metadata: EXIF (camera, exposure, timestamp, orientation), DPI, and the
manufacturing fields (part, lot, station, camera, serial, shift) that QA sampling and
leak-free splits group by. Fields come from the file name through the profile's regex
(named groups) and from a sidecar JSON file beside the image; the sidecar wins."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import ImageError

_IFD0 = {0x010F: "make", 0x0110: "model", 0x0132: "datetime", 0x0131: "software"}
_EXIF_IFD = {
    0x829A: "exposure_time",
    0x829D: "f_number",
    0x8827: "iso",
    0x9003: "datetime_original",
    0x920A: "focal_length",
    0xA434: "lens_model",
}
ORIENTATION_TAG = 0x0112


def _plain(value: Any) -> Any:
    """EXIF values as JSON-safe scalars (rationals become floats, bytes are dropped)."""
    if isinstance(value, bytes):
        return None
    if isinstance(value, tuple):
        return _plain(value[0]) if len(value) == 1 else None
    if isinstance(value, str):
        return value.strip("\x00 ").strip() or None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def read_exif(im: Image.Image) -> dict[str, Any]:
    """Camera, exposure and timestamp tags plus the raw orientation (1 if absent)."""
    exif = im.getexif()
    out: dict[str, Any] = {}
    for tag, name in _IFD0.items():
        if tag in exif and _plain(exif[tag]) is not None:
            out[name] = _plain(exif[tag])
    sub = exif.get_ifd(0x8769)
    for tag, name in _EXIF_IFD.items():
        if tag in sub and _plain(sub[tag]) is not None:
            out[name] = _plain(sub[tag])
    orientation = exif.get(ORIENTATION_TAG, 1)
    out["orientation"] = orientation if orientation in range(1, 9) else 1
    return out


def read_dpi(im: Image.Image) -> tuple[float, float] | None:
    dpi = im.info.get("dpi")
    if not dpi or len(dpi) != 2:
        return None
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError):
        return None
    return (round(x, 3), round(y, 3)) if x > 0 and y > 0 else None


def sidecar_for(path: Path) -> Path | None:
    """`IMAGE.ext.json` or `IMAGE.json` beside the image, whichever exists first."""
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    return None


SIDECAR_MAX_BYTES = 1 << 20  # a few manufacturing fields; more is not a sidecar


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a value")


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def read_sidecar(path: Path) -> dict[str, str]:
    """Bounded like every other untrusted file: size, NaN/Infinity, huge integers
    (Python refuses over 4300 digits with a ValueError) and deep nesting."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(SIDECAR_MAX_BYTES + 1)
        if len(raw) > SIDECAR_MAX_BYTES:
            raise ValueError(f"larger than {SIDECAR_MAX_BYTES >> 20} MB")
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except OSError as exc:
        raise ImageError(f"{path}: sidecar cannot be read: {exc.strerror or exc}") from None
    except RecursionError:
        raise ImageError(f"{path}: sidecar is not readable JSON: nested too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError and JSONDecodeError
        raise ImageError(f"{path}: sidecar is not readable JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise ImageError(f"{path}: sidecar must be a JSON object of field: value")
    return {
        str(k): str(v)
        for k, v in data.items()
        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
    }


def manufacturing_fields(path: Path, setting: dict[str, Any] | None) -> dict[str, str]:
    """Fields for one source file under the profile's `fields` setting."""
    if not setting:
        return {}
    fields: dict[str, str] = {}
    pattern = setting.get("pattern")
    if pattern:
        m = re.search(pattern, path.stem)
        if m:
            fields.update({k: v for k, v in m.groupdict().items() if v is not None})
        elif setting.get("required"):
            raise ImageError(f"{path}: file name does not match fields.pattern {pattern!r}")
    if setting.get("sidecar"):
        side = sidecar_for(path)
        if side is not None:
            fields.update(read_sidecar(side))
        elif setting.get("required") and not pattern:
            raise ImageError(f"{path}: no sidecar file ({path.name}.json) and fields are required")
    return fields
