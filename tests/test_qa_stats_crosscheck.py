"""Agreement statistics checked against independent implementations and published
worked examples, not only against our own arithmetic.

- Cohen's kappa: scikit-learn's `cohen_kappa_score` (from label pairs) and statsmodels'
  `cohens_kappa` (from the contingency table), on random and skewed data.
- Gwet's AC1, Brennan-Prediger / PABAK and kappa: the two contingency tables of Gwet's
  Handbook of Inter-Rater Reliability (4th ed., 2014) that his irrCAC package ships as
  `cont3x3abstractors` and `cont4x4diagnosis`, with the values the book and the package
  report (3 decimals); each is also worked out by hand below.
- The kappa paradox tables of Feinstein & Cicchetti (1990), "High agreement but low
  kappa", J Clin Epidemiol 43:543: the same 85 % agreement gives kappa 0.70 and 0.32.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa

from qclabel.qa.stats import agreement, agreement_from_confusion, coefficients

# Gwet (2014): 100 pregnant women classified by two abstractors (rows: abstractor 1).
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
# Gwet (2014): 223 psychiatric patients, research vs clinical diagnosis.
DIAGNOSIS = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]


def _cats(q: int) -> list[str]:
    return [f"c{i}" for i in range(q)]


def test_gwet_abstractors_table_by_hand_and_as_published():
    # po = (13 + 20 + 56) / 100 = .89; pA = (.13, .27, .60), pB = (.13, .24, .63)
    # kappa: pe = .0169 + .0648 + .378 = .4597 -> .4303 / .5403 = 0.796409
    # AC1: pi = (.13, .255, .615); pe = (.1131 + .189975 + .236775) / 2 = .269925
    #      -> (.89 - .269925) / .730075 = 0.849331
    # PABAK (Brennan-Prediger): (3 * .89 - 1) / 2 = 0.835
    a = agreement_from_confusion(np.array(ABSTRACTORS), _cats(3))
    assert a.percent == pytest.approx(0.89)
    assert a.kappa == pytest.approx(0.796409, abs=1e-4)
    assert a.ac1 == pytest.approx(0.849331, abs=1e-4)
    assert a.pabak == pytest.approx(0.835)
    # Published (Gwet 2014; irrCAC kappa2/gwet.ac1/bp2.table): 0.796, 0.849, 0.835
    assert _published(ABSTRACTORS) == (0.796, 0.849, 0.835)


def test_gwet_diagnosis_table_by_hand_and_as_published():
    # n = 223, agreed 40 + 25 + 21 + 45 = 131 -> po = .587444
    # rows (65, 46, 38, 74), columns (65, 35, 36, 87)
    # kappa: pe = (65*65 + 46*35 + 38*36 + 74*87) / 223^2 = 13641 / 49729 = .274307
    #        -> (.587444 - .274307) / .725693 = 0.431501
    # AC1: pi = (130, 81, 74, 161) / 446; sum pi(1 - pi) = .724215, / 3 = .241405
    #        -> (.587444 - .241405) / .758595 = 0.456158
    # PABAK: (4 * .587444 - 1) / 3 = 0.449925
    a = agreement_from_confusion(np.array(DIAGNOSIS), _cats(4))
    assert a.percent == pytest.approx(0.587444, abs=1e-4)
    assert a.kappa == pytest.approx(0.431501, abs=1e-4)
    assert a.ac1 == pytest.approx(0.456158, abs=1e-4)
    assert a.pabak == pytest.approx(0.449925, abs=1e-4)
    # Published (Gwet 2014; irrCAC): kappa 0.432, AC1 0.456, Brennan-Prediger 0.450.
    # (The report's 4-decimal kappa is 0.4315: the exact 0.431501 rounds to 0.432.)
    assert _published(DIAGNOSIS) == (0.432, 0.456, 0.450)


def _published(table: list[list[int]]) -> tuple[float, float, float]:
    """Unrounded coefficients at the 3 decimals the book prints (rounding the report's
    4-decimal figures again would round twice)."""
    c = coefficients(np.array(table))
    return tuple(round(float(c[m]), 3) for m in ("kappa", "ac1", "pabak"))


def test_feinstein_cicchetti_paradox_tables():
    # Both tables: po = .85, so PABAK = 2 * .85 - 1 = 0.70 for both.
    # (a) 40 9 / 6 45: pA+ = .49, pB+ = .46; pe = .2254 + .2754 = .5008 -> kappa 0.6995
    #     AC1: pi+ = .475, pe = 2 * .475 * .525 = .49875 -> .35125 / .50125 = 0.700748
    # (b) 80 10 / 5 5: pA+ = .90, pB+ = .85; pe = .765 + .015 = .78 -> kappa 0.318182
    #     AC1: pi+ = .875, pe = 2 * .875 * .125 = .21875 -> .63125 / .78125 = 0.808
    a = agreement_from_confusion(np.array([[40, 9], [6, 45]]), ["yes", "no"])
    b = agreement_from_confusion(np.array([[80, 10], [5, 5]]), ["yes", "no"])
    assert a.kappa == pytest.approx(0.6995, abs=1e-4) and round(a.kappa, 2) == 0.70
    assert b.kappa == pytest.approx(0.318182, abs=1e-4) and round(b.kappa, 2) == 0.32
    assert a.ac1 == pytest.approx(0.700748, abs=1e-4)
    assert b.ac1 == pytest.approx(0.808, abs=1e-4)
    assert a.pabak == pytest.approx(0.70) and b.pabak == pytest.approx(0.70)


@pytest.mark.parametrize(
    "table",
    [
        ABSTRACTORS,
        DIAGNOSIS,
        [[97, 1], [1, 1]],
        [[40, 9], [6, 45]],
        [[5, 1, 0], [1, 2, 1], [0, 0, 2]],
    ],
)
def test_kappa_matches_statsmodels_on_tables(table):
    ours = agreement_from_confusion(np.array(table), _cats(len(table)))
    theirs = cohens_kappa(np.array(table)).kappa
    assert ours.kappa == pytest.approx(theirs, abs=1e-4)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5), st.integers(0, 2**32 - 1), st.integers(5, 200), st.floats(0.0, 0.98))
def test_kappa_matches_scikit_learn_on_label_pairs(q, seed, n, skew):
    """Random annotators, from balanced to 98 % one category (the inspection case)."""
    rng = np.random.default_rng(seed)
    cats = _cats(q)
    probs = np.full(q, (1 - skew) / q)
    probs[0] += skew
    a = rng.choice(q, size=n, p=probs)
    flip = rng.random(n) < rng.uniform(0, 0.5)
    b = np.where(flip, rng.choice(q, size=n, p=probs), a)
    pairs = [(cats[i], cats[j]) for i, j in zip(a, b)]
    ours = agreement(pairs, cats, replicates=10)
    with warnings.catch_warnings():  # sklearn warns, then returns nan, when undefined
        warnings.simplefilter("ignore")
        theirs = cohen_kappa_score(a, b, labels=list(range(q)))
    if np.isnan(theirs):  # both used one category only: kappa is undefined
        assert ours.kappa is None
    else:
        assert ours.kappa == pytest.approx(theirs, abs=1e-4)
    assert ours.percent == pytest.approx(float(np.mean(a == b)), abs=1e-4)


def test_coefficients_of_a_stack_equal_each_table_alone():
    """The bootstrap evaluates thousands of tables at once: same numbers as one by one."""
    stack = np.array([ABSTRACTORS, [[13, 1, 0], [0, 19, 7], [1, 4, 55]]])
    together = coefficients(stack)
    for i, table in enumerate(stack):
        alone = coefficients(table)
        for m in ("percent", "kappa", "ac1", "pabak"):
            assert together[m][i] == pytest.approx(float(alone[m]))
