"""cli.json_text writes exactly what json.dumps(value, ensure_ascii=False, indent=1) writes."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kidneyshare.cli.json_text import Encoded, indented_json

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=30,
)


def standard(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_text_as_the_standard_library(value: Any) -> None:
    assert indented_json(value) == standard(value)


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=5), values)
def test_encoded_items_are_placed_as_they_are(items: list[Any], other: Any) -> None:
    document = {"records": other, "items": [Encoded(indented_json(v, 2)) for v in items]}
    assert indented_json(document) == standard({"records": other, "items": items})


class Colour(enum.IntEnum):
    RED = 1


class Tag(enum.StrEnum):
    A = "a"


@pytest.mark.parametrize(
    "value",
    [
        {"a": {}, "b": [], "c": [[]], "d": {"e": {}}},
        {1: "int key", None: "null key", 2.5: "float key", False: "bool key"},
        [math.nan, math.inf, -math.inf, -0.0, 1e300, 5e-324],
        [Colour.RED, Tag.A, {"k": Colour.RED}],
        ["é", "\u2028", "\x00", '"quoted"', "back\\slash", "line\nbreak"],
        "plain",
        7,
        None,
    ],
)
def test_edge_cases(value: Any) -> None:
    assert indented_json(value) == standard(value)


def test_deep_nesting_falls_back_to_the_standard_library() -> None:
    value: Any = "leaf"
    for depth in range(80):
        value = [value] if depth % 2 else {"k": value}
    assert indented_json(value) == standard(value)
