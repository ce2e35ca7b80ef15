"""Issue 12 item 4: patterns on the shopper's words do not backtrack. The timings per shape (under 50 ms)
are measured by ``benchmarks/adversarial.py``; here a few shapes run through the very patterns that were
quadratic or worse (``search.filter.keys.unify_units``: 5-7 s; ``search.items.split_items``: 75 s) with a
tripwire of 2 s that only a return of the backtracking can reach, and the rewrites keep their answers."""

from __future__ import annotations

import time

import pytest

from search.filter.keys import unify_units, value_key
from search.items import split_items
from search.query.parse import parse_query
from tests.search.conftest import make_engine, merchant, product, variant

TRIPWIRE_S = 2.0


@pytest.mark.parametrize("text", [
    "size " + "9" * 1995, "size " + "٩" * 1995, "9." * 1000, "9," * 1000, "9-" * 1000, '9"' * 1000,
    "9 1/2 " * 333, "9" + " " * 1990 + "inch",
])
def test_unit_patterns_are_linear(text: str) -> None:
    t = time.perf_counter()
    unify_units(text)
    value_key(text)
    parse_query(text, None)
    assert time.perf_counter() - t < TRIPWIRE_S


def test_the_item_splitter_is_linear_and_still_splits() -> None:
    m = merchant()
    eng = make_engine([product("Red Beanie", [variant({"Color": "Red"})], m=m),
                       product("Navy Scarf", [variant({"Color": "Navy"})], m=m)], [m])
    cat = eng.catalog
    t = time.perf_counter()
    assert split_items("9" + " " * 1990 + "inch", cat) == ["9" + " " * 1990 + "inch"]
    split_items(" and" * 500, cat)
    assert time.perf_counter() - t < TRIPWIRE_S
    assert split_items("a red beanie   and  a navy scarf", cat) == ["a red beanie", "a navy scarf"]
    assert split_items("black and white scarf", cat) == ["black and white scarf"]


@pytest.mark.parametrize(("raw", "key"), [
    ("55 Inch", "55in"), ('55"', "55in"), ("40-ounce", "40oz"), ("6-12 months", "6-12mo"), ("2 years", "2y"),
    ("7 1/2", "7.5"), ("12,5 cm", "12.5cm"), ("1.5.5in", "1.5.5in"), ("Size 7", "7"), ("10' x 12'", "10x12"),
    ("a9in", "a9in"),
])
def test_unit_keys_unchanged(raw: str, key: str) -> None:
    assert value_key(raw) == key
