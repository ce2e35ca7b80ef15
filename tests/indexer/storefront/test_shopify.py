"""Shopify endpoints of the simulator, over real HTTP on loopback (sample catalog, page cap 50)."""

from __future__ import annotations

import json

import httpx

from indexer.storefront import RunningStorefront
from indexer.storefront.catalog import slugify

from .conftest import SAMPLE

STORE = "northfield-knits"


def _file_products(slug: str) -> list[dict]:
    return json.loads((SAMPLE / "shopify" / slug / "products.json").read_text())["products"]


def test_products_json_pages_default_limit_and_order(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    expected = [p["id"] for p in _file_products(STORE)]
    r = client.get(f"{sample_sf.shopify_url(STORE)}/products.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert [p["id"] for p in r.json()["products"]] == expected[:30]  # default limit 30, page 1
    seen: list[int] = []
    for page in (1, 2, 3, 4):
        body = client.get(f"{sample_sf.shopify_url(STORE)}/products.json", params={"limit": 12, "page": page}).json()
        seen += [p["id"] for p in body["products"]]
    assert seen == expected[:48]


def test_products_json_returns_storefront_shape(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    raw = _file_products(STORE)[0]
    got = client.get(f"{sample_sf.shopify_url(STORE)}/products.json", params={"limit": 1}).json()["products"][0]
    assert got == raw
    assert isinstance(got["variants"][0]["price"], str)


def test_limit_is_clamped_and_bad_params_fall_back(client: httpx.Client) -> None:
    from indexer.storefront import running_storefront

    with running_storefront(SAMPLE) as sf:  # default cap 25000
        url = f"{sf.shopify_url(STORE)}/products.json"
        n = len(_file_products(STORE))
        assert len(client.get(url, params={"limit": 1000}).json()["products"]) == min(n, 250)
        assert len(client.get(url, params={"limit": "abc"}).json()["products"]) == 30
        assert len(client.get(url, params={"limit": 0}).json()["products"]) == 30
        assert client.get(url, params={"limit": 5, "page": -3}).json() == client.get(url, params={"limit": 5}).json()
        assert client.get(url, params={"limit": 250, "page": 2}).json() == {"products": []}
        # page * limit == cap is allowed, one more page is refused with Shopify's exact 400.
        assert client.get(url, params={"limit": 250, "page": 100}).status_code == 200
        r = client.get(url, params={"limit": 250, "page": 101})
        assert r.status_code == 400
        assert r.json() == {"errors": "Page * Limit exceeds the 25000 limit."}


def test_page_cap_uses_configured_number(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    url = f"{sample_sf.shopify_url(STORE)}/products.json"
    assert client.get(url, params={"limit": 25, "page": 2}).status_code == 200  # 50 == cap
    r = client.get(url, params={"limit": 30, "page": 2})
    assert r.status_code == 400
    assert r.json() == {"errors": "Page * Limit exceeds the 50 limit."}


def test_collection_walk_recovers_every_product_under_the_cap(sample_sf: RunningStorefront,
                                                               client: httpx.Client) -> None:
    base = sample_sf.shopify_url(STORE)
    products = _file_products(STORE)
    cols = client.get(f"{base}/collections.json", params={"limit": 50}).json()["collections"]
    handles = {c["handle"] for c in cols}
    expected_handles = {slugify(p["product_type"]) or "other" for p in products}
    assert handles == expected_handles
    assert "gift-card" in handles and "other" in handles  # empty product_type → other
    assert "all" not in handles
    found: set[int] = set()
    for c in cols:
        page = 1
        while True:
            r = client.get(f"{base}/collections/{c['handle']}/products.json", params={"limit": 25, "page": page})
            assert r.status_code == 200, (c["handle"], page)
            batch = r.json()["products"]
            found |= {p["id"] for p in batch}
            if len(batch) < 25:
                break
            page += 1
        assert c["products_count"] == sum(1 for p in products if (slugify(p["product_type"]) or "other") == c["handle"])
    assert found == {p["id"] for p in products}
    assert client.get(f"{base}/collections/no-such-thing/products.json").status_code == 404
    # collections.json pages like products.json
    one = client.get(f"{base}/collections.json", params={"limit": 1, "page": 2}).json()["collections"]
    assert [c["handle"] for c in one] == [cols[1]["handle"]]


def test_meta_json(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    meta = client.get(f"{sample_sf.shopify_url(STORE)}/meta.json").json()
    assert meta["myshopify_domain"] == "northfield-knits.myshopify.com"
    assert meta["currency"] == "USD" and meta["ships_to_countries"] == ["US", "CA"]
    assert meta["published_products_count"] == len(_file_products(STORE))


def test_product_js_prices_in_cents(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    r = client.get(f"{sample_sf.shopify_url(STORE)}/products/classic-merino-wool-beanie.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    js = r.json()
    assert js["price"] == 3400 and js["price_min"] == 3400 and js["available"] is True
    by_title = {v["title"]: v for v in js["variants"]}
    assert by_title["Red / M"]["price"] == 3400 and by_title["Red / M"]["available"] is True
    assert by_title["Navy / L"]["available"] is False
    assert by_title["Red / M"]["options"] == ["Red", "M"]
    assert js["options"][0]["name"] == "Color"
    # Shopify AJAX money is amount × 100 even for zero-decimal currencies.
    jpy = client.get(f"{sample_sf.shopify_url('kyoto-paper-goods')}/products/hasami-porcelain-mug.js").json()
    assert jpy["price"] == 280000
    assert client.get(f"{sample_sf.shopify_url(STORE)}/products/nope.js").status_code == 404
    single = client.get(f"{sample_sf.shopify_url(STORE)}/products/classic-merino-wool-beanie.json").json()
    assert single["product"]["handle"] == "classic-merino-wool-beanie"


def test_cart_permalink(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    base = sample_sf.shopify_url(STORE)
    js = client.get(f"{base}/products/classic-merino-wool-beanie.js").json()
    ok = next(v for v in js["variants"] if v["available"])
    sold = next(v for v in js["variants"] if not v["available"])
    r = client.get(f"{base}/cart/{ok['id']}:2")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Classic Merino Wool Beanie" in r.text and str(ok["id"]) in r.text
    data = json.loads(r.text.split('id="cart-json">')[1].split("</script>")[0])
    assert data["total_price"] == 2 * ok["price"] and data["currency"] == "USD"
    two = client.get(f"{base}/cart/{ok['id']}:1,{js['variants'][1]['id']}:1")
    assert two.status_code in (200, 422)
    assert client.get(f"{base}/cart/{sold['id']}:1").status_code == 422
    unknown = client.get(f"{base}/cart/123:1")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    assert client.get(f"{base}/cart/{ok['id']}:zero").status_code == 422
    # A variant of another store is unknown here: one merchant per cart link.
    other = client.get(f"{sample_sf.shopify_url('thames-pottery')}/products.json", params={"limit": 1}).json()
    assert client.get(f"{base}/cart/{other['products'][0]['variants'][0]['id']}:1").status_code == 404


def test_unknown_store_and_paths_are_404(sample_sf: RunningStorefront, client: httpx.Client) -> None:
    assert client.get(f"{sample_sf.base_url}/shopify/no-such-store/products.json").status_code == 404
    assert client.get(f"{sample_sf.base_url}/shopify/no-such-store/meta.json").status_code == 404
    assert client.get(f"{sample_sf.shopify_url(STORE)}/admin/api.json").status_code == 404
    index = client.get(f"{sample_sf.base_url}/").json()
    assert set(index["shopify"]) == set(sample_sf.shopify_slugs)


def test_running_storefront_attributes(sample_sf: RunningStorefront) -> None:
    assert sample_sf.base_url.startswith("http://127.0.0.1:")
    assert sample_sf.etsy_api == f"{sample_sf.base_url}/etsy/v3/application"
    assert len(sample_sf.shopify_slugs) >= 4 and len(sample_sf.etsy_shop_ids) >= 2
    assert sample_sf.shopify_url(STORE) == f"{sample_sf.base_url}/shopify/{STORE}"
