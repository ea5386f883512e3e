"""Key remapping: binding id -> key, from the project and the user config.

    # qclabel.toml (everyone on the project)     # ~/.config/qclabel/keys.toml (you)
    [keys]                                        [keys]
    "classify.next" = "n,space"                   "classify.undo" = "ctrl+z"

The user's file wins over the project's. Ids are the ones in the help screen (`?`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from ..errors import ConfigError


def user_keys_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "qclabel" / "keys.toml"


def load_user_keys(path: Path | None = None) -> dict[str, str]:
    path = path or user_keys_path()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", None, f"not valid TOML: {exc}") from None
    return check_keys(data.get("keys", data), path)


def check_keys(keys: object, source: object) -> dict[str, str]:
    if not isinstance(keys, dict):
        raise ConfigError(source, "keys", keys, "must be a table of binding id = key")
    for bid, key in keys.items():
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(
                source, f"keys.{bid}", key, "must be a key name such as 'n' or 'ctrl+z'"
            )
    return dict(keys)


def merged_keymap(
    project_keys: dict[str, str], project_file: object, user_file: Path | None = None
) -> dict[str, str]:
    return {**check_keys(project_keys, project_file), **load_user_keys(user_file)}


def unknown_ids(keymap: dict[str, str], known: set[str]) -> list[str]:
    return sorted(set(keymap) - known)
