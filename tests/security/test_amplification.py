"""Issue 12, item 5: one live re-check call cannot make a merchant (or many) take an unbounded number of
requests with the operator's key. The storefront simulator serves data/sample on loopback; every request
the re-check puts on the wire is counted below the guard (the transport the guarded client sends through)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer.build.embed import HashingEncoder
from indexer.crawl.guarded import GuardedClient
from indexer.crawl.netguard import HostGuard
from indexer.models import Product
from indexer.storefront import running_storefront
from search.engine import Engine, EngineSettings
from search.schema import CartItem, CheckRequest
from tests.search.conftest import load_catalog, make_snapshot

LOOPBACK = ("127.0.0.1",)


class Counting(httpx.HTTPTransport):
    """The wire: counts requests per merchant path prefix."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self.hits: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")
        self.hits["/".join(parts[:3])] += 1
        return super().handle_request(request)

    @property
    def total(self) -> int:
        return sum(self.hits.values())


@pytest.fixture(scope="module")
def world(sample_dir: Path) -> Iterator[dict[str, Any]]:
    with running_storefront(sample_dir) as sf:
        products, merchants = load_catalog(sample_dir, shopify_base=sf.shopify_url, etsy_api=sf.etsy_api)
        yield {"sf": sf, "snap": make_snapshot(products, merchants), "products": products}


def _engine(world: dict[str, Any], **settings: Any) -> tuple[Engine, Counting]:
    wire = Counting()
    http = GuardedClient(HostGuard(LOOPBACK), transport=wire, timeout=5.0)
    s = EngineSettings(allow_hosts=LOOPBACK, etsy_api_key="testkey:testsecret", **settings)
    return Engine(world["snap"], encoder=HashingEncoder(64), settings=s, http=http), wire


def _cart(world: dict[str, Any], platform: str, n: int, merchant: str | None = None) -> list[CartItem]:
    ps: list[Product] = [p for p in world["products"] if p.platform == platform
                         and (merchant is None or p.merchant_id.startswith(merchant))]
    assert len(ps) >= n, (platform, merchant, len(ps))
    return [CartItem(variant_id=p.variants[0].variant_id, doc_id=p.doc_id) for p in ps[:n]]


def test_34_items_of_one_merchant_make_at_most_the_per_merchant_cap_of_requests(world: dict[str, Any]) -> None:
    engine, wire = _engine(world)
    items = _cart(world, "shopify", 34, "northfield-knits")
    resp = engine.check(CheckRequest(items=items, country="US"))
    assert wire.total == 8  # one products/<handle>.js per product read, 8 products per merchant per call
    checked = [i for i in resp.items if i.reasons != ["not_checked"]]
    assert len(checked) == 8 and all(i.price is not None for i in checked)
    assert [i.reasons for i in resp.items[8:]] == [["not_checked"]] * 26
    assert not resp.eligible


def test_etsy_items_are_capped_too(world: dict[str, Any]) -> None:
    """The reported attack: 34 Etsy items made 69 requests (listing + inventory each, plus the shop)."""
    engine, wire = _engine(world)
    shop = next(p.merchant_id for p in world["products"] if p.platform == "etsy")
    items = _cart(world, "etsy", min(34, sum(p.merchant_id == shop for p in world["products"])), shop)
    world["sf"].reset_faults()  # the simulator counts the Etsy API requests it answers
    engine.check(CheckRequest(items=items, country="US"))
    assert 0 < wire.total <= 2 * 8 + 2, wire.hits
    assert world["sf"].fault_stats()["requests"] == wire.total


def test_many_merchants_share_the_per_call_cap(world: dict[str, Any]) -> None:
    engine, wire = _engine(world, check_max_per_merchant=8, check_max_products=20)
    items = [i for m in ("northfield-knits", "maple-trail", "thames-pottery", "kyoto-paper-goods")
             for i in _cart(world, "shopify", 8, m)]
    resp = engine.check(CheckRequest(items=items, country="US"))
    assert wire.total == 20
    assert sum(i.reasons == ["not_checked"] for i in resp.items) == 12


def test_fresh_answers_are_reused_for_a_few_seconds(world: dict[str, Any]) -> None:
    engine, wire = _engine(world, check_cache_ttl_s=60.0)
    items = _cart(world, "shopify", 3, "atelier")
    first = engine.check(CheckRequest(items=items, country="US"))
    assert wire.total == 3
    again = engine.check(CheckRequest(items=items, country="US"))
    assert wire.total == 3  # all three from the cache
    assert [i.price for i in again.items] == [i.price for i in first.items]
    uncached, wire2 = _engine(world, check_cache_ttl_s=0.0)
    for _ in range(2):
        uncached.check(CheckRequest(items=items, country="US"))
    assert wire2.total == 6


def test_a_repeated_call_moves_on_past_what_it_already_checked(world: dict[str, Any]) -> None:
    """Cached products cost nothing against the caps, so a client can finish a long cart in a few calls."""
    engine, wire = _engine(world, check_cache_ttl_s=60.0)
    items = _cart(world, "shopify", 12, "bergwerk")
    first = engine.check(CheckRequest(items=items, country="US"))
    second = engine.check(CheckRequest(items=items, country="US"))
    assert wire.total == 12
    assert sum(i.reasons == ["not_checked"] for i in first.items) == 4
    assert not any(i.reasons == ["not_checked"] for i in second.items)


def test_many_calls_share_a_per_merchant_budget_per_minute(world: dict[str, Any]) -> None:
    """Parallel or repeated calls cannot multiply the per-call cap: one merchant answers at most
    ``check_merchant_per_minute`` product reads a minute, whoever asks."""
    import threading

    engine, wire = _engine(world, check_cache_ttl_s=0.0, check_merchant_per_minute=12)
    items = _cart(world, "shopify", 8, "maple-trail")
    answers: list[Any] = []
    calls = [threading.Thread(target=lambda: answers.append(engine.check(CheckRequest(items=items, country="US"))))
             for _ in range(4)]
    for t in calls:
        t.start()
    for t in calls:
        t.join()
    assert wire.total == 12
    assert sum(i.reasons != ["not_checked"] for a in answers for i in a.items) == 12
