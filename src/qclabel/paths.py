"""Where bundled data lives: inside the wheel, or beside the source in a checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
_REPO = _PKG.parent.parent


def bundled_dir(name: str) -> Path:
    """`themes` or `samples`: the wheel copy (qclabel/_NAME) or the checkout's folder."""
    for candidate in (_PKG / f"_{name}", _REPO / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled {name}/ not found beside {_PKG}")


def samples_dir() -> Path:
    return bundled_dir("samples")


def themes_dir() -> Path:
    return bundled_dir("themes")
