"""Small helper for config validation: each check is one line and errors are uniform
(`ConfigError(file, field path, value, reason)`)."""

from __future__ import annotations

from typing import Any, Literal, overload

from ..errors import ConfigError


class Validator:
    """Small helper so each check is one line and errors are uniform."""

    def __init__(self, file: object):
        self.file = file

    def check(self, ok: bool, where: str, value: object, reason: str) -> None:
        if not ok:
            raise ConfigError(self.file, where, value, reason)

    @overload
    def text(self, d: dict[str, Any], where: str, required: Literal[True]) -> str: ...

    @overload
    def text(self, d: dict[str, Any], where: str, required: bool = False) -> str | None: ...

    def text(self, d: dict[str, Any], where: str, required: bool = False) -> str | None:
        val = d.get(where.rsplit(".", 1)[-1])
        if val is None:
            self.check(not required, where, None, "is required")
            return None
        self.check(
            isinstance(val, str) and (val != "" or not required),
            where,
            val,
            "must be a non-empty string",
        )
        result: str | None = val
        return result

    def flag(self, d: dict[str, Any], where: str, default: bool = False) -> bool:
        val = d.get(where.rsplit(".", 1)[-1], default)
        self.check(isinstance(val, bool), where, val, "must be true or false")
        result: bool = val
        return result

    def seq(self, val: Any, where: str) -> list[Any]:
        self.check(isinstance(val, list), where, val, "must be a list")
        result: list[Any] = val
        return result

    def unique(self, names: list[str], where: str, what: str) -> None:
        seen: set[str] = set()
        for n in names:
            self.check(n not in seen, where, n, f"duplicate {what}")
            seen.add(n)
