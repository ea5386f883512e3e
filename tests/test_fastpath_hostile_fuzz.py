"""Label dicts as a journal can hold them (any JSON its annotator wrote: nulls, bools
for numbers, NaN, 400-digit ints, strings holding '"boxes":[]', unknown fields),
fuzzed (derandomized) through every shortcut that stands in for
`Annotation.from_dict` or for the content hash's slow text: each gives exactly what
the slow path gives, or leaves the label to it, and never raises on its own."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qclabel import version_hash as vh
from qclabel.core.model import Annotation
from qclabel.qa import final_build
from qclabel.store import label_facts

FUZZ = settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
NUMBERS = [0.0, -0.0, 1.0, 1.5, 1e308, 5e-324, float("nan"), float("inf"), 10**400]
TEXTS = ["", "dent", "fail", "pass", "minor", '"boxes":[]', 'é\x00\u2028"\\']
atom = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(NUMBERS),
    st.sampled_from(TEXTS),
)
value = st.recursive(
    atom,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["cls", "x", "boxes", "id", "a"]), inner, max_size=3)
    ),
    max_leaves=6,
)
number = st.one_of(
    st.floats(),
    st.integers(-10, 10),
    st.booleans(),
    st.sampled_from([10**400, "1", None, -0.0]),
)
coords = {"cls": atom, "x": number, "y": number, "w": number, "h": number}
box = st.one_of(
    st.fixed_dictionaries({**coords, "severity": atom, "id": atom}),
    st.fixed_dictionaries(coords, optional={"severity": atom, "id": atom, "extra": atom}),
    value,
)
FIELDS = [
    "verdict", "defect_class", "severity", "flag", "skipped", "also", "checks", "boxes",
    "keypoints", "masks", "later",
]  # fmt: skip
rest = {f: value for f in FIELDS if f not in ("verdict", "boxes")}
after = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), value, max_size=6),
    st.fixed_dictionaries({"verdict": atom, "boxes": st.lists(box, max_size=3)}, optional=rest),
    st.fixed_dictionaries({"verdict": atom, "boxes": st.just([])}, optional=rest),
)


def _built(label: dict[str, Any]) -> Annotation | None:
    try:
        return Annotation.from_dict(label)
    except Exception:  # the readers name it (LabelState, final labels)
        return None


def _fields(a: Annotation) -> list[Any]:
    return [list(vars(a).items())] + [list(vars(b).items()) for b in a.boxes]


def _text(f: Any, a: Annotation) -> Any:
    try:
        return f(a)
    except Exception as exc:
        return type(exc)


SEEN: dict[tuple[Any, ...], str] = {}


@FUZZ
@given(after)
def test_shortcuts_are_from_dict_and_the_slow_text(raw: dict[str, Any]) -> None:
    label = json.loads(json.dumps(raw))  # as the journal gives it back
    slow = _built(label)
    fast = final_build.boxes_label(label)  # raises nothing
    if fast is not None:
        assert slow is not None and repr(fast) == repr(slow)
        assert _fields(fast) == _fields(slow)
    key = label_facts.simple_key(label)
    if key is not None:  # one shared Annotation per key: equal keys, equal labels
        assert slow is not None
        assert SEEN.setdefault(key, repr(slow)) == repr(slow)
    if slow is None:
        return
    assert label_facts.state_of(label) == slow.state
    want = _text(lambda a: vh._dumps(vh._label_content(vh.label_dict(a))), slow)
    assert _text(vh.label_text, slow) == want
    assert _text(lambda a: vh._dumps(vh.label_content(a)), slow) == want
