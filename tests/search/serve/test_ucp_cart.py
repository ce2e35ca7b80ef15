"""aisle's multi-merchant cart links in UCP's shapes, over a real world (storefront simulator → crawl → index
→ engine; live re-checks read the simulator): ``POST /ucp/carts`` / ``GET /ucp/carts/{id}`` answer
``cart.json`` (or a business-outcome ``error_response``), ``GET /ucp/buy/{items}`` is a UCP permalink."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from search.schema import CartItem, CheckRequest
from search.serve.http import create_app
from search.serve.ucp_cart import parse_permalink_items, permalink_token
from tests.search.apiworld import World, running_api, schema_errors, ucp_validator

CART = "shopping/cart.json"
ERROR = "common/types/error_response.json"


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[httpx.Client]:
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
        with httpx.Client(base_url=base, trust_env=False, timeout=60) as c:
            yield c


def _buyable(world: World, *, currency: str, n: int, skip: tuple[str, ...] = (),
             platform: str | None = None) -> tuple[str, list[tuple[str, int]]]:
    """(merchant id, [(variant id, price)]) of ``n`` in-stock variants of one merchant shipping to the US."""
    snap = world.engine.snapshot
    for mid, m in snap.merchants.items():
        if mid in skip or m.currency != currency or (platform and m.platform != platform) or (
                m.ships_to and "US" not in m.ships_to):
            continue
        found = [(v.variant_id, v.price) for p in snap.products if p.merchant_id == mid and not p.gift_card
                 and not p.personalization_required for v in p.variants if v.available and v.price]
        if len(found) >= n:
            return mid, found[:n]
    raise AssertionError(f"no merchant with {n} buyable {currency} variants")


def _cart(client: httpx.Client, lines: list[tuple[str, int]], country: str = "US",
          schema: str = CART) -> dict[str, Any]:
    body = {"line_items": [{"item": {"id": v}, "quantity": q} for v, q in lines],
            "context": {"address_country": country}}
    resp = client.post("/ucp/carts", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    doc = resp.json()
    assert schema_errors(ucp_validator(schema), doc) == []
    return doc


def test_one_merchant_cart(world: World, client: httpx.Client) -> None:
    _, [(v1, p1), (v2, p2)] = _buyable(world, currency="USD", n=2, platform="shopify")
    doc = _cart(client, [(v1, 2), (v2, 1)])
    assert doc["ucp"]["status"] == "success" and "dev.ucp.shopping.cart" in doc["ucp"]["capabilities"]
    assert [(li["item"]["id"], li["quantity"], li["item"]["price"]) for li in doc["line_items"]] == \
        [(v1, 2, p1), (v2, 1, p2)]
    assert doc["currency"] == "USD"
    assert doc["totals"] == [{"type": "subtotal", "amount": 2 * p1 + p2}, {"type": "total", "amount": 2 * p1 + p2}]
    direct = world.engine.check(CheckRequest(items=[CartItem(variant_id=v1, quantity=2), CartItem(variant_id=v2)],
                                             country="US"))
    assert doc["continue_url"] == direct.checkouts[0].checkout_url and doc["continue_url"].endswith(
        f"/cart/{v1}:2,{v2}:1")
    again = client.get(f"/ucp/carts/{doc['id']}")  # get_cart: the same lines, re-checked now
    assert again.status_code == 200 and schema_errors(ucp_validator(CART), again.json()) == []
    assert again.json()["line_items"] == doc["line_items"] and again.json()["id"] == doc["id"]


def test_several_merchants_get_a_link_each(world: World, client: httpx.Client) -> None:
    mid_a, [(va, _)] = _buyable(world, currency="USD", n=1, platform="shopify")
    mid_b, [(vb, _)] = _buyable(world, currency="USD", n=1, skip=(mid_a,))
    doc = _cart(client, [(va, 1), (vb, 1)])
    assert "continue_url" not in doc
    assert len(doc["links"]) == 2 and {link["type"] for link in doc["links"]} == {"checkout"}
    assert all(link["title"].startswith("Checkout at ") for link in doc["links"])
    assert "multiple_merchants" in [m["code"] for m in doc["messages"]]


def test_ineligible_line_stays_with_an_error(world: World, client: httpx.Client) -> None:
    mid, [(v, _)] = _buyable(world, currency="USD", n=1, platform="shopify")
    ships = world.engine.snapshot.merchants[mid].ships_to
    far = next(c for c in ("JP", "BR", "ZA", "AU") if c not in ships)
    doc = _cart(client, [(v, 1)], country=far)
    [err] = [m for m in doc["messages"] if m["type"] == "error"]
    assert err["code"] == "not_shipping_to_country" and err["path"] == "$.line_items[0]"
    assert err["severity"] == "recoverable" and doc["context"] == {"address_country": far}


def test_business_outcomes(world: World, client: httpx.Client) -> None:
    _, [(usd, _)] = _buyable(world, currency="USD", n=1)
    _, [(jpy, _)] = _buyable(world, currency="JPY", n=1)
    mixed = _cart(client, [(usd, 1), (jpy, 1)], schema=ERROR)
    assert mixed["messages"][0]["code"] == "mixed_currencies" and "JPY, USD" in mixed["messages"][0]["content"]
    unknown = _cart(client, [("no-such-variant", 1)], schema=ERROR)
    assert unknown["messages"][0]["code"] == "item_unavailable" and "unknown_variant" in \
        unknown["messages"][0]["content"]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("GET", "/ucp/carts/c1.notacart", None, 404, "not_found"),
    ("GET", "/ucp/carts/elsewhere", None, 404, "not_found"),
    ("POST", "/ucp/carts", {"line_items": []}, 422, "invalid_request"),
    ("POST", "/ucp/carts", {"line_items": [{"item": {"id": "1"}, "quantity": 0}]}, 422, "invalid_request"),
    ("GET", "/ucp/buy/123", None, 400, "bad_permalink"),
    ("GET", "/ucp/buy/123:0", None, 400, "bad_permalink"),
    ("GET", "/ucp/buy/~%25%25:1", None, 400, "bad_permalink"),
    ("GET", "/ucp/buy/123:1?context/address_country=Atlantis", None, 400, "bad_country"),
])
def test_refusals_are_ucp_errors(client: httpx.Client, method: str, path: str, body: Any, status: int,
                                 code: str) -> None:
    resp = client.request(method, path, json=body)
    assert resp.status_code == status, resp.text
    assert schema_errors(ucp_validator(ERROR), resp.json()) == []
    assert resp.json()["messages"][0]["code"] == code


def test_permalink_redirects_to_the_merchant(world: World, client: httpx.Client) -> None:
    _, [(v1, _), (v2, _)] = _buyable(world, currency="USD", n=2, platform="shopify")
    resp = client.get(f"/ucp/buy/{permalink_token(v1)}:2,{v2}:1", params={"context/address_country": "CA"})
    assert resp.status_code == 303
    assert resp.headers["location"].endswith(f"/cart/{v1}:2,{v2}:1")
    assert resp.headers["cache-control"] == "no-store" and resp.headers["referrer-policy"] == "no-referrer"


def test_permalink_of_several_merchants_lands_on_the_handoff_page(world: World, client: httpx.Client) -> None:
    mid_a, [(va, _)] = _buyable(world, currency="USD", n=1, platform="shopify")
    _, [(vb, _)] = _buyable(world, currency="USD", n=1, skip=(mid_a,))
    resp = client.get(f"/ucp/buy/{va}:1,{vb}:1")
    assert resp.status_code == 303 and "/ucp/handoff/" in resp.headers["location"]
    page = client.get(resp.headers["location"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("Checkout at ") == 2 and "<script" not in page.text


def test_item_tokens_round_trip() -> None:
    for vid in ("123", "sku_1.a-b", "gid://shopify/ProductVariant/70881412", "é:,~"):
        [item] = parse_permalink_items(f"{permalink_token(vid)}:3")
        assert (item.variant_id, item.quantity) == (vid, 3)
    gid = "gid://shopify/ProductVariant/70881412"
    assert permalink_token(gid) == "~Z2lkOi8vc2hvcGlmeS9Qcm9kdWN0VmFyaWFudC83MDg4MTQxMg"  # UCP's own example
