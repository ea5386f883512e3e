"""The ISO 2859-1 tables in the package against published values.

References: ISO 2859-1 Table 1 (= ANSI/ASQ Z1.4 Table I, MIL-STD-105E Table I), and the
single-sampling master tables as printed in MIL-STD-105E Tables II-A (normal) and II-B
(tightened), here in the layout of the NIBS facility-maintenance guide's Tables 1-A and
1-B ("Sample Sizes and Reject Levels", AQL 0.65 to 10): each cell there is the
rejection number Re (Ac = Re - 1), "v" (use the first plan below) or "^" (above).
"""

from __future__ import annotations

import pytest

from qclabel.qa.iso2859 import (
    SamplingError,
    aql_key,
    cell,
    code_letter,
    sampling_plan,
    tables,
    tighter_aql,
)

# Table 1, every lot size range, levels S-1 S-2 S-3 S-4 I II III.
TABLE_1 = [
    (2, 8, "AAAAAAB"),
    (9, 15, "AAAAABC"),
    (16, 25, "AABBBCD"),
    (26, 50, "ABBCCDE"),
    (51, 90, "BBCCCEF"),
    (91, 150, "BBCDDFG"),
    (151, 280, "BCDEEGH"),
    (281, 500, "BCDEFHJ"),
    (501, 1200, "CCEFGJK"),
    (1201, 3200, "CDEGHKL"),
    (3201, 10000, "CDFGJLM"),
    (10001, 35000, "CDFHKMN"),
    (35001, 150000, "DEGJLNP"),
    (150001, 500000, "DEGJMPQ"),
    (500001, 10**7, "DEHKNQR"),
]
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

COLUMNS = ("0.65", "1.0", "1.5", "2.5", "4.0", "6.5", "10")
# Re per AQL column (0.65 ... 10), normal inspection (MIL-STD-105E II-A).
NORMAL_RE = {
    "A": "v v v v v 1 ^",
    "B": "v v v v 1 ^ v",
    "C": "v v v 1 ^ v 2",
    "D": "v v 1 ^ v 2 3",
    "E": "v 1 ^ v 2 3 4",
    "F": "1 ^ v 2 3 4 6",
    "G": "^ v 2 3 4 6 8",
    "H": "v 2 3 4 6 8 11",
    "J": "2 3 4 6 8 11 15",
    "K": "3 4 6 8 11 15 22",
    "L": "4 6 8 11 15 22 ^",
    "M": "6 8 11 15 22 ^ ^",
    "N": "8 11 15 22 ^ ^ ^",
    "P": "11 15 22 ^ ^ ^ ^",
    "Q": "15 22 ^ ^ ^ ^ ^",
}
# Tightened inspection (MIL-STD-105E II-B).
TIGHTENED_RE = {
    "A": "v v v v v v v",
    "B": "v v v v v 1 v",
    "C": "v v v v 1 v v",
    "D": "v v v 1 v v 2",
    "E": "v v 1 v v 2 3",
    "F": "v 1 v v 2 3 4",
    "G": "1 v v 2 3 4 6",
    "H": "v v 2 3 4 6 9",
    "J": "v 2 3 4 6 9 13",
    "K": "2 3 4 6 9 13 19",
    "L": "3 4 6 9 13 19 ^",
}
# Rows Q and R of II-A left to right, arrows left out (the plans in column order).
NORMAL_ROW_PLANS = {
    "Q": "0/1 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22",
    "R": "1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22",
}
SAMPLE_SIZES = dict(
    zip("ABCDEFGHJKLMNPQR", (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000))
)


