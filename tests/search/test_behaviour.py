"""Issue 11 behaviour cases on the bundled sample catalog (1 negation, 2 currency words, 8 several items,
9 vendor keys), plus properties: an excluded value never appears in an exact result; a price read from the
query is always met in its currency."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.engine import Engine
from search.filter.keys import text_tokens, value_key
from search.schema import Context, SearchRequest
from tests.search.conftest import load_catalog, make_engine, merchant, product, variant


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> Engine:
    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    return make_engine(products, merchants)


def _colours(r) -> list[str]:  # noqa: ANN001
    return [v for k, v in r.variant.options.items() if k.lower() in ("color", "colour", "farbe", "couleur")]


def _shows(r, word: str) -> bool:  # noqa: ANN001
    return any(value_key(word) == value_key(c) or value_key(word) in text_tokens(c) for c in _colours(r))


# 1 negation ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "excluded"), [
    ("a scarf, not black", "black"), ("beanie that isn't red", "red"), ("anything but black beanie", "black"),
    ("hiking boots in any colour except black, size 9", "black"), ("gorro sin negro", "negro"),
])
def test_negation_is_an_exclusion_never_a_filter_for_it(sample: Engine, query: str, excluded: str) -> None:
    resp = sample.search(SearchRequest(query=query, limit=50))
    f = resp.interpreted.filters
    assert excluded in f.exclude.get("color", [])
    assert "color" not in f.attributes
    assert excluded not in resp.interpreted.text.lower().split()
    assert not any(_shows(r, excluded) or _shows(r, "black" if excluded == "negro" else excluded)
                   for r in resp.results if r.match.exact)


# 2 currency words ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "cur", "lo", "hi"), [
    ("warm hat under 20 pounds", "GBP", None, 2000), ("beanie 20 quid", "GBP", None, 2000),
    ("hat under 50 bucks", "USD", None, 5000), ("beanie around $60", "USD", 4800, 7200),
    ("scarf for €30", "EUR", None, 3000), ("hat under 5000 yen", "JPY", None, 5000),
])
def test_currency_words_and_approximate_prices(sample: Engine, query: str, cur: str, lo: int | None,
                                               hi: int | None) -> None:
    resp = sample.search(SearchRequest(query=query, limit=20))
    p = resp.interpreted.filters.price
    assert p is not None and (p.currency, p.min, p.max) == (cur, lo, hi)
    assert not any(ch.isdigit() for ch in resp.interpreted.text)  # the number left the text: no "20L" match
    for r in resp.results:
        if r.match.exact:
            assert r.variant.price is not None and r.variant.price.currency == cur
            assert (lo is None or r.variant.price.amount >= lo) and r.variant.price.amount <= hi
    if lo is not None:
        assert any("band" in n for n in resp.interpreted.notes)


def test_cheapest_sorts_exact_results_by_price(sample: Engine) -> None:
    resp = sample.search(SearchRequest(query="cheapest beanie", limit=10, context=Context(currency="USD")))
    assert resp.interpreted.sort == "price_asc" and resp.interpreted.text == "beanie"
    top = resp.results[:5]
    assert all("beanie" in r.title.lower() for r in top)  # the cheapest beanies, not the cheapest mug
    prices = [r.variant.price.amount for r in top if r.variant.price and r.variant.price.currency == "USD"]
    assert len(prices) == len(top) and prices == sorted(prices)


# 8 several items ------------------------------------------------------------------------------------
def test_several_items_are_answered_each_with_its_own_constraints(sample: Engine) -> None:
    resp = sample.search(SearchRequest(query="a red beanie and a navy scarf", limit=10))
    assert [i.query for i in resp.items] == ["a red beanie", "a navy scarf"]
    red, navy = resp.items
    assert "red" in red.interpreted.filters.attributes.get("color", [])
    assert "navy" in navy.interpreted.filters.attributes.get("color", [])
    assert "navy" not in red.interpreted.filters.attributes.get("color", [])


def test_items_keep_their_own_exclusions(sample: Engine) -> None:
    resp = sample.search(SearchRequest(query="a grey scarf, not black, and a red beanie", limit=10))
    assert len(resp.items) == 2
    scarf, beanie = resp.items
    assert scarf.interpreted.filters.exclude.get("color") == ["black"]
    assert not beanie.interpreted.filters.exclude
    assert "red" in beanie.interpreted.filters.attributes.get("color", [])


@pytest.mark.parametrize("query", ["black and white sneakers", "salt and pepper grinder", "red beanie"])
def test_one_item_is_not_split(sample: Engine, query: str) -> None:
    assert sample.search(SearchRequest(query=query)).items == []


# 9 vendor keys -----------------------------------------------------------------------------------------
def test_vendor_with_dots_is_found_by_brand() -> None:
    m = merchant()
    ps = [product("Petit Standard Tee", [variant({"Size": "XXL"})], m=m, vendor="A.P.C."),
          product("Plain Tee", [variant({"Size": "XXL"})], m=m, vendor="Other")]
    resp = make_engine(ps, [m]).search(SearchRequest(query="A.P.C. tee size 2XL"))
    assert [r.title for r in resp.results if r.match.exact] == ["Petit Standard Tee"]


# buyer preferences and bad input ------------------------------------------------------------------
def test_context_preferences_are_soft_and_echoed(sample: Engine) -> None:
    plain = sample.search(SearchRequest(query="beanie", limit=100))
    pref = sample.search(SearchRequest(query="beanie", limit=100,
                                       context=Context(country="Germany", sizes=["M"])))
    assert pref.interpreted.preferences == {"sizes": ["M"]} and pref.interpreted.country == "DE"
    assert len(pref.results) == len(plain.results)  # never a filter: the same number of answers


@pytest.mark.parametrize("query", ["hat under twenty dollars", "beanie colour zzz", "шапка красная"])
def test_bad_input_gets_a_note_and_keeps_the_words(sample: Engine, query: str) -> None:
    resp = sample.search(SearchRequest(query=query))
    assert resp.interpreted.notes
    assert resp.interpreted.text


# properties -----------------------------------------------------------------------------------------
_COLOURS = ["black", "red", "blue", "white", "green", "navy", "grey"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(colour=st.sampled_from(_COLOURS), noun=st.sampled_from(["beanie", "scarf", "boots", "hat", "mug"]),
       cue=st.sampled_from(["not {c}", "no {c}", "any colour except {c}", "that isn't {c}"]))
def test_property_excluded_value_never_in_exact_result(sample: Engine, colour: str, noun: str, cue: str) -> None:
    resp = sample.search(SearchRequest(query=f"{noun} {cue.format(c=colour)}", limit=30))
    assert colour in resp.interpreted.filters.exclude.get("color", [])
    assert not any(_shows(r, colour) for r in resp.results if r.match.exact)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(5, 300), form=st.sampled_from(["under ${a}", "under {a} euros", "under £{a}",
                                                         "around ${a}", "{a} quid", "less than {a} dollars"]))
def test_property_price_read_is_met_in_its_currency(sample: Engine, amount: int, form: str) -> None:
    resp = sample.search(SearchRequest(query=f"beanie {form.format(a=amount)}", limit=30))
    p = resp.interpreted.filters.price
    assert p is not None and p.currency is not None
    for r in resp.results:
        if r.match.exact:
            assert r.variant.price is not None and r.variant.price.currency == p.currency
            assert (p.min is None or r.variant.price.amount >= p.min)
            assert (p.max is None or r.variant.price.amount <= p.max)


def test_items_shown_in_cli_output_and_http_model(sample: Engine) -> None:
    from io import StringIO

    from rich.console import Console

    from cli.output import print_search
    from search.schema import SearchResponse

    resp = sample.search(SearchRequest(query="a red beanie and a navy scarf"))
    buf = StringIO()
    print_search(resp, Console(file=buf, width=200))
    text = buf.getvalue()
    assert "item: a red beanie" in text and "item: a navy scarf" in text
    again = SearchResponse.model_validate_json(resp.model_dump_json())  # HTTP and MCP send this model
    assert [i.query for i in again.items] == ["a red beanie", "a navy scarf"]


def test_explicit_exclude_filter_and_unknown_key(sample: Engine) -> None:
    from indexer.errors import QueryError
    from search.schema import Filters

    resp = sample.search(SearchRequest(query="beanie", filters=Filters(exclude={"color": "black"}), limit=50))
    assert resp.interpreted.filters.exclude == {"color": ["black"]}
    assert not any(_shows(r, "black") for r in resp.results if r.match.exact)
    with pytest.raises(QueryError):
        sample.search(SearchRequest(query="beanie", filters=Filters(exclude={"no_such_option": "x"})))


# composite options (issue 11, dev q252 "Queen Nefertiti t-shirt in black, size M, under $20 and in stock") ----------
def test_a_composite_option_answers_exact(sample: Engine) -> None:
    """Etsy's ``Color / Style`` = ``Black / T-Shirt`` is colour black: the tee is the exact answer, that variant."""
    resp = sample.search(SearchRequest(query="hieroglyph t-shirt in black, size M, under £20 and in stock"))
    top = resp.results[0]
    assert top.title.startswith("Hand Printed Hieroglyph Tee") and top.match.exact
    assert top.variant.options == {"Size": "M", "Color / Style": "Black / T-Shirt"}
