"""Facets: each value's count is the number of exact matches a filter on that value returns (property test against
the engine itself and against brute force over the snapshot's records), and the buckets' arithmetic."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from search.engine import EngineSettings
from search.filter.facets import MAX_BUCKETS, nice_step
from search.schema import FACET_NAMES, Filters, PriceFilter, SearchRequest
from tests.search.conftest import make_engine, merchant, product, variant

COLOURS = ("Red", "Blue", "Black", "White")
SIZES = ("S", "M", "L")
MERCHANTS = (merchant("shop-a.myshopify.com"), merchant("shop-b.myshopify.com", currency="EUR"),
             merchant("98765", platform="etsy"))
NO_FLOOR = EngineSettings(kind_threshold=None, etsy_api_key="k:s")


@st.composite
def catalogs(draw: Any) -> list[Any]:
    out = []
    for i in range(draw(st.integers(3, 14))):
        m = MERCHANTS[draw(st.integers(0, len(MERCHANTS) - 1))]
        cur = draw(st.sampled_from(("USD", "USD", "EUR")))
        vs = [variant({"Color": c, "Size": s}, price=draw(st.integers(100, 12_000)), currency=cur,
                      available=draw(st.booleans()))
              for c in draw(st.lists(st.sampled_from(COLOURS), min_size=1, max_size=3, unique=True))
              for s in draw(st.lists(st.sampled_from(SIZES), min_size=1, max_size=2, unique=True))]
        out.append(product(f"Wool Beanie {i}", vs, m=m, vendor=draw(st.sampled_from(("Acme", "Birch", None)))))
    return out


BASES = [Filters(), Filters(attributes={"size": ["M"]}), Filters(price=PriceFilter(max=5000)),
         Filters(available_only=True), Filters(platform=["shopify"])]


def _click(base: Filters, name: str, value: Any) -> Filters | None:
    """The filter a click on a facet value adds (the mapping the README documents)."""
    if name in ("color", "size", "material"):
        return base.model_copy(update={"attributes": {**base.attributes, name: [value.value]}})
    if name in ("vendor", "merchant", "platform"):
        return base.model_copy(update={name: [value.value]})
    if name == "price":
        return base.model_copy(update={"price": PriceFilter(min=value.min, max=value.max, currency=value.currency)})
    if name == "availability":
        return base.model_copy(update={"available_only": True}) if value.value == "available" else None
    raise AssertionError(name)


def _all(engine: Any, req: SearchRequest) -> list[Any]:
    return [r for r in engine.search(req).results if r.match.exact]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs(), st.sampled_from(BASES), st.sampled_from(["", "wool beanie"]), st.booleans())
def test_a_facet_count_is_what_a_filter_on_its_value_returns(products: list[Any], base: Filters, query: str,
                                                           buyable_only: bool) -> None:
    assume(query or base != Filters() or buyable_only)  # nothing to answer: refused (empty_query)
    engine = make_engine(products, list(MERCHANTS), settings=NO_FLOOR)
    common = {"query": query, "mode": "bm25", "limit": 100, "buyable_only": buyable_only}
    resp = engine.search(SearchRequest(filters=base, facets=list(FACET_NAMES), **common))
    exact = [r for r in resp.results if r.match.exact]
    assert set(resp.facets) == set(FACET_NAMES)
    for name, values in resp.facets.items():
        for v in values:
            clicked = _click(base, name, v)
            if clicked is None:
                continue
            got = _all(engine, SearchRequest(filters=clicked, **common))
            assert len(got) == v.count, (name, v)
            assert {r.doc_id for r in got} <= {r.doc_id for r in exact}  # a refinement of the answer
    avail = {v.value: v.count for v in resp.facets["availability"]}
    assert sum(avail.values()) == len(exact)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs())
def test_facet_counts_match_brute_force_over_the_records(products: list[Any]) -> None:
    engine = make_engine(products, list(MERCHANTS), settings=NO_FLOOR)
    resp = engine.search(SearchRequest(filters=Filters(attributes={"size": ["M"]}), limit=100, mode="bm25",
                                       facets=["color", "merchant", "platform", "price", "availability"]))
    ms = [p for p in products if any(o.value == "M" for v in p.variants for o in v.options)]
    qual = {p.doc_id: [v for v in p.variants if any(o.value == "M" for o in v.options)] for p in ms}
    colour = {v.value: v.count for v in resp.facets["color"]}
    for c in COLOURS:
        want = sum(1 for vs in qual.values() if any(o.value == c for v in vs for o in v.options))
        assert colour.get(c, 0) == want, c
    by_merchant = {v.value: v.count for v in resp.facets["merchant"]}
    for m in MERCHANTS:
        assert by_merchant.get(m.merchant_id, 0) == sum(1 for p in ms if p.merchant_id == m.merchant_id)
    assert {v.value: v.count for v in resp.facets["availability"]}.get("available", 0) == \
        sum(1 for vs in qual.values() if any(v.available for v in vs))
    for b in resp.facets["price"]:
        want = sum(1 for vs in qual.values() if any(v.currency == b.currency and b.min <= v.price <= b.max
                                                    for v in vs))
        assert b.count == want, b
    assert sum(1 for _ in resp.facets["platform"]) <= 2


def test_price_buckets_are_nice_disjoint_and_clipped_to_the_request() -> None:
    assert nice_step(0, 9_999, 2) == 2_000  # up to $99.99 in $20 buckets
    assert nice_step(1_250, 3_999, 2) == 500
    assert nice_step(0, 90_000, 0) == 20_000  # JPY has no minor unit
    for lo, hi in ((0, 1), (100, 123_456), (5, 7), (99, 10_000_000)):
        step = nice_step(lo, hi, 2)
        assert hi // step - lo // step + 1 <= MAX_BUCKETS
    m = merchant()
    ps = [product(f"Mug {i}", [variant(price=p)], m=m) for i, p in enumerate((500, 1500, 2600, 3900, 4100))]
    engine = make_engine(ps, [m], settings=NO_FLOOR)
    resp = engine.search(SearchRequest(query="mug", facets=["price"], limit=50,
                                       filters=Filters(price=PriceFilter(max=4000, currency="USD"))))
    buckets = resp.facets["price"]
    assert [b.value for b in buckets] == ["0-10 USD", "10-20 USD", "20-30 USD", "30-40 USD"]
    assert buckets[-1].max == 3999 and all(b.currency == "USD" for b in buckets)
    assert [b.count for b in buckets] == [1, 1, 1, 1]  # 4100 is outside the request, 4000 would be in


def test_unknown_facet_is_refused_and_no_facets_by_default() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SearchRequest(query="x", facets=["colour-ish"])  # type: ignore[list-item]
    m = merchant()
    engine = make_engine([product("Mug", [variant()], m=m)], [m])
    assert engine.search(SearchRequest(query="mug")).facets == {}
