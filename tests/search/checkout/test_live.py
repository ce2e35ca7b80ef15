"""Live re-check (search.checkout.live) against the storefront simulator (real uvicorn on loopback) serving data/sample.

Each test changes a different product through the simulator's admin API, so tests sharing the
module's server stay independent.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from indexer.build.embed import HashingEncoder
from indexer.models import Product
from indexer.storefront import running_storefront
from search.engine import Engine, EngineSettings
from search.filter.eligibility import REASONS
from search.schema import CartItem, CheckRequest
from tests.indexer.storefront.oauth_helpers import connect_shop
from tests.search.conftest import load_catalog, make_snapshot

KEY = "testkey:testsecret"
LOOPBACK = ("127.0.0.1",)  # the simulator; the live re-check refuses private addresses otherwise
# No answer cache: these tests change the merchant between checks (the cache: tests/security/test_amplification.py).
CHECK = EngineSettings(etsy_api_key=KEY, allow_hosts=LOOPBACK, check_cache_ttl_s=0.0)


@pytest.fixture(scope="module")
def world(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_storefront(sample_dir) as sf:
        home = tmp_path_factory.mktemp("etsy-home")  # both Etsy shops connected: the re-check reads variants
        for shop_id in sf.etsy_shop_ids.values():
            connect_shop(sf, home, shop_id)
        products, merchants = load_catalog(sample_dir, shopify_base=sf.shopify_url, etsy_api=sf.etsy_api)
        snap = make_snapshot(products, merchants)
        engine = Engine(snap, encoder=HashingEncoder(64), settings=replace(CHECK, etsy_tokens=str(home)))
        yield {"sf": sf, "engine": engine, "products": products, "merchants": {m.merchant_id: m for m in merchants}}


def _find(world: dict[str, Any], merchant_prefix: str, *, multi: bool = False, skip: int = 0) -> Product:
    found = [p for p in world["products"] if p.merchant_id.startswith(merchant_prefix)
             and all(v.available and v.price for v in p.variants) and (len(p.variants) > 1) == multi
             and not p.gift_card and not p.personalization_required and p.extra.get("state", "active") == "active"]
    return found[skip]


def _slug(p: Product) -> str:
    return p.merchant_id.split(".")[0]


def test_shopify_price_change_reported_with_both_prices(world) -> None:
    p = _find(world, "northfield-knits", multi=True, skip=0)
    v = p.variants[0]
    world["sf"].set_price("shopify", _slug(p), p.product_id, v.variant_id, "12.34")
    resp = world["engine"].check(CheckRequest(items=[CartItem(variant_id=v.variant_id)], country="US"))
    item = resp.items[0]
    assert item.price_changed and item.eligible
    assert item.price.amount == 1234 and item.price.currency == "USD"
    assert item.indexed_price.amount == v.price
    assert resp.checkouts[0].checkout_url.endswith(f"/cart/{v.variant_id}:1")


def test_shopify_sold_out_and_removed(world) -> None:
    p = _find(world, "northfield-knits", multi=True, skip=1)
    q = _find(world, "northfield-knits", multi=True, skip=2)
    world["sf"].set_available("shopify", _slug(p), p.product_id, p.variants[1].variant_id, False)
    world["sf"].remove_product("shopify", _slug(q), q.product_id)
    items = [CartItem(variant_id=p.variants[0].variant_id), CartItem(variant_id=p.variants[1].variant_id),
             CartItem(variant_id=q.variants[0].variant_id, quantity=2)]
    resp = world["engine"].check(CheckRequest(items=items, country="US"))
    assert [i.reasons for i in resp.items] == [[], ["out_of_stock"], ["no_longer_listed"]]
    assert not resp.eligible and resp.items[0].price_changed is False
    # One checkout for the store, with only the eligible item in the cart link.
    (co,) = resp.checkouts
    assert co.checkout_url.endswith(f"/cart/{p.variants[0].variant_id}:1") and not co.eligible
    assert co.variant_ids == [i.variant_id for i in items]


def test_jpy_cents_are_converted(world) -> None:
    p = _find(world, "kyoto-paper-goods")
    resp = world["engine"].check(CheckRequest(items=[CartItem(variant_id=p.variants[0].variant_id)], country="JP"))
    item = resp.items[0]
    assert item.price.currency == "JPY" and item.price.amount == p.variants[0].price and not item.price_changed


def test_etsy_variant_sold_out_vacation_and_grouping(world) -> None:
    etsy = [m for m in world["merchants"].values() if m.platform == "etsy"]
    shop = next(m for m in etsy if m.name.lower().startswith("wildthread"))
    slug = next(s for s, sid in world["sf"].etsy_shop_ids.items() if str(sid) == shop.merchant_id)
    p = _find(world, shop.merchant_id, multi=True)
    q = _find(world, shop.merchant_id, multi=False)
    world["sf"].set_available("etsy", slug, p.product_id, p.variants[0].variant_id, False)
    items = [CartItem(variant_id=p.variants[0].variant_id), CartItem(variant_id=p.variants[1].variant_id),
             CartItem(variant_id=q.variants[0].variant_id)]
    resp = world["engine"].check(CheckRequest(items=items, country="GB"))
    assert [i.reasons for i in resp.items] == [["out_of_stock"], [], []]
    (co,) = resp.checkouts
    assert co.platform == "etsy" and co.item_urls == [p.url, p.url, q.url]
    world["sf"].set_vacation(slug, True)
    try:
        resp = world["engine"].check(CheckRequest(items=items[1:2], country="GB"))
        assert resp.items[0].reasons == ["merchant_unavailable"]
    finally:
        world["sf"].set_vacation(slug, False)


def test_etsy_without_api_key_says_credentials_missing(world) -> None:
    shop = next(m for m in world["merchants"].values() if m.platform == "etsy")
    p = _find(world, shop.merchant_id)
    engine = Engine(world["engine"].snapshot, encoder=HashingEncoder(64),
                    settings=EngineSettings(etsy_api_key=None, allow_hosts=LOOPBACK))
    resp = engine.check(CheckRequest(items=[CartItem(variant_id=p.variants[0].variant_id)]))
    item = resp.items[0]
    assert item.reasons == ["merchant_credentials_missing"] and item.price is None and item.indexed_price is not None
    assert "merchant_credentials_missing" in REASONS
    assert engine._checker.fetched == 0  # noqa: SLF001 -- nothing was asked of the merchant: without a key it cannot answer


def test_several_merchants_one_checkout_each_and_unknown_variant(world) -> None:
    a = _find(world, "northfield-knits", multi=True, skip=3)
    b = _find(world, "maple-trail", multi=True)
    items = [CartItem(variant_id=a.variants[0].variant_id, quantity=2), CartItem(variant_id=a.variants[1].variant_id),
             CartItem(variant_id=b.variants[0].variant_id), CartItem(variant_id="999999999999")]
    resp = world["engine"].check(CheckRequest(items=items, country="CA"))
    assert resp.items[3].reasons == ["unknown_variant"]
    urls = {c.merchant.id: c.checkout_url for c in resp.checkouts}
    assert urls[a.merchant_id].endswith(f"/cart/{a.variants[0].variant_id}:2,{a.variants[1].variant_id}:1")
    assert urls[b.merchant_id].endswith(f"/cart/{b.variants[0].variant_id}:1")
    assert len(resp.checkouts) == 2


def test_quantity_policy_and_shipping_apply_live(world) -> None:
    p = _find(world, "northfield-knits", multi=True, skip=4)
    resp = world["engine"].check(CheckRequest(items=[CartItem(variant_id=p.variants[0].variant_id, quantity=11)],
                                              country="FR"))
    assert set(resp.items[0].reasons) == {"quantity_exceeded", "not_shipping_to_country"}


def test_unreachable_merchant_is_never_trusted(world) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    snap = world["engine"].snapshot
    p = _find(world, "thames-pottery")
    dead = replace(snap.merchants[p.merchant_id], base_url=f"http://127.0.0.1:{port}/shopify/x")
    snap2 = make_snapshot(list(snap.products), [*(m for k, m in snap.merchants.items() if k != p.merchant_id), dead])
    engine = Engine(snap2, encoder=HashingEncoder(64),
                    settings=EngineSettings(http_timeout_s=2.0, allow_hosts=LOOPBACK))
    resp = engine.check(CheckRequest(items=[CartItem(variant_id=p.variants[0].variant_id)], country="GB"))
    item = resp.items[0]
    assert item.reasons == ["merchant_unreachable"] and not item.eligible and item.price is None


def test_etsy_checkout_links_are_built_never_the_shops_own(world) -> None:
    """Several listings of one Etsy shop: no cart link exists, so each item keeps its own built listing link and
    the merchant's self-declared shop URL is never offered as the checkout."""
    cat = world["engine"].catalog
    rows = [p for p in cat.products if p.platform == "etsy" and p.variants][:2]
    if len({p.merchant_id for p in rows}) != 1 or len(rows) < 2:
        pytest.skip("needs two listings of one Etsy shop")
    items = [CartItem(variant_id=p.variants[0].variant_id) for p in rows]
    co = world["engine"].check(CheckRequest(items=items, country="US")).checkouts[0]
    assert co.checkout_url is None
    assert all(u.startswith("https://www.etsy.com/listing/") for u in co.item_urls)
