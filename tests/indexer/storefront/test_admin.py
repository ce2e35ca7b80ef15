"""The admin API: catalog changes are visible on every endpoint at once (real HTTP on loopback)."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from indexer.crawl.netguard import is_loopback_host as is_loopback
from indexer.errors import ConfigError, NotFoundError
from indexer.storefront import RunningStorefront
from tests.indexer.storefront.oauth_helpers import owner_headers

from .conftest import ETSY_KEY, SAMPLE

STORE = "northfield-knits"


def _beanie(sf: RunningStorefront, client: httpx.Client) -> dict:
    return client.get(f"{sf.shopify_url(STORE)}/products/classic-merino-wool-beanie.js").json()


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _find(products: list[dict], pid: int) -> dict:
    return next(p for p in products if p["id"] == pid)


def _all_products(sf: RunningStorefront, client: httpx.Client, slug: str = STORE) -> list[dict]:
    return client.get(f"{sf.shopify_url(slug)}/products.json", params={"limit": 250}).json()["products"]


def test_set_price_shows_everywhere_and_bumps_updated_at(fresh_sf: RunningStorefront, client: httpx.Client) -> None:
    js = _beanie(fresh_sf, client)
    red_m = next(v for v in js["variants"] if v["title"] == "Red / M")
    before = _find(_all_products(fresh_sf, client), js["id"])
    collection = client.get(f"{fresh_sf.shopify_url(STORE)}/collections/beanies/products.json").json()  # warm caches
    assert _find(collection["products"], js["id"])["updated_at"] == before["updated_at"]

    changed = fresh_sf.admin.set_price("shopify", STORE, js["id"], red_m["id"], "41.50")
    assert _ts(changed["updated_at"]) > _ts(before["updated_at"])

    after = _find(_all_products(fresh_sf, client), js["id"])
    assert next(v for v in after["variants"] if v["id"] == red_m["id"])["price"] == "41.50"
    assert after["updated_at"] == changed["updated_at"]
    assert next(v for v in _beanie(fresh_sf, client)["variants"] if v["id"] == red_m["id"])["price"] == 4150
    col = client.get(f"{fresh_sf.shopify_url(STORE)}/collections/beanies/products.json").json()["products"]
    assert next(v for v in _find(col, js["id"])["variants"] if v["id"] == red_m["id"])["price"] == "41.50"
    # Two changes within one second still give strictly increasing timestamps.
    again = fresh_sf.set_price("shopify", STORE, js["id"], red_m["id"], "40.00")
    assert _ts(again["updated_at"]) > _ts(changed["updated_at"])


def test_set_available_and_cart(fresh_sf: RunningStorefront, client: httpx.Client) -> None:
    js = _beanie(fresh_sf, client)
    red_m = next(v for v in js["variants"] if v["title"] == "Red / M")
    cart = f"{fresh_sf.shopify_url(STORE)}/cart/{red_m['id']}:1"
    assert client.get(cart).status_code == 200
    fresh_sf.admin.set_available("shopify", STORE, js["id"], red_m["id"], False)
    assert next(v for v in _beanie(fresh_sf, client)["variants"] if v["id"] == red_m["id"])["available"] is False
    assert client.get(cart).status_code == 422
    fresh_sf.admin.set_available("shopify", STORE, js["id"], None, False)  # every variant
    assert _beanie(fresh_sf, client)["available"] is False
    fresh_sf.admin.set_available("shopify", STORE, js["id"], red_m["id"], True)
    assert _beanie(fresh_sf, client)["available"] is True
    assert client.get(cart).status_code == 200


def test_add_and_remove_shopify_product(fresh_sf: RunningStorefront, client: httpx.Client) -> None:
    n = len(_all_products(fresh_sf, client))
    added = fresh_sf.add_product("shopify", STORE, {
        "title": "Test Red Wool Beanie", "product_type": "Beanies",
        "options": [{"name": "Size", "position": 1, "values": ["M"]}],
        "variants": [{"title": "M", "option1": "M", "price": "12"}],
    })
    assert added["handle"] == "test-red-wool-beanie" and added["variants"][0]["price"] == "12.00"
    products = _all_products(fresh_sf, client)
    assert len(products) == n + 1 and _find(products, added["id"])["title"] == "Test Red Wool Beanie"
    meta = client.get(f"{fresh_sf.shopify_url(STORE)}/meta.json").json()
    assert meta["published_products_count"] == n + 1
    assert client.get(f"{fresh_sf.shopify_url(STORE)}/products/test-red-wool-beanie.js").json()["price"] == 1200
    col = client.get(f"{fresh_sf.shopify_url(STORE)}/collections/beanies/products.json",
                     params={"limit": 250}).json()["products"]
    assert any(p["id"] == added["id"] for p in col)
    with pytest.raises(ConfigError):
        fresh_sf.add_product("shopify", STORE, {"id": added["id"], "title": "dup"})

    fresh_sf.remove_product("shopify", STORE, added["id"])
    assert len(_all_products(fresh_sf, client)) == n
    assert client.get(f"{fresh_sf.shopify_url(STORE)}/products/test-red-wool-beanie.js").status_code == 404
    with pytest.raises(NotFoundError):
        fresh_sf.remove_product("shopify", STORE, added["id"])


def test_etsy_changes(fresh_sf: RunningStorefront, client: httpx.Client) -> None:
    slug = "wildthread-studio"
    sid = fresh_sf.etsy_shop_ids[slug]
    listings = json.loads((SAMPLE / "etsy" / slug / "listings.json").read_text())["results"]
    hat = next(x for x in listings if x["title"] == "Hand Knit Red Wool Beanie")
    lid = hat["listing_id"]
    inv_url = f"{fresh_sf.etsy_api}/listings/{lid}/inventory"
    owner = owner_headers(fresh_sf, sid)  # inventory is an owner-only read
    inv = client.get(inv_url, headers=owner).json()
    first = inv["products"][0]["product_id"]

    fresh_sf.admin.set_price("etsy", slug, lid, first, "19.00")
    inv = client.get(inv_url, headers=owner).json()
    assert inv["products"][0]["offerings"][0]["price"] == {"amount": 1900, "divisor": 100, "currency_code": "GBP"}
    listing = client.get(f"{fresh_sf.etsy_api}/listings/{lid}", headers=ETSY_KEY).json()
    assert listing["price"]["amount"] == 1900  # the listing shows its minimum price
    assert listing["last_modified_timestamp"] > hat["last_modified_timestamp"]

    # Sold out everywhere: the listing leaves /listings/active and reads as sold_out.
    active_url = f"{fresh_sf.etsy_api}/shops/{sid}/listings/active"
    count = client.get(active_url, headers=ETSY_KEY).json()["count"]
    fresh_sf.admin.set_available("etsy", slug, lid, None, False)
    assert client.get(f"{fresh_sf.etsy_api}/listings/{lid}", headers=ETSY_KEY).json()["state"] == "sold_out"
    assert client.get(active_url, headers=ETSY_KEY).json()["count"] == count - 1
    fresh_sf.admin.set_available("etsy", slug, lid, first, True)
    assert client.get(active_url, headers=ETSY_KEY).json()["count"] == count
    offering = client.get(inv_url, headers=owner).json()["products"][0]["offerings"][0]
    assert offering["is_enabled"] and offering["quantity"] > 0

    added = fresh_sf.add_product("etsy", slug, {"title": "Test Listing", "price": {"amount": 500, "divisor": 100,
                                                                                    "currency_code": "GBP"}})
    assert client.get(active_url, headers=ETSY_KEY).json()["count"] == count + 1
    assert client.get(f"{fresh_sf.etsy_api}/listings/{added['listing_id']}/inventory",
                      headers=owner).json()["products"][0]["offerings"][0]["price"]["amount"] == 500
    fresh_sf.remove_product("etsy", slug, added["listing_id"])
    assert client.get(f"{fresh_sf.etsy_api}/listings/{added['listing_id']}", headers=ETSY_KEY).status_code == 404

    fresh_sf.admin.set_vacation(slug, True)
    assert client.get(f"{fresh_sf.etsy_api}/shops/{sid}", headers=ETSY_KEY).json()["is_vacation"] is True


def test_admin_errors(fresh_sf: RunningStorefront, client: httpx.Client) -> None:
    with pytest.raises(NotFoundError):
        fresh_sf.admin.set_price("shopify", "no-such-store", 1, 1, "1.00")
    with pytest.raises(ConfigError):
        fresh_sf.admin.set_price("shopify", STORE, 1, 1, "cheap")
    with pytest.raises(ConfigError):
        fresh_sf.admin.set_price("amazon", STORE, 1, 1, "1.00")
    r = client.post(f"{fresh_sf.base_url}/_admin/set_price", content=b"not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
    r = client.post(f"{fresh_sf.base_url}/_admin/set_price", json={"platform": "shopify"})
    assert r.status_code == 400 and "missing field" in r.json()["error"]
    assert fresh_sf.admin.stores()["shopify"][STORE]["products"] > 0
    assert client.get(f"{fresh_sf.base_url}/_admin/health").json() == {"ok": True}


def test_admin_is_loopback_only() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.0.0.5") and not is_loopback("192.168.1.2") and not is_loopback(None)
