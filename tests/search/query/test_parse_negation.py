"""Query understanding (search.query.parse.parse_query): exclusions ("not black"), "cheapest", currency words
and price bands, and notes for words the reader could not use."""

from __future__ import annotations

from typing import Any

import pytest

from search.query.parse import ParsedQuery, parse_query


def _p(q: str, v: Any = None, **kw: Any) -> ParsedQuery:
    return parse_query(q, v, **kw)


# ---------------------------------------------------------------- negation, cheapest, notes
@pytest.mark.parametrize(("query", "kind", "values", "text"), [
    ("a scarf, not black", "color", ("black",), "scarf"),
    ("hiking boots in any colour except black, size 9", "color", ("black",), "hiking boots"),
    ("beanie that isn't red", "color", ("red",), "beanie"),
    ("no red beanie", "color", ("red",), "beanie"),
    ("bufanda sin negro", "color", ("negro", "black"), "bufanda"),
    ("écharpe pas noir", "color", ("noir", "black"), "écharpe"),
    ("Mütze nicht schwarz", "color", ("schwarz", "black"), "Mütze"),
    ("scarf, not leather", "material", ("leather",), "scarf"),
])
def test_negation_reads_an_exclusion(query: str, kind: str, values: tuple[str, ...], text: str) -> None:
    p = _p(query)
    assert p.exclude[kind] == values
    assert kind not in p.attributes
    assert p.text == text


@pytest.mark.parametrize("query", ["no-show socks", "not too heavy backpack", "non-stick pan"])
def test_negation_cue_without_a_value_is_left_alone(query: str) -> None:
    assert _p(query).exclude == {}


def test_cheapest_is_a_sort_not_a_filter() -> None:
    p = _p("cheapest red beanie")
    assert p.sort == "price_asc" and p.text == "beanie" and p.price_max is None


@pytest.mark.parametrize(("query", "bounds"), [
    ("warm hat under 20 pounds", (None, 2000, "GBP")), ("beanie 20 quid", (None, 2000, "GBP")),
    ("50 bucks hat", (None, 5000, "USD")), ("around $60 boots", (4800, 7200, "USD")),
    ("roughly 60 dollars", (4800, 7200, "USD")), ("under 5000 yen", (None, 5000, "JPY")),
    ("scarf for €30", (None, 3000, "EUR")),
])
def test_currency_words_and_bands(query: str, bounds: tuple[int | None, int | None, str]) -> None:
    p = _p(query)
    assert (p.price_min, p.price_max, p.currency) == bounds
    assert not any(ch.isdigit() for ch in p.text)


@pytest.mark.parametrize("query", ["hat under twenty dollars", "beanie colour zzz", "шапка красная"])
def test_unread_words_get_a_note_and_stay(query: str) -> None:
    p = _p(query)
    assert p.notes and p.text == query
