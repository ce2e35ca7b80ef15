"""Buy-eligibility: one test per reason, the checkout link, and buyable_only agreeing with the per-variant rules."""

from __future__ import annotations

import numpy as np
import pytest

from search.engine import EngineSettings
from search.filter.catalog import CatalogArrays, parse_time
from search.filter.eligibility import NOTES, REASONS, Policy, assess, eligible_mask
from search.schema import SearchRequest
from tests.search.conftest import NOW, NOW_ISO, make_engine, merchant, product, variant

POLICY = Policy(stale_ttl_s=24 * 3600, max_quantity_per_item=10)


def _assess(p, m, *, v=None, country="US", crawled=NOW, quantity=1, policy=POLICY):
    return assess(p, v or p.variants[0], m, country=country, crawled_ts=crawled, now=NOW, policy=policy,
                  quantity=quantity)


def test_vocabulary_is_documented() -> None:
    assert {"out_of_stock", "no_price", "not_shipping_to_country", "merchant_unavailable", "gift_card",
            "personalization_required", "stale_data", "quantity_exceeded"} <= set(REASONS)
    assert all(REASONS.values()) and all(NOTES.values())


def test_eligible_variant_gets_cart_permalink() -> None:
    m = merchant("shop-a.myshopify.com")
    p = product("Beanie", [variant(vid="111")], m=m)
    e = _assess(p, m, quantity=2)
    assert e.eligible and e.reasons == ()
    assert e.checkout_url == "https://shop-a.myshopify.com/cart/111:2"
    assert e.checked_at.startswith("2027-01-15")


def test_out_of_stock() -> None:
    m = merchant()
    assert _assess(product("x", [variant(available=False)], m=m), m).reasons == ("out_of_stock",)
    assert _assess(product("x", [variant(quantity=0)], m=m), m).reasons == ("out_of_stock",)


@pytest.mark.parametrize("price", [None, 0])
def test_no_price(price) -> None:
    m = merchant()
    assert _assess(product("x", [variant(price=price)], m=m), m).reasons == ("no_price",)


def test_not_shipping_to_country_and_unknown_ships_to() -> None:
    m = merchant(ships_to=("US", "CA"))
    p = product("x", [variant()], m=m)
    assert _assess(p, m, country="CA").eligible
    assert _assess(p, m, country="VN").reasons == ("not_shipping_to_country",)
    unknown = merchant("u.myshopify.com", ships_to=())
    e = _assess(product("x", [variant()], m=unknown), unknown, country="VN")
    assert e.eligible and "ships_to_unknown" in e.notes


def test_digital_download_needs_no_shipping() -> None:
    m = merchant("123", platform="etsy", ships_to=("US",))
    p = product("Pattern PDF", [variant()], m=m, extra={"listing_type": "download"})
    e = _assess(p, m, country="JP")
    assert e.eligible and "digital_download" in e.notes
    assert e.checkout_url == p.url  # Etsy: the listing URL


def test_merchant_unavailable() -> None:
    m = merchant("123", platform="etsy", available=False)
    assert _assess(product("x", [variant()], m=m), m).reasons == ("merchant_unavailable",)
    assert "merchant_unavailable" in _assess(product("x", [variant()], m=m), None).reasons


def test_gift_card_and_personalization() -> None:
    m = merchant()
    assert _assess(product("Gift Card", [variant()], m=m, gift_card=True), m).reasons == ("gift_card",)
    assert _assess(product("Name Sign", [variant()], m=m, personalization_required=True), m).reasons == (
        "personalization_required",)


def test_stale_data() -> None:
    m = merchant()
    p = product("x", [variant()], m=m)
    assert _assess(p, m, crawled=NOW - 25 * 3600).reasons == ("stale_data",)
    assert _assess(p, m, crawled=NOW - 23 * 3600).eligible
    assert _assess(p, m, crawled=float("nan")).reasons == ("stale_data",)  # unknown age
    assert _assess(p, m, crawled=NOW - 10**7, policy=Policy(stale_ttl_s=None)).eligible


