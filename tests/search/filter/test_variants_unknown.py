"""A public Etsy shop's listings with variations (variants unknown) on the sample catalog: search may return
them, never as an exact match on a variant-level constraint; eligibility says ``variants_unknown`` and the way
to buy is the listing page. A listing without variations stays fully answerable at listing level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.models import Merchant, Product
from search.engine import Engine, EngineSettings
from search.filter.eligibility import REASONS
from search.schema import Filters, PriceFilter, SearchRequest
from tests.search.conftest import make_engine

PUBLIC = "hollowoak-woodworks"  # read without its owner's grant: no inventories


@pytest.fixture(scope="module")
def world(sample_dir: Path) -> tuple[Engine, list[Product]]:
    products: list[Product] = []
    merchants: list[Merchant] = []
    for d in sorted((sample_dir / "shopify").iterdir()):
        m = shopify_merchant(json.loads((d / "meta.json").read_text()), f"https://{d.name}.example")
        merchants.append(m)
        raw = json.loads((d / "products.json").read_text())
        products += [p for p in (shopify_product(x, m) for x in raw["products"]) if isinstance(p, Product)]
    for d in sorted((sample_dir / "etsy").iterdir()):
        m = etsy_merchant(json.loads((d / "shop.json").read_text()), "https://openapi.etsy.com/v3/application")
        merchants.append(m)
        for x in json.loads((d / "listings.json").read_text())["results"]:
            inv = d / "inventory" / f"{x['listing_id']}.json"
            connected = d.name != PUBLIC and inv.is_file()
            p = etsy_product(x, json.loads(inv.read_text()) if connected else None, m)
            if isinstance(p, Product):
                products.append(p)
    return make_engine(products, merchants), products


def test_public_listing_with_variations_is_never_an_exact_variant_match(world: tuple[Engine, list[Product]]) -> None:
    engine, products = world
    unknown = {p.doc_id: p for p in products if p.extra.get("variants_unknown")}
    assert unknown and "variants_unknown" in REASONS
    boards = [p for p in unknown.values() if "board" in p.title.lower()]
    assert boards
    # No constraint: the listing may be returned, not buyable by an agent, the listing page as the way to buy.
    resp = engine.search(SearchRequest(query="walnut cutting board", limit=20))
    hits = [r for r in resp.results if r.doc_id in unknown]
    assert hits
    for r in hits:
        assert "variants_unknown" in r.buy.reasons and not r.buy.eligible
        assert r.buy.checkout_url == f"https://www.etsy.com/listing/{unknown[r.doc_id].product_id}"
    # A variant-level constraint (size, colour, per-variant price): never exact, only a near match that says so.
    for filters in (Filters(attributes={"size": ["large"]}), Filters(attributes={"material": ["walnut"]}),
                    Filters(price=PriceFilter(max=100_000))):
        resp = engine.search(SearchRequest(query="walnut cutting board", filters=filters, limit=50, include_near=True))
        exact = [r for r in resp.results if r.match.exact]
        assert not [r for r in exact if r.doc_id in unknown]
        assert all(r.match.unmet for r in resp.results if r.doc_id in unknown)
    # Buyable-only never offers them.
    resp = engine.search(SearchRequest(query="walnut cutting board", buyable_only=True, limit=50))
    assert not [r for r in resp.results if r.doc_id in unknown]


def test_listing_without_variations_stays_answerable(world: tuple[Engine, list[Product]]) -> None:
    engine, products = world
    plain = [p for p in products if p.merchant_id and p.platform == "etsy" and p.extra.get("etsy_access") == "public"
             and not p.extra.get("variants_unknown") and all(v.available and v.price for v in p.variants)
             and not p.personalization_required]
    assert plain
    p = plain[0]
    price = p.variants[0].price
    assert price is not None
    resp = engine.search(SearchRequest(query=p.title, filters=Filters(price=PriceFilter(max=price)), limit=50))
    hit = next(r for r in resp.results if r.doc_id == p.doc_id)
    assert hit.match.exact and "variants_unknown" not in hit.buy.reasons


def test_live_recheck_says_how_etsy_was_read(sample_dir: Path, tmp_path: Path) -> None:
    """Connected shop: the owner's token reads the variants; public shop: the public listing, at listing level."""
    from dataclasses import replace

    from indexer.build.embed import HashingEncoder
    from indexer.storefront import running_storefront
    from search.schema import CartItem, CheckRequest
    from tests.indexer.storefront.oauth_helpers import connect_shop
    from tests.search.conftest import load_catalog, make_snapshot

    with running_storefront(sample_dir) as sf:
        connected = sf.etsy_shop_ids["wildthread-studio"]
        connect_shop(sf, tmp_path, connected)
        products, merchants = load_catalog(sample_dir, shopify_base=sf.shopify_url, etsy_api=sf.etsy_api)
        public_id = str(sf.etsy_shop_ids[PUBLIC])
        # The public shop as a crawl without its owner's grant stores it: listing level.
        raw = {x["listing_id"]: x for x in json.loads((sample_dir / "etsy" / PUBLIC / "listings.json").read_text())
               ["results"]}
        m_public = next(m for m in merchants if m.merchant_id == public_id)
        products = [p if p.merchant_id != public_id else etsy_product(raw[int(p.product_id)], None, m_public)
                    for p in products]
        settings = replace(EngineSettings(etsy_api_key="testkey:testsecret", allow_hosts=("127.0.0.1",)),
                           etsy_tokens=str(tmp_path))
        engine = Engine(make_snapshot(products, merchants), encoder=HashingEncoder(64), settings=settings)
        ok = [p for p in products if p.platform == "etsy" and p.extra.get("state") == "active"
              and all(v.available and v.price for v in p.variants) and not p.personalization_required]
        conn = next(p for p in ok if p.merchant_id == str(connected) and len(p.variants) > 1)
        pub = next(p for p in ok if p.merchant_id == public_id and p.extra["variants_unknown"])
        resp = engine.check(CheckRequest(items=[CartItem(variant_id=conn.variants[0].variant_id),
                                                CartItem(variant_id=pub.variants[0].variant_id)], country="GB"))
    by_id = {i.variant_id: i for i in resp.items}
    c, p = by_id[conn.variants[0].variant_id], by_id[pub.variants[0].variant_id]
    assert c.eligible and "etsy_owner_grant" in c.notes and c.price is not None
    assert "etsy_public_listing" in p.notes and p.reasons == ["variants_unknown"] and p.price is not None


def test_disconnected_shop_keeps_its_variants_marked_stale(world: tuple[Engine, list[Product]],
                                                           tmp_path: Path) -> None:
    from indexer.crawl.etsy_auth import TokenSet, TokenStore

    _, products = world
    merchants = list(world[0].catalog.merchants.values())
    conn = next(p for p in products if p.extra.get("etsy_access") == "connected" and len(p.variants) > 1
                and all(v.available and v.price for v in p.variants) and not p.personalization_required)
    store = TokenStore(tmp_path)
    store.save(TokenSet(conn.merchant_id, "https://openapi.etsy.com/v3/application", "k", "a", "r", 1e12))

    def reasons() -> list[str]:
        engine = make_engine(products, merchants, settings=EngineSettings(etsy_tokens=str(tmp_path)))
        hit = next(r for r in engine.search(SearchRequest(query=conn.title, limit=50)).results
                   if r.doc_id == conn.doc_id)
        assert hit.variant is not None and hit.variant.id in {v.variant_id for v in conn.variants}  # nothing deleted
        return list(hit.buy.reasons)

    assert "stale_data" not in reasons()
    store.delete(conn.merchant_id)
    assert "stale_data" in reasons()
