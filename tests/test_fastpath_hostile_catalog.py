"""The catalog's shortcuts (store.catalog_db) read a document as the record's own
`from_dict` / `to_dict` would, whatever the document holds: `dict_of` hands a
document in `row_of`'s layout on as it is only when `to_dict` would give it back
unchanged (a `window` or `dpi` of the wrong type comes back as to_dict writes it)."""

from __future__ import annotations

import json

import pytest

from qclabel.core.model import ImageRecord
from qclabel.store import catalog_db

BASE = ImageRecord("id1", "0" * 64, "/s/a.png", "/s/a.png", 10, 20).to_dict()


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"window": [10.0, 200.0], "dpi": [300, 300]},
        {"window": [1]},
        {"window": [[1, 2]]},
        {"window": []},
        {"window": "ab"},
        {"window": 0},
        {"window": ""},
        {"window": False},
        {"dpi": {"a": 1}},
        {"dpi": "72"},
        {"width": -1, "height": 0},
        {"width": 10**30, "fields": None},
    ],
    ids=range(13),
)
def test_dict_of_is_to_dict_of_the_record(over: dict) -> None:
    doc = json.dumps(dict(BASE, **over), separators=(",", ":"))
    want = ImageRecord.from_dict(json.loads(doc)).to_dict()
    got = catalog_db.dict_of(doc)
    assert got == want and list(got) == list(want)
    assert repr(got) == repr(want)  # == tells a tuple from a list, repr 1 from True
    rec = catalog_db.record_of(doc)
    assert list(vars(rec).items()) == list(vars(ImageRecord.from_dict(json.loads(doc))).items())
