"""The Etsy fetcher against the storefront simulator: shop, active listings by offset, inventories."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from indexer.crawl.etsy import crawl_etsy
from indexer.crawl.http import ClientSettings, PoliteClient
from indexer.crawl.netguard import HostGuard
from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import RecordingSink, make_catalog
from tests.indexer.storefront.oauth_helpers import connect_shop


def fetch(api: str, shop_id: int, *, key: str = "key:secret", limit: int = 100, retries: int = 3,
          home: Path | None = None) -> tuple[bool, RecordingSink]:
    """Crawl one shop; ``home`` is the workspace whose connected shops are read with their owner's token."""
    sink = RecordingSink()

    async def go() -> bool:
        settings = ClientSettings(delay=0, timeout=2.0, retries=retries, backoff_base=0.01, backoff_max=0.02)
        async with PoliteClient(settings, HostGuard(["127.0.0.1"])) as client:
            return await crawl_etsy(client, api, str(shop_id), key, sink, limit=limit,
                                    tokens=str(home) if home is not None else None)

    return asyncio.run(go()), sink


@pytest.fixture(scope="module")
def catalog(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_catalog(tmp_path_factory.mktemp("cat"), shared_dir, etsy=("kalima-arts", "life-made-magic"))


def active_ids(catalog: Path, slug: str) -> set[str]:
    listings = json.loads((catalog / "etsy" / slug / "listings.json").read_text())["results"]
    return {str(x["listing_id"]) for x in listings if x["state"] == "active"}


def test_a_shop_is_walked_by_offset_with_each_inventory(catalog: Path, tmp_path: Path) -> None:
    with running_storefront(catalog) as sf:
        connect_shop(sf, tmp_path, sf.etsy_shop_ids["kalima-arts"], api_key="key:secret")
        complete, sink = fetch(sf.etsy_api, sf.etsy_shop_ids["kalima-arts"], limit=5, home=tmp_path)
    assert complete and not sink.errors
    assert set(sink.product_ids) == active_ids(catalog, "kalima-arts") and len(sink.product_ids) == 21
    assert [u.rsplit("offset=", 1)[1] for u, _ in sink.pages] == ["0", "5", "10", "15", "20"]
    products = [p for _, (items, _, _) in sink.pages for p, _ in items]
    # Variants come from the inventory (product ids), not from the listing itself.
    assert all(v.variant_id != p.product_id for p in products for v in p.variants)
    raw = json.loads(next(r for _, (items, _, _) in sink.pages for _, r in items))
    assert set(raw) == {"listing", "inventory"} and raw["inventory"]["products"]
    assert sink.merchants[0].merchant_id == str(sf.etsy_shop_ids["kalima-arts"]) and sink.expected == 21


def test_only_active_listings_are_listed(catalog: Path) -> None:
    with running_storefront(catalog) as sf:
        complete, sink = fetch(sf.etsy_api, sf.etsy_shop_ids["life-made-magic"])
    assert complete and set(sink.product_ids) == active_ids(catalog, "life-made-magic")
    assert len(sink.product_ids) == 280  # 283 listings, 3 sold out


@pytest.mark.parametrize("key", ["justakeystring", ""])
def test_a_key_without_shared_secret_is_refused_and_recorded(catalog: Path, key: str) -> None:
    with running_storefront(catalog) as sf:
        complete, sink = fetch(sf.etsy_api, sf.etsy_shop_ids["kalima-arts"], key=key)
    assert not complete and not sink.pages
    assert [(e[1], e[2]) for e in sink.errors] == [(403, "http_403")]
    assert "Shared secret is required" in sink.errors[0][3]


def test_an_unknown_shop_is_a_recorded_404(catalog: Path) -> None:
    with running_storefront(catalog) as sf:
        complete, sink = fetch(sf.etsy_api, 1)
    assert not complete and [(e[1], e[2]) for e in sink.errors] == [(404, "http_404")]


def test_failed_inventories_are_recorded_and_their_listings_left_out(catalog: Path, tmp_path: Path) -> None:
    # Seed 1 at 10% 5xx and no retries: the shop and listings pages pass, 16 inventories fail.
    with running_storefront(catalog, faults="500=0.1", seed=1) as sf:
        connect_shop(sf, tmp_path, sf.etsy_shop_ids["life-made-magic"], api_key="key:secret")
        complete, sink = fetch(sf.etsy_api, sf.etsy_shop_ids["life-made-magic"], retries=0, home=tmp_path)
    assert not complete
    assert all(e[2] == "5xx" and "/inventory" in e[0] for e in sink.errors)
    failed = {e[0].split("/listings/")[1].split("/")[0] for e in sink.errors}
    stored = set(sink.product_ids)
    assert len(failed) == len(sink.errors) > 0 and not failed & stored
    assert stored | failed == active_ids(catalog, "life-made-magic")