def test_quantity_exceeded() -> None:
    m = merchant()
    p = product("x", [variant(quantity=3)], m=m)
    assert _assess(p, m, quantity=3).eligible
    assert _assess(p, m, quantity=4).reasons == ("quantity_exceeded",)  # more than the known stock
    q = product("y", [variant()], m=m)
    assert _assess(q, m, quantity=11).reasons == ("quantity_exceeded",)  # more than the policy
    assert _assess(q, m, quantity=2, policy=Policy(max_quantity_per_item=1)).reasons == ("quantity_exceeded",)


def test_several_reasons_at_once_and_on_sale_note() -> None:
    m = merchant(ships_to=("US",))
    p = product("x", [variant(price=0, available=False)], m=m, gift_card=True)
    assert set(_assess(p, m, country="FR").reasons) == {"out_of_stock", "no_price", "not_shipping_to_country",
                                                         "gift_card"}


def test_mask_agrees_with_assess_and_buyable_only() -> None:
    a = merchant("a.myshopify.com", ships_to=("US",))
    b = merchant("b.myshopify.com", ships_to=())
    c = merchant("9", platform="etsy", available=False)
    ps = [
        product("ok beanie", [variant()], m=a),
        product("sold out beanie", [variant(available=False)], m=a),
        product("free beanie", [variant(price=0)], m=b),
        product("vacation beanie", [variant()], m=c),
        product("gift beanie", [variant()], m=a, gift_card=True),
        product("custom beanie", [variant()], m=b, personalization_required=True),
        product("mixed beanie", [variant(available=False, price=100), variant(price=900)], m=b),
    ]
    eng = make_engine(ps, [a, b, c])
    cat = eng._state.cat
    for country in ("US", "FR"):
        mask = eligible_mask(cat, country=country, now=NOW, policy=POLICY)
        for row, p in enumerate(cat.products):
            for i, v in enumerate(p.variants):
                e = assess(p, v, cat.merchants.get(p.merchant_id), country=country,
                           crawled_ts=float(cat.prod_crawled[row]), now=NOW, policy=POLICY)
                assert mask[int(cat.var_start[row]) + i] == e.eligible, (p.title, country)
        for rows in ([6, 0, 3], [1], [], list(range(len(ps)))):  # candidates only (buyable_first): the same values
            part = eligible_mask(cat, country=country, now=NOW, policy=POLICY, rows=np.asarray(rows, dtype=np.int64))
            inside = np.zeros(cat.n_variants, dtype=bool)
            for r in rows:
                inside[cat.variants_of(r)] = True
            assert part.shape == mask.shape and np.array_equal(part[inside], mask[inside]) and not part[~inside].any()
    resp = eng.search(SearchRequest(query="beanie", buyable_only=True, limit=50))
    assert sorted(r.title for r in resp.results) == ["mixed beanie", "ok beanie"]
    assert all(r.buy.eligible for r in resp.results)
    mixed = next(r for r in resp.results if r.title == "mixed beanie")
    assert mixed.variant.price is not None and mixed.variant.price.amount == 900  # the buyable variant
    resp = eng.search(SearchRequest(query="beanie", limit=50))
    reasons = {r.title: r.buy.reasons for r in resp.results}
    assert reasons["vacation beanie"] == ["merchant_unavailable"]
    assert reasons["gift beanie"] == ["gift_card"]


def test_stale_snapshot_marks_results_stale() -> None:
    m = merchant()
    eng = make_engine([product("beanie", [variant()], m=m)], [m], now=parse_time(NOW_ISO) + 3 * 86400)
    r = eng.search(SearchRequest(query="beanie")).results[0]
    assert r.buy.reasons == ["stale_data"] and r.buy.checked_at == "2027-01-15T08:00:00Z"
    fresh = make_engine([product("beanie", [variant()], m=m)], [m], now=parse_time(NOW_ISO) + 3 * 86400,
                        settings=EngineSettings(stale_ttl_s=7 * 86400))
    assert fresh.search(SearchRequest(query="beanie")).results[0].buy.eligible


def test_catalog_arrays_unknown_crawl_time() -> None:
    m = merchant()
    cat = CatalogArrays.build([product("x", [variant()], m=m)], {m.merchant_id: m}, {})
    assert not eligible_mask(cat, country="US", now=NOW, policy=POLICY).any()
