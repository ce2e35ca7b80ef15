"""The platform parsers on real shapes: every shared product parses; bad records are quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.models import Product, Quarantined

META = {"name": "Shop", "myshopify_domain": "shop.myshopify.com", "domain": "shop.example", "currency": "CAD",
        "country": "CA", "ships_to_countries": ["CA", "US"]}


def _product(**over: object) -> dict:
    p = {"id": 11, "title": "Wool Beanie", "handle": "wool-beanie", "body_html": "<p>Warm</p>", "vendor": "Knits",
         "product_type": "Hats", "tags": ["winter"], "options": [{"name": "Colour", "position": 1,
         "values": ["Red", "Blue"]}, {"name": "Size", "position": 2, "values": ["M", "L"]}],
         "variants": [{"id": 101, "title": "Red / M", "option1": "Red", "option2": "M", "option3": None,
                       "price": "39.50", "available": True, "sku": "BN-1", "position": 1},
                      {"id": 102, "title": "Blue / L", "option1": "Blue", "option2": "L", "option3": None,
                       "price": "41.00", "available": False, "position": 2}],
         "images": [{"src": "https://img/1.png"}]}
    p.update(over)
    return p


def test_shopify_product_fields() -> None:
    m = shopify_merchant(META, "http://127.0.0.1:1/shopify/shop/")
    p = shopify_product(_product(), m)
    assert isinstance(p, Product)
    assert p.doc_id == "shopify:shop.myshopify.com:11"
    assert p.url == "http://127.0.0.1:1/shopify/shop/products/wool-beanie"
    v = p.variants[0]
    assert (v.price, v.currency, v.available) == (3950, "CAD", True)
    assert [(o.name, o.canonical, o.value) for o in v.options] == [("Colour", "color", "Red"), ("Size", "size", "M")]
    assert p.body_text == "Warm"
    assert m.ships_to == ("CA", "US")


def test_shopify_bad_records_are_quarantined() -> None:
    m = shopify_merchant(META, "http://x")
    assert isinstance(shopify_product(_product(id=None), m), Quarantined)
    assert isinstance(shopify_product(_product(title=""), m), Quarantined)
    bad_price = _product()
    bad_price["variants"][0]["price"] = "12,3x"
    q = shopify_product(bad_price, m)
    assert isinstance(q, Quarantined) and "price" in q.reason
    absurd = _product()
    absurd["variants"][0]["price"] = "99999999999999"
    assert isinstance(shopify_product(absurd, m), Quarantined)
    assert isinstance(shopify_product(_product(variants=[]), m), Quarantined)


@pytest.mark.parametrize("over", [
    {"title": ["a", "list"]}, {"variants": [7]}, {"variants": "abc"}, {"options": [{"name": "A", "position": "1"},
                                                                                 {"name": "B", "position": 2}]},
    {"options": ["Colour"]}, {"images": 5}, {"tags": 9},
])
def test_records_of_an_unexpected_shape_are_quarantined_not_raised(over: dict) -> None:
    m = shopify_merchant(META, "http://x")
    q = shopify_product(_product(**over), m)
    assert isinstance(q, Quarantined) and q.record_id == "11" and q.reason.startswith("unreadable record")
    assert json.loads(q.raw)["id"] == 11  # the source is kept with the reason
    listing = {"listing_id": 5, "title": "Mug", "state": "active", "price": {"amount": 900, "divisor": 100}}
    bad = etsy_product(listing, {"products": [{"offerings": 3}]}, etsy_merchant({"shop_id": 1}, "http://e"))
    assert isinstance(bad, Quarantined) and bad.record_id == "5"


def test_fields_are_text_and_integers_fit_their_columns() -> None:
    m = shopify_merchant(META, "http://x")
    raw = _product(title=2024, vendor=7, product_type=None, updated_at=1700000000)
    raw["variants"][0].update(sku=12345, position=2**40)
    p = shopify_product(raw, m)
    assert isinstance(p, Product)
    assert (p.title, p.vendor, p.updated_at) == ("2024", "7", "1700000000")
    assert (p.variants[0].sku, p.variants[0].position) == ("12345", 1)  # an absurd position falls back
    listing = {"listing_id": 5, "title": "Mug", "state": "active", "quantity": 2**40,
               "price": {"amount": 900, "divisor": 100}}
    mug = etsy_product(listing, None, etsy_merchant({"shop_id": 1}, "http://e"))
    assert isinstance(mug, Product) and mug.variants[0].quantity is None


def test_default_title_option_is_dropped() -> None:
    m = shopify_merchant(META, "http://x")
    raw = _product(options=[{"name": "Title", "position": 1, "values": ["Default Title"]}],
                   variants=[{"id": 1, "title": "Default Title", "option1": "Default Title", "price": "5"}])
    p = shopify_product(raw, m)
    assert isinstance(p, Product) and p.options == () and p.variants[0].options == ()


def test_round_trip_dict() -> None:
    m = shopify_merchant(META, "http://x")
    p = shopify_product(_product(), m)
    assert isinstance(p, Product)
    assert Product.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_every_shared_product_parses(shared_dir: Path) -> None:
    count = 0
    for store in sorted((shared_dir / "catalogs" / "shopify").iterdir()):
        m = shopify_merchant(json.loads((store / "meta.json").read_text()), f"http://h/shopify/{store.name}")
        for raw in json.loads((store / "products.json").read_text())["products"]:
            assert isinstance(shopify_product(raw, m), Product)
            count += 1
    for shop in sorted((shared_dir / "catalogs" / "etsy").iterdir()):
        m = etsy_merchant(json.loads((shop / "shop.json").read_text()), "http://h/etsy/v3/application")
        for listing in json.loads((shop / "listings.json").read_text())["results"]:
            inv_path = shop / "inventory" / f"{listing['listing_id']}.json"
            inv = json.loads(inv_path.read_text()) if inv_path.exists() else None
            p = etsy_product(listing, inv, m)
            assert isinstance(p, Product)
            assert p.doc_id.startswith(f"etsy:{m.merchant_id}:")
            count += 1
    assert count == 11046
