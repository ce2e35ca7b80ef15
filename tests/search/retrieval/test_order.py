"""Sort orders against brute force (property tests through the engine), and buyable_first's bands."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.engine import EngineSettings
from search.retrieval.order import buyable_first, relevance_bands
from search.schema import Context, Filters, SearchRequest
from tests.search.conftest import make_engine, merchant, product, variant

M_US, M_EU = merchant("shop-a.myshopify.com"), merchant("shop-b.myshopify.com", currency="EUR")
NO_FLOOR = EngineSettings(kind_threshold=None)


@st.composite
def catalogs(draw: Any) -> list[Any]:
    out = []
    for i in range(draw(st.integers(2, 12))):
        m = draw(st.sampled_from((M_US, M_EU)))
        cur = draw(st.sampled_from(("USD", "EUR")))
        prices = draw(st.lists(st.one_of(st.none(), st.integers(100, 9_000)), min_size=1, max_size=3))
        vs = [variant({"Size": s}, price=p, currency=cur, available=draw(st.booleans()))
              for s, p in zip(("S", "M", "L"), prices, strict=False)]
        day = draw(st.one_of(st.none(), st.integers(1, 28)))
        p = product(f"Wool Beanie {i}", vs, m=m)
        out.append(replace(p, updated_at=f"2026-02-{day:02d}T10:00:00Z" if day else None))
    return out


def _price(r: Any) -> tuple[str, int] | None:
    return (r.variant.price.currency, r.variant.price.amount) if r.variant.price is not None else None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs(), st.sampled_from(["price_asc", "price_desc"]), st.sampled_from([None, "USD", "EUR"]),
       st.sampled_from(["wool beanie", ""]))
def test_price_sort_orders_by_the_returned_variant_within_currencies(products: list[Any], sort: str,
                                                                      currency: str | None, query: str) -> None:
    engine = make_engine(products, [M_US, M_EU], settings=NO_FLOOR)
    common: dict[str, Any] = {"query": query, "mode": "bm25", "limit": 100, "context": Context(currency=currency),
                              "filters": None if query else Filters(platform=["shopify"])}
    plain = engine.search(SearchRequest(**common))
    resp = engine.search(SearchRequest(sort=sort, **common))  # type: ignore[arg-type]
    assert sorted(r.doc_id for r in resp.results) == sorted(r.doc_id for r in plain.results)  # a permutation
    assert resp.interpreted.sort == sort
    prices = [_price(r) for r in resp.results]
    priced = [p for p in prices if p is not None]
    assert prices == priced + [None] * (len(prices) - len(priced))  # unpriced last
    first = currency or (priced[0][0] if priced else None)
    runs = [c for k, c in enumerate(p[0] for p in priced) if k == 0 or priced[k - 1][0] != c]
    groups = list(dict.fromkeys(runs))
    assert runs == groups  # each currency is one run
    if priced and first in groups:
        assert groups[0] == first
    for c in groups:
        amounts = [a for cur, a in priced if cur == c]
        assert amounts == sorted(amounts, reverse=sort == "price_desc")
    noted = any("no conversion" in n for n in resp.interpreted.notes)
    assert noted == (len(groups) > 1)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs())
def test_newest_sorts_by_source_time_unknown_last(products: list[Any]) -> None:
    engine = make_engine(products, [M_US, M_EU], settings=NO_FLOOR)
    resp = engine.search(SearchRequest(query="wool beanie", mode="bm25", limit=100, sort="newest"))
    by_id = {p.doc_id: p.updated_at for p in products}
    times = [by_id[r.doc_id] for r in resp.results]
    known = [t for t in times if t is not None]
    assert times == sorted(known, reverse=True) + [None] * (len(times) - len(known))


def test_an_explicit_sort_wins_over_cheapest_in_the_words() -> None:
    m = merchant()
    ps = [product(f"Wool Beanie {i}", [variant(price=p)], m=m) for i, p in enumerate((3000, 1000, 2000))]
    engine = make_engine(ps, [m], settings=NO_FLOOR)
    cheapest = engine.search(SearchRequest(query="cheapest wool beanie"))
    assert cheapest.interpreted.sort == "price_asc"
    assert [r.variant.price.amount for r in cheapest.results] == [1000, 2000, 3000]  # type: ignore[union-attr]
    desc = engine.search(SearchRequest(query="cheapest wool beanie", sort="price_desc"))
    assert desc.interpreted.sort == "price_desc"
    assert [r.variant.price.amount for r in desc.results] == [3000, 2000, 1000]  # type: ignore[union-attr]


def test_relevance_bands_group_scores_within_a_quarter_deviation_of_the_band_start() -> None:
    assert relevance_bands([5.0, 4.9, 4.8, 1.0, 0.95, -3.0]) == [0, 0, 0, 1, 1, 2]
    assert relevance_bands([1.0, 0.99]) == [0, 1]  # under three results, only equal scores are similar
    assert relevance_bands([1.0, 1.0]) == [0, 0]
    assert relevance_bands([]) == []


def test_buyable_first_moves_buyable_results_up_within_a_band_only() -> None:
    order = [(1, 5.0, True), (2, 4.9, True), (3, 1.0, True), (4, 0.9, True), (9, 0.5, False)]
    buyable = {2, 3}
    got = buyable_first(order, lambda r: r in buyable)
    assert [o[0] for o in got] == [2, 1, 3, 4, 9]  # 3 never passes 1 (another band); near matches stay last
    assert buyable_first(order, lambda r: True) == order


def test_rates_compare_prices_across_currencies_and_say_so() -> None:
    m_us, m_eu = merchant("shop-a.myshopify.com"), merchant("shop-b.myshopify.com", currency="EUR")
    ps = [product("Wool Beanie A", [variant(price=2000, currency="USD")], m=m_us),
          product("Wool Beanie B", [variant(price=1500, currency="EUR")], m=m_eu),
          product("Wool Beanie C", [variant(price=1000, currency="GBP")], m=m_eu)]
    engine = make_engine(ps, [m_us, m_eu], settings=NO_FLOOR)
    plain = engine.search(SearchRequest(query="wool beanie", sort="price_asc", context=Context(currency="USD")))
    assert [r.title for r in plain.results] == ["Wool Beanie A", "Wool Beanie B", "Wool Beanie C"]  # USD first
    assert any("no conversion" in n for n in plain.interpreted.notes)
    rates = {"USD": 1.0, "EUR": 1.5}  # 15 EUR = 22.5 USD > 20 USD; GBP has no rate: after the converted ones
    conv = engine.search(SearchRequest(query="wool beanie", sort="price_asc", rates=rates))
    assert [r.title for r in conv.results] == ["Wool Beanie A", "Wool Beanie B", "Wool Beanie C"]
    desc = engine.search(SearchRequest(query="wool beanie", sort="price_desc", rates=rates))
    assert [r.title for r in desc.results] == ["Wool Beanie B", "Wool Beanie A", "Wool Beanie C"]
    assert any("converted with the given rates (EUR, USD)" in n and "GBP" in n for n in desc.interpreted.notes)
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SearchRequest(query="x", rates={"EUR": 0})