@pytest.mark.parametrize("low,high,letters", TABLE_1)
def test_code_letters_match_table_1(low, high, letters):
    for size in (low, (low + high) // 2, high):
        got = "".join(code_letter(size, level) for level in LEVELS)
        assert got == letters, size


def test_design_facts_at_level_ii():
    assert [code_letter(n) for n in (281, 500, 501, 1200, 1201, 3200, 3201, 10000)] == list(
        "HHJJKKLL"
    )
    assert [sampling_plan(n, "1.0").letter for n in (400, 1000, 2000, 5000)] == list("HJKL")
    assert [tables()["normal"]["sample_sizes"][c] for c in "HJKL"] == [50, 80, 125, 200]
    at_k = {
        aql: (p.n, p.ac, p.re) for aql in ("0.65", "1.0", "2.5") for p in [sampling_plan(2000, aql)]
    }
    assert at_k == {"0.65": (125, 2, 3), "1.0": (125, 3, 4), "2.5": (125, 7, 8)}


def _re(severity: str, letter: str, aql: str) -> str:
    value = cell(severity, letter, aql)
    return value if "/" not in value else str(int(value.split("/")[1]))


@pytest.mark.parametrize("severity,published", [("normal", NORMAL_RE), ("tightened", TIGHTENED_RE)])
def test_master_tables_match_published_cells(severity, published):
    for letter, row in published.items():
        expected = row.split()
        got = [_re(severity, letter, aql) for aql in COLUMNS]
        assert got == expected, f"{severity} {letter}"
        for aql, value in zip(COLUMNS, expected):
            if value.isdigit():  # single sampling: Re is always Ac + 1 on these tables
                assert cell(severity, letter, aql) == f"{int(value) - 1}/{value}"


def test_bottom_rows_hold_the_published_plans_in_order():
    for letter, plans in NORMAL_ROW_PLANS.items():
        row = tables()["normal"]["plans"][letter].split()
        assert [c for c in row if "/" in c] == plans.split()


def test_sample_sizes_of_normal_and_tightened():
    for severity in ("normal", "tightened"):
        assert tables()[severity]["sample_sizes"] == SAMPLE_SIZES


def test_arrows_move_to_the_plan_and_its_sample_size():
    # lot 1000 at level II is code J; normal J at AQL 0.10 is "v" ... down to K 0/1 (n 125)
    p = sampling_plan(1000, "0.10")
    assert (p.code, p.letter, p.n, p.ac, p.re) == ("J", "K", 125, 0, 1)
    # lot 40 (code D) at AQL 2.5: "^" to C 0/1 with n 5; at 4.0: "v" to E 1/2 with n 13
    assert sampling_plan(40, "4.0").to_dict() == {
        "code": "D",
        "letter": "E",
        "n": 13,
        "ac": 1,
        "re": 2,
        "severity": "normal",
        "full": False,
    }
    p = sampling_plan(40, "2.5")
    assert (p.code, p.letter, p.n, p.ac, p.re) == ("D", "C", 5, 0, 1)


def test_a_sample_as_big_as_the_lot_is_full_inspection():
    p = sampling_plan(10, "0.10")  # code B, arrows down to K: 125 > 10
    assert p.full and p.n == 10 and p.ac == 0


def test_tightened_plans_are_stricter_at_the_same_letter():
    n, t = sampling_plan(2000, "2.5"), sampling_plan(2000, "2.5", severity="tightened")
    assert (n.n, n.ac, n.re) == (125, 7, 8) and (t.n, t.ac, t.re) == (125, 5, 6)


def test_reduced_plans_inspect_fewer_images():
    r = sampling_plan(2000, "1.0", severity="reduced")
    assert r.code == "K" and r.n == 50 and r.n < sampling_plan(2000, "1.0").n


def test_unknown_aql_and_level_are_refused():
    with pytest.raises(SamplingError, match="AQL '0.7' is not in the ISO 2859-1 tables"):
        aql_key("0.7")
    with pytest.raises(SamplingError, match="inspection level 'IV'"):
        code_letter(100, "IV")
    assert aql_key(1) == "1.0" and aql_key("0.65") == "0.65"
    assert tighter_aql("1.0") == "0.65" and tighter_aql("0.010") is None
