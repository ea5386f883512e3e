"""The plan's columns read as joined strings (catalog_columns._joined) are exactly
the rows SQLite holds, in catalog order, or not used at all: values holding a separator
or the NULL marker, numbers from a JSON field, NULLs, ids whose order is not the
catalog's."""

from __future__ import annotations

import pytest

from qclabel.core.model import ImageRecord
from qclabel.store import catalog_columns, catalog_db
from qclabel.store.catalog import Catalog


def catalog(tmp_path, values):
    """A catalog of records (id, task, lot, fields) with seq in the order given."""
    path = tmp_path / "catalog.sqlite"
    con = catalog_db.open_writer(path)
    with con:
        con.execute("BEGIN")
        catalog_db.insert(
            con,
            (
                catalog_db.row_of(
                    ImageRecord(
                        id=i,
                        sha256="0" * 64,
                        source=f"/s/{n}.png",
                        file=f"/c/{n}.png",
                        width=4,
                        height=4,
                        fields=fields,
                        seq=n + 1,
                    )
                )
                for n, (i, fields) in enumerate(values)
            ),
        )
    con.close()
    return Catalog(path)


def rows(cat: Catalog, group: str):
    return catalog_columns._rows(cat, group)


JSON_SHIFT = "json_extract(doc, '$.fields.\"shift\"')"


def test_joined_is_the_rows_in_catalog_order(tmp_path):
    # ids in descending order: the id index's order is not the catalog's
    values = [
        (f"{999 - n:04d}", {"lot": f"L{n % 3}", "task": "t"} if n % 4 else {}) for n in range(300)
    ]
    cat = catalog(tmp_path, values)
    for group in ("lot", "NULL", "camera"):
        got = catalog_columns._joined(cat, group)
        assert got is not None and got == rows(cat, group)
    # a JSON field may hold numbers: always read as rows
    assert catalog_columns._joined(cat, JSON_SHIFT) is None
    assert catalog_columns.order_columns(cat, JSON_SHIFT) == rows(cat, JSON_SHIFT)
    ids, tasks, lots = catalog_columns._joined(cat, "lot")
    assert ids == [i for i, _ in values]
    assert None in tasks and "t" in tasks and None in lots and "" not in lots


@pytest.mark.parametrize(
    "bad",
    [{"lot": "a\x1fb"}, {"lot": "\x1e"}, {"task": "x\x1fy"}, {"task": "\x1e"}],
    ids=[
        "separator in a value",
        "the NULL marker as a value",
        "separator in a task",
        "the marker as a task",
    ],
)
def test_values_that_do_not_split_back_read_the_rows(tmp_path, bad):
    cat = catalog(tmp_path, [("a", {"lot": "L1"}), ("b", bad), ("c", {})])
    assert catalog_columns._joined(cat, "lot") is None
    cols = catalog_columns.order_columns(cat, "lot")
    assert cols == rows(cat, "lot") and cols[0] == ["a", "b", "c"]


def test_numbers_from_a_json_field_read_the_rows(tmp_path):
    # 7 and "7" are two groups: joined text would make them one
    cat = catalog(tmp_path, [("a", {}), ("b", {}), ("c", {})])
    con = catalog_db.open_writer(cat.path)
    con.execute("""UPDATE images SET doc = json_set(doc, '$.fields.shift', 7) WHERE id = 'a'""")
    con.execute("""UPDATE images SET doc = json_set(doc, '$.fields.shift', '7') WHERE id = 'b'""")
    con.close()
    cat = Catalog(cat.path)
    assert catalog_columns.order_columns(cat, JSON_SHIFT)[2] == [7, "7", None]


def test_an_empty_catalog(tmp_path):
    cat = catalog(tmp_path, [])
    assert catalog_columns._joined(cat, "lot") == ([], [], [])


@pytest.mark.parametrize(
    "fields",
    [{"lot": "L1", "task": "t"}, {}, {"lot": "L1"}],
    ids=["one task, one lot", "no task, no lot", "no task, one lot"],
)
def test_a_column_with_one_value_is_not_joined_yet_the_same(tmp_path, fields):
    cat = catalog(tmp_path, [(f"i{n:03d}", dict(fields)) for n in range(50)])
    got = catalog_columns._joined(cat, "lot")
    assert got == rows(cat, "lot") and len(got[1]) == 50


def test_a_guess_gone_stale_before_the_read_reads_the_rows(tmp_path, monkeypatch):
    # the first query said "one lot"; a write before the second made it two
    cat = catalog(tmp_path, [("a", {"lot": "L1"}), ("b", {"lot": "L2"}), ("c", {})])
    real = Catalog.select
    calls = []

    def stale(self, sql, args=()):
        calls.append(sql)
        row = real(self, sql, args)
        return [(3, 3, None, None, 0, "L1", "L1")] if len(calls) == 1 else row

    monkeypatch.setattr(Catalog, "select", stale)
    assert catalog_columns._joined(cat, "lot") is None
    monkeypatch.setattr(Catalog, "select", real)
    assert catalog_columns.order_columns(cat, "lot")[2] == ["L1", "L2", None]
