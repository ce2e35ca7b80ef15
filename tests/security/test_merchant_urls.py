"""Issue 12 item 3: merchant URLs are checked. A store's ``javascript:`` handle and its ``javascript:``,
cloud-metadata and foreign-host image sources never come back from ``/v1``, UCP, ACP or MCP; checkout
links are built by aisle from the crawled origin; an Etsy listing whose ``url`` is an attack is quarantined."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.models import Product, Quarantined
from indexer.urls import check_merchant_url
from search.schema import SearchRequest
from tests.search.conftest import make_engine, merchant, product, variant
from tests.security.hostile_api import BAD_IMAGES, GOOD_IMAGE, HOSTILE_LINK_TITLE, HostileApi, hostile_api

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def api(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileApi]:
    with hostile_api(sample_dir, tmp_path_factory.mktemp("urls")) as a:
        yield a


def _urls(doc: Any) -> list[str]:
    """Every string under a key that names a link, anywhere in a response."""
    found: list[str] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, str) and (k in ("url", "image", "checkout_url") or k.endswith("_url")):
                found.append(v)
            elif k in ("images", "item_urls") and isinstance(v, list):
                found += [x for x in v if isinstance(x, str)]
            else:
                found += _urls(v)
    elif isinstance(doc, list):
        for v in doc:
            found += _urls(v)
    return found


def _assert_safe(doc: Any, origin: str) -> list[str]:
    urls = _urls(doc)
    assert urls
    for u in urls:
        assert u.startswith(("https://", origin + "/")), u
        assert "javascript" not in u.lower().split("/products/")[0] and "169.254" not in u and "evil" not in u, u
        assert "attacker" not in u, u
    return urls


def test_hostile_links_never_leave_any_surface(api: HostileApi) -> None:
    origin = api.engine.snapshot.merchants[next(iter(api.engine.snapshot.merchants))].base_url.split("/shopify")[0]
    with httpx.Client(base_url=api.base, trust_env=False, timeout=30) as c:
        hit = c.post("/v1/search", json={"query": HOSTILE_LINK_TITLE, "limit": 5}).json()
        mine = next(r for r in hit["results"] if r["title"] == HOSTILE_LINK_TITLE)
        assert mine["image"] == GOOD_IMAGE
        assert mine["url"].endswith("/products/javascript%3Aalert%28document.cookie%29")
        assert mine["buy"]["checkout_url"].endswith(f"/cart/{mine['variant']['id']}:1")
        _assert_safe(hit, origin)
        prod = c.get(f"/v1/products/{mine['doc_id']}").json()
        assert prod["images"] == [GOOD_IMAGE]
        _assert_safe(prod, origin)
        ucp = c.post("/ucp/catalog/search", json={"query": HOSTILE_LINK_TITLE}).json()
        _assert_safe(ucp, origin)
        feed: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = c.get("/acp/feed", params={"offset": offset, "limit": 1000})
            feed += page.json()["products"]
            if "Link" not in page.headers:
                break
            offset += 1000
        acp = next(p for p in feed if p["id"] == mine["doc_id"])
        assert acp["media"] == [{"type": "image", "url": GOOD_IMAGE}]
        _assert_safe(feed, origin)
        mcp = c.post("/mcp", headers={"accept": "application/json, text/event-stream"}, json={
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "get_product", "arguments": {"doc_id": mine["doc_id"]}}}).json()
        assert not mcp["result"].get("isError"), mcp
        _assert_safe(mcp["result"]["structuredContent"], origin)
    stored = next(p for p in api.engine.snapshot.products if p.title == HOSTILE_LINK_TITLE)
    assert stored.images == (GOOD_IMAGE,)
    assert len(stored.extra["dropped_urls"]) == len(BAD_IMAGES)


def test_an_etsy_listing_with_an_attack_url_is_quarantined() -> None:
    m = etsy_merchant({"shop_id": 7, "shop_name": "s", "currency_code": "USD"}, "https://openapi.etsy.com/v3")
    listing = {"listing_id": 11, "title": "Mug", "state": "active", "url": "javascript:alert(document.cookie)",
               "price": {"amount": 1000, "divisor": 100, "currency_code": "USD"}}
    got = etsy_product(listing, None, m)
    assert isinstance(got, Quarantined) and got.reason.startswith("unsafe url: url scheme 'javascript'")
    ok = etsy_product({**listing, "url": "https://www.etsy.com/listing/11/mug™"}, None, m)
    assert isinstance(ok, Product) and ok.url == "https://www.etsy.com/listing/11/mug%E2%84%A2"


def test_shopify_images_off_origin_are_dropped_with_a_reason() -> None:
    m = shopify_merchant({"myshopify_domain": "a.myshopify.com"}, "https://a.myshopify.com")
    raw = {"id": 1, "title": "Hat", "handle": "hat", "variants": [{"id": 2, "price": "1.00"}],
           "images": [{"src": u} for u in ("https://a.myshopify.com/i.jpg", "https://cdn.shopify.com/x.jpg",
                                           "http://a.myshopify.com/plain.jpg", "data:image/png;base64,AA")]}
    p = shopify_product(raw, m)
    assert isinstance(p, Product)
    assert p.images == ("https://a.myshopify.com/i.jpg", "https://cdn.shopify.com/x.jpg")
    assert [r.split(":")[0] for r in p.extra["dropped_urls"]] == ["image", "image"]


def test_links_stored_before_the_rule_are_rebuilt_at_the_edge() -> None:
    shop, etsy = merchant(), merchant("77", platform="etsy")
    bad = product("Red Beanie", [variant({"Color": "Red"})], m=shop)
    bad = replace(bad, url="javascript:alert(1)", images=("http://169.254.169.254/x", "https://cdn.shopify.com/ok.jpg"))
    listing = product("Red Mug", [variant({"Color": "Red"})], m=etsy)
    listing = replace(listing, url="javascript:alert(2)")
    eng = make_engine([bad, listing], [shop, etsy])
    resp = eng.search(SearchRequest(query="red", limit=5))
    by_title = {r.title: r for r in resp.results}
    assert by_title["Red Beanie"].url == f"{shop.base_url}/products/{bad.handle}"
    assert by_title["Red Beanie"].image == "https://cdn.shopify.com/ok.jpg"
    assert by_title["Red Mug"].url == f"https://www.etsy.com/listing/{listing.product_id}"
    assert by_title["Red Mug"].buy.checkout_url == f"https://www.etsy.com/listing/{listing.product_id}"
    assert "javascript" not in json.dumps(resp.model_dump())


@pytest.mark.parametrize(("url", "kept"), [
    ("https://shop.example/products/a", True),
    ("//cdn.shopify.com/s/a.jpg", True),
    ("http://shop.example/products/a", False),  # plain http on an https store
    ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False),
    (" javascript:alert(1)", False),
    ("java\nscript:alert(1)", False),
    ("data:text/html,<script>", False),
    ("file:///etc/passwd", False),
    ("http://169.254.169.254/latest", False),
    ("https://[::1]/x", False),
    ("https://shop.example@evil.example/x", False),
    ("https://shop.example.evil.example/x", False),
    ("https://cdn.shopify.com:444/x", False),
    ("https://shop.example/\u202egnp.exe", False),
    ("https://shop.example/" + "a" * 3000, False),
])
def test_the_url_policy(url: str, kept: bool) -> None:
    got, why = check_merchant_url(url, "https://shop.example", "shopify")
    assert (got is not None) is kept, why
    assert (why is None) is kept
