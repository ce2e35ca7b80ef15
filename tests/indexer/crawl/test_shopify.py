"""The Shopify fetcher against the storefront simulator: paging, page cap → collections, repeats, faults."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from indexer.crawl.http import ClientSettings, PoliteClient
from indexer.crawl.netguard import HostGuard
from indexer.crawl.shopify import crawl_shopify
from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import RecordingSink, make_catalog


def fetch(url: str, *, limit: int = 250, retries: int = 3) -> tuple[bool, RecordingSink, dict[str, int]]:
    sink = RecordingSink()

    async def go() -> tuple[bool, dict[str, int]]:
        settings = ClientSettings(delay=0, timeout=2.0, retries=retries, backoff_base=0.01, backoff_max=0.02)
        async with PoliteClient(settings, HostGuard(["127.0.0.1"])) as client:
            done = await crawl_shopify(client, url, sink, limit=limit)
            return done, dict(client.stats.retried)

    complete, retried = asyncio.run(go())
    return complete, sink, retried


def source_ids(catalog: Path, slug: str) -> list[str]:
    return [str(p["id"]) for p in json.loads((catalog / "shopify" / slug / "products.json").read_text())["products"]]


@pytest.fixture(scope="module")
def small(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_catalog(tmp_path_factory.mktemp("cat"), shared_dir, shopify=("great-outdoor", "analemma"))


def test_pages_until_a_short_page(small: Path) -> None:
    with running_storefront(small) as sf:
        complete, sink, _ = fetch(sf.shopify_url("great-outdoor"), limit=10)
    assert complete and not sink.errors
    assert sorted(sink.product_ids) == sorted(source_ids(small, "great-outdoor"))
    assert [u.rsplit("page=", 1)[1] for u, _ in sink.pages] == ["1", "2", "3", "4"]  # 38 products: 10+10+10+8
    assert sink.expected == 38 and sink.merchants[0].merchant_id.endswith(".myshopify.com")


def test_repeated_pages_are_fetched_again_and_products_kept_once(small: Path) -> None:
    with running_storefront(small, faults="dup=0.4", seed=3) as sf:
        complete, sink, retried = fetch(sf.shopify_url("great-outdoor"), limit=5, retries=6)
        injected = sf.fault_stats()["counts"]["dup"]
    assert complete and not sink.errors
    assert injected > 0 and retried.get("dup") == injected
    ids = sink.product_ids
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(source_ids(small, "great-outdoor"))


def test_a_store_repeating_its_pages_forever_is_incomplete_not_shortened(small: Path) -> None:
    with running_storefront(small, faults="dup=1.0") as sf:
        complete, sink, _ = fetch(sf.shopify_url("great-outdoor"), limit=10, retries=1)
    assert not complete
    assert len(sink.product_ids) == 10
    assert [e[2] for e in sink.errors] == ["short"] and "10 of the 38" in sink.errors[0][3]


def test_the_page_cap_is_passed_through_the_collections(shared_dir: Path, tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path, shared_dir, shopify=("1clickblinds", "usdepots"))
    with running_storefront(catalog, page_cap=500) as sf:
        complete, sink, _ = fetch(sf.shopify_url("1clickblinds"))
        assert complete and not sink.errors
        ids = sink.product_ids
        assert len(ids) == len(set(ids)) == 1973 and set(ids) == set(source_ids(catalog, "1clickblinds"))
        assert any("/collections/" in u for u, _ in sink.pages)
        # usdepots has 617 products and no product types: its one collection is over the cap too.
        complete, sink, _ = fetch(sf.shopify_url("usdepots"))
    assert not complete and len(set(sink.product_ids)) == 500
    codes = [e[2] for e in sink.errors]
    assert "capped" in codes and "short" in codes


def test_bad_records_are_quarantined_and_the_page_kept(small: Path, tmp_path: Path) -> None:
    catalog = tmp_path
    src = small / "shopify" / "analemma"
    dst = catalog / "shopify" / "analemma"
    dst.mkdir(parents=True)
    (dst / "meta.json").write_text((src / "meta.json").read_text())
    data: dict[str, Any] = json.loads((src / "products.json").read_text())
    data["products"][0]["variants"][0]["price"] = "free!"
    data["products"][1]["title"] = ""
    (dst / "products.json").write_text(json.dumps(data))
    with running_storefront(catalog) as sf:
        complete, sink, _ = fetch(sf.shopify_url("analemma"))
    assert complete and not sink.errors
    assert sorted(q.reason for q in sink.quarantined) == ["missing title", "unparseable price 'free!'"]
    assert len(sink.product_ids) == len(data["products"]) - 2


@pytest.mark.parametrize(("faults", "code"), [("html=1.0", "html"), ("truncate=1.0", "bad_json"),
                                               ("500=1.0", "5xx"), ("429=1.0", "429")])
def test_faults_that_never_clear_are_recorded(small: Path, faults: str, code: str) -> None:
    with running_storefront(small, faults=faults, retry_after=0.01) as sf:
        complete, sink, retried = fetch(sf.shopify_url("analemma"), retries=2)
    assert not complete and not sink.pages
    assert [(e[2], e[0].endswith("/meta.json")) for e in sink.errors] == [(code, True)]
    assert sum(retried.values()) == 2


def test_an_unknown_store_is_a_recorded_404(small: Path) -> None:
    with running_storefront(small) as sf:
        complete, sink, _ = fetch(sf.shopify_url("no-such-store"))
    assert not complete and [(e[1], e[2]) for e in sink.errors] == [(404, "http_404")]
