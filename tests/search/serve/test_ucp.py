"""The UCP catalog-search facade: its answers validate against the UCP JSON Schemas (Draft 2020-12, every
schema file in a ``referencing`` registry keyed by ``$id``), over a real server and engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from search.schema import Money, ProductOut, SearchRequest, VariantOut
from search.serve.http import create_app
from search.serve.ucp import UcpSearchRequest, to_search_request, to_ucp_product
from tests.search.apiworld import World, running_api, schema_errors, ucp_validator


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[httpx.Client]:
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
        with httpx.Client(base_url=base, timeout=30, trust_env=False) as c:
            yield c


@pytest.fixture(scope="module")
def response_schema() -> Any:
    return ucp_validator("shopping/catalog_search.json#/$defs/search_response")


@pytest.fixture(scope="module")
def error_schema() -> Any:
    return ucp_validator("common/types/error_response.json")


def _search(client: httpx.Client, body: dict[str, Any], schema: Any) -> dict[str, Any]:
    resp = client.post("/ucp/catalog/search", json=body)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert schema_errors(schema, doc) == []
    return doc


def test_request_schema_accepts_what_the_tests_send() -> None:
    req = ucp_validator("shopping/catalog_search.json#/$defs/search_request")
    body = {"query": "wool beanie", "context": {"address_country": "CA", "currency": "CAD", "intent": "a gift"},
            "filters": {"categories": ["Hats"], "price": {"min": 1000, "max": 5000}},
            "pagination": {"limit": 5}}
    assert schema_errors(req, body) == []
    sr = to_search_request(UcpSearchRequest.model_validate(body))
    assert sr.context.country == "CA" and sr.context.currency == "CAD" and sr.limit == 5
    assert sr.filters is not None and sr.filters.product_type == ["Hats"]
    assert sr.filters.price is not None and (sr.filters.price.min, sr.filters.price.max) == (1000, 5000)
    assert sr.filters.price.currency == "CAD"


def test_search_response_validates_and_matches_the_engine(world: World, client: httpx.Client,
                                                          response_schema: Any) -> None:
    doc = _search(client, {"query": "merino beanie", "context": {"address_country": "US"},
                           "pagination": {"limit": 5}}, response_schema)
    direct = world.engine.search(SearchRequest(query="merino beanie", limit=5))
    assert [p["id"] for p in doc["products"]] == [r.doc_id for r in direct.results]
    for product, result in zip(doc["products"], direct.results, strict=True):
        featured = product["variants"][0]
        assert featured["id"] == result.variant.id  # the engine's chosen variant comes first
        assert result.variant.price is not None and featured["price"]["amount"] == result.variant.price.amount
        assert featured["availability"] == {"available": result.variant.available,
                                            "status": "in_stock" if result.variant.available else "out_of_stock"}
        full = world.engine.get_product(result.doc_id, "US")
        assert len(product["variants"]) == sum(1 for v in full.variants if v.price is not None)
        amounts = [v["price"]["amount"] for v in product["variants"]]
        assert product["price_range"]["min"]["amount"] == min(amounts)
        assert product["price_range"]["max"]["amount"] == max(amounts)
        assert product["metadata"]["content_source"] == "merchant"
        assert featured["metadata"]["eligible"] == result.buy.eligible
    assert doc["messages"][0]["code"] == "merchant_content"
    assert doc["ucp"]["status"] == "success"


def test_cursor_pagination(client: httpx.Client, response_schema: Any) -> None:
    body: dict[str, Any] = {"query": "mug", "pagination": {"limit": 4}}
    seen: list[str] = []
    for _ in range(3):
        doc = _search(client, body, response_schema)
        seen += [p["id"] for p in doc["products"]]
        assert doc["pagination"]["has_next_page"] is True and doc["pagination"]["cursor"]
        body = {**body, "pagination": {"limit": 4, "cursor": doc["pagination"]["cursor"]}}
    assert len(seen) == len(set(seen)) == 12
    clamped = _search(client, {"query": "mug", "pagination": {"limit": 500}}, response_schema)
    assert len(clamped["products"]) <= 100  # UCP lets a server clamp the page size


def test_filters_price_categories_country(world: World, client: httpx.Client, response_schema: Any) -> None:
    cheap = _search(client, {"query": "mug", "context": {"currency": "GBP"}, "filters": {"price": {"max": 2500}}},
                    response_schema)
    assert cheap["products"]
    for p in cheap["products"]:
        assert p["variants"][0]["price"]["amount"] <= 2500 and p["variants"][0]["price"]["currency"] == "GBP"
    hats = _search(client, {"query": "warm", "filters": {"categories": ["Hats"]}}, response_schema)
    assert hats["products"]
    assert all(p["categories"] == [{"value": "Hats", "taxonomy": "merchant"}] for p in hats["products"])
    no_cur = _search(client, {"query": "mug", "filters": {"price": {"max": 2500}}}, response_schema)
    assert "price_filter_currency" in [m["code"] for m in no_cur["messages"]]
    # The buyer country reaches eligibility: thames-pottery ships to GB, IE, FR, DE and NL, not to the US.
    body = {"query": "mug", "filters": {"merchant": "thames-pottery.myshopify.com"}}
    gb = _search(client, {**body, "context": {"address_country": "GB"}}, response_schema)
    us = _search(client, {**body, "context": {"address_country": "US"}}, response_schema)
    assert gb["products"] and us["products"]
    assert all("not_shipping_to_country" in p["variants"][0]["metadata"]["reasons"] for p in us["products"])
    assert not any("not_shipping_to_country" in p["variants"][0]["metadata"]["reasons"] for p in gb["products"])
    aisle_ext = _search(client, {"query": "beanie", "filters": {"attributes": {"color": "charcoal"}}},
                        response_schema)
    for p in aisle_ext["products"]:
        assert "charcoal" in " ".join(o["label"].lower() for o in p["variants"][0]["options"])


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"query": "hat", "filters": {"colour": ["red"]}}, 400, "unknown_filter"),
    ({"query": "x" * 2001}, 400, "query_too_long"),
    ({"query": "hat", "context": {"address_country": "United States"}}, 422, "invalid_request"),
    ({"query": "hat", "filters": {"price": {"min": 5000, "max": 100}}}, 400, "bad_price_range"),
    ({"query": "hat", "pagination": {"cursor": "garbage"}}, 400, "bad_cursor"),
    ({"query": "hat", "pagination": {"limit": 0}}, 400, "bad_limit"),
    ({"query": ""}, 400, "empty_query"),
])
def test_errors_are_ucp_error_responses(client: httpx.Client, error_schema: Any, body: dict[str, Any], status: int,
                                        code: str) -> None:
    resp = client.post("/ucp/catalog/search", json=body)
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert schema_errors(error_schema, doc) == []
    assert doc["ucp"]["status"] == "error" and doc["messages"][0]["code"] == code


def test_malformed_json_is_a_ucp_error(client: httpx.Client, error_schema: Any) -> None:
    resp = client.post("/ucp/catalog/search", content=b"{", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and schema_errors(error_schema, resp.json()) == []


def test_variant_without_price_is_left_out() -> None:
    def v(vid: str, amount: int | None) -> VariantOut:
        return VariantOut(id=vid, title=vid, options={"Size": vid}, available=True,
                          price=Money(amount=amount, currency="USD") if amount is not None else None)

    from search.schema import BuyInfo, MerchantOut

    buy = BuyInfo(eligible=True, reasons=[], checkout_url=None, checked_at="2026-01-01T00:00:00Z")
    p = ProductOut(doc_id="shopify:s:1", title="T", platform="shopify", merchant=MerchantOut(id="s", name="S"),
                   url="https://s.example/p", variants=[v("S", None), v("M", 1200), v("L", 1500)], buy=[buy] * 3)
    out = to_ucp_product(p, featured="L")
    assert out is not None and [x["id"] for x in out["variants"]] == ["L", "M"]
    assert out["price_range"]["min"]["amount"] == 1200 and out["description"] == {"plain": "T"}
    assert schema_errors(ucp_validator("shopping/types/product.json"), out) == []
    none = ProductOut(doc_id="shopify:s:2", title="T", platform="shopify", merchant=MerchantOut(id="s", name="S"),
                      url="https://s.example/p", variants=[v("S", None)], buy=[buy])
    assert to_ucp_product(none) is None
