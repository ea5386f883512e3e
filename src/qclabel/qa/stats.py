"""Chance-corrected agreement between two annotators on categorical labels.

- percent agreement  p_o = share of items both gave the same category
- Cohen's kappa      (p_o - p_e) / (1 - p_e),  p_e = sum_k pA(k) pB(k)
- Gwet's AC1         (p_o - p_e) / (1 - p_e),  p_e = sum_k pi_k (1 - pi_k) / (q - 1),
                     pi_k = (pA(k) + pB(k)) / 2, q = categories in the scale
- PABAK              (q p_o - 1) / (q - 1)

Kappa collapses on inspection data where 99 % of parts pass (p_e is close to 1), so a
98 %-agreement pair can score kappa 0; AC1 and PABAK stay near p_o. Kappa is
undefined (None) when both annotators used one single category.

Confidence intervals: 95 % percentile bootstrap over images. Resampling n images with
replacement is a multinomial draw over the confusion-matrix cells, so 1000 replicates
cost one numpy call; the generator is seeded (`[qa] seed`), so reports are reproducible.

Cross-checked in tests/test_qa_stats_crosscheck.py against scikit-learn and statsmodels
(kappa) and Gwet's published worked examples (AC1, PABAK = Brennan-Prediger, kappa).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

BOOTSTRAP_REPLICATES = 1000
METRICS = ("percent", "kappa", "ac1", "pabak")


@dataclass
class Agreement:
    n: int
    categories: list[str]
    confusion: list[list[int]]  # rows: annotator A, columns: annotator B
    percent: float | None = None
    kappa: float | None = None
    ac1: float | None = None
    pabak: float | None = None
    ci: dict[str, list[float] | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def confusion(pairs: Sequence[tuple[str, str]], categories: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(categories)}
    cm = np.zeros((len(categories), len(categories)), dtype=np.int64)
    for a, b in pairs:
        cm[index[a], index[b]] += 1
    return cm


def coefficients(cm: np.ndarray) -> dict[str, np.ndarray]:
    """The four statistics for one (q, q) matrix or a stack (..., q, q) of them."""
    cm = np.asarray(cm, dtype=float)
    q = cm.shape[-1]
    n = cm.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = cm / n[..., None, None]
        po = np.trace(p, axis1=-2, axis2=-1)
        pa, pb = p.sum(axis=-1), p.sum(axis=-2)
        pe_cohen = (pa * pb).sum(axis=-1)
        pi = (pa + pb) / 2
        pe_gwet = (pi * (1 - pi)).sum(axis=-1) / (q - 1) if q > 1 else np.ones_like(po)
        kappa = np.where(pe_cohen < 1 - 1e-12, (po - pe_cohen) / (1 - pe_cohen), np.nan)
        ac1 = np.where(pe_gwet < 1 - 1e-12, (po - pe_gwet) / (1 - pe_gwet), np.nan)
        pabak = (q * po - 1) / (q - 1) if q > 1 else np.full_like(po, np.nan)
    return {"percent": po, "kappa": kappa, "ac1": ac1, "pabak": pabak}


def agreement(
    pairs: Sequence[tuple[str, str]],
    categories: Sequence[str],
    seed: int = 0,
    replicates: int = BOOTSTRAP_REPLICATES,
) -> Agreement:
    """Agreement statistics of (A, B) category pairs on a scale of `categories`."""
    categories = list(categories)
    cm = confusion(pairs, categories)
    return agreement_from_confusion(cm, categories, seed, replicates)


def agreement_from_confusion(
    cm: np.ndarray, categories: list[str], seed: int = 0, replicates: int = BOOTSTRAP_REPLICATES
) -> Agreement:
    n = int(cm.sum())
    result = Agreement(n, categories, cm.tolist())
    if n == 0 or len(categories) < 2:
        result.ci = {m: None for m in METRICS}
        return result
    point = coefficients(cm)
    for m in METRICS:
        setattr(result, m, _num(point[m]))
    result.ci = bootstrap_ci(cm, seed, replicates)
    return result


def bootstrap_ci(
    cm: np.ndarray, seed: int = 0, replicates: int = BOOTSTRAP_REPLICATES
) -> dict[str, list[float] | None]:
    rng = np.random.default_rng(seed)
    n = int(cm.sum())
    cells = cm.ravel() / n
    draws = rng.multinomial(n, cells, size=replicates).reshape((replicates,) + cm.shape)
    stats = coefficients(draws)
    out: dict[str, list[float] | None] = {}
    for m in METRICS:
        values = stats[m][~np.isnan(stats[m])]
        out[m] = (
            [
                round(float(np.percentile(values, 2.5)), 4),
                round(float(np.percentile(values, 97.5)), 4),
            ]
            if values.size
            else None
        )
    return out


def _num(x: Any) -> float | None:
    x = float(x)
    return None if np.isnan(x) else round(x, 4)
