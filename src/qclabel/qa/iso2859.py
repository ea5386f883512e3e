"""ISO 2859-1 single sampling plans, read from the package data `iso2859_1.json`.

    plan = sampling_plan(lot_size=2000, aql="1.0", level="II", severity="normal")
    plan.code, plan.n, plan.ac, plan.re    # K, 125, 3, 4

Table 1 gives the sample size code letter of a lot size at an inspection level; the
master table of the severity (normal, tightened, reduced) gives Ac/Re for that letter
and AQL, or an arrow to the first plan below or above it, whose row then also gives
the sample size. When the sample is at least the lot, every item is inspected.
The tables cover percent nonconforming (AQL 0.010 to 10): a corrected label is one
nonconforming image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import QclabelError

SEVERITIES = ("normal", "tightened", "reduced")


class SamplingError(QclabelError):
    """An AQL, inspection level or lot the tables have no plan for."""


@dataclass(frozen=True)
class SamplingPlan:
    code: str  # the lot's code letter (Table 1)
    letter: str  # the row the plan was found in (after following arrows)
    n: int  # items to inspect (the lot size when the sample covers it)
    ac: int
    re: int
    severity: str
    full: bool = False  # 100 % inspection: the sample size reached the lot size

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "letter": self.letter,
            "n": self.n,
            "ac": self.ac,
            "re": self.re,
            "severity": self.severity,
            "full": self.full,
        }


@lru_cache(maxsize=1)
def tables() -> dict[str, Any]:
    raw = resources.files("qclabel.qa").joinpath("iso2859_1.json").read_text()
    result: dict[str, Any] = json.loads(raw)
    return result


def aqls() -> list[str]:
    return list(tables()["aqls"])


def levels() -> list[str]:
    return list(tables()["levels"])


def aql_key(aql: float | str) -> str:
    """The table's spelling of an AQL ("1.0", "0.65", "10"), or SamplingError."""
    try:
        value = float(aql)
    except (TypeError, ValueError):
        value = -1.0
    for key in aqls():
        if abs(float(key) - value) < 1e-9:
            return key
    raise SamplingError(
        f"AQL {aql!r} is not in the ISO 2859-1 tables; use one of {', '.join(aqls())}"
    )


def code_letter(lot_size: int, level: str = "II") -> str:
    if level not in levels():
        raise SamplingError(f"inspection level {level!r}: use one of {', '.join(levels())}")
    if lot_size < 2:
        return "A"  # one image: the smallest plan, which inspects it
    column = levels().index(level)
    for low, high, letters in tables()["code_letters"]:
        if lot_size >= low and (high is None or lot_size <= high):
            result: str = letters.split()[column]
            return result
    raise SamplingError(f"lot size {lot_size} is outside ISO 2859-1 Table 1")


def cell(severity: str, letter: str, aql: float | str) -> str:
    """The raw master-table cell: 'Ac/Re', 'v' or '^'."""
    if severity not in SEVERITIES:
        raise SamplingError(f"severity {severity!r}: use one of {', '.join(SEVERITIES)}")
    row = tables()[severity]["plans"][letter].split()
    result: str = row[aqls().index(aql_key(aql))]
    return result


def sampling_plan(
    lot_size: int, aql: float | str, level: str = "II", severity: str = "normal"
) -> SamplingPlan:
    code = code_letter(lot_size, level)
    letter = _resolve(severity, code, aql_key(aql))
    ac, re = (int(x) for x in cell(severity, letter, aql).split("/"))
    n = tables()[severity]["sample_sizes"][letter]
    full = n >= lot_size
    return SamplingPlan(code, letter, min(n, max(lot_size, 1)), ac, re, severity, full)


def _resolve(severity: str, code: str, aql: str) -> str:
    """Follow the arrows from `code` to the row that holds a plan."""
    letters = list(tables()[severity]["plans"])
    i = letters.index(code)
    while True:
        value = cell(severity, letters[i], aql)
        if "/" in value:
            result: str = letters[i]
            return result
        i += 1 if value == "v" else -1
        if not 0 <= i < len(letters):
            raise SamplingError(
                f"ISO 2859-1 has no {severity} plan for code letter {code} "
                f"at AQL {aql}; choose another AQL or inspection level"
            )


def tighter_aql(aql: float | str) -> str | None:
    """The next smaller AQL of the table (for the switching score), or None."""
    keys = aqls()
    i = keys.index(aql_key(aql))
    return keys[i - 1] if i > 0 else None
