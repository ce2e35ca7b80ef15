"""Helpers shared by the store/crawler tests (plain functions, not fixtures)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from indexer.crawl.pagesink import ParsedPage, Skip
from indexer.crawl.run import CrawlSettings
from indexer.crawl.targets import Target
from indexer.models import Merchant


def make_catalog(root: Path, shared: Path, shopify: tuple[str, ...] = (), etsy: tuple[str, ...] = ()) -> Path:
    """A catalog directory under ``root`` with copies of some shared stores (so tests may edit them)."""
    for platform, slugs in (("shopify", shopify), ("etsy", etsy)):
        for slug in slugs:
            shutil.copytree(shared / "catalogs" / platform / slug, root / platform / slug)
    return root


def fast_settings(sf: Any, **overrides: Any) -> CrawlSettings:
    """Crawl settings for a simulator: no politeness delay, short timeouts and backoff, loopback allowed."""
    base: dict[str, Any] = dict(delay=0.0, timeout=2.0, retries=4, backoff_base=0.01, backoff_max=0.05,
                                etsy_api=sf.etsy_api, etsy_api_key="testkey:testsecret", allow_hosts=("127.0.0.1",))
    base.update(overrides)
    return CrawlSettings(**base)


def all_targets(sf: Any) -> list[Target]:
    """Every store and shop the simulator serves."""
    return [Target.shopify(sf.shopify_url(s)) for s in sf.shopify_slugs] + [
        Target.etsy(i) for i in sf.etsy_shop_ids.values()]


def expected_counts(catalog: Path) -> dict[str, int]:
    """merchant_id → products a crawl must find: every Shopify product; every *active* Etsy listing
    (the Etsy API lists only active listings)."""
    out: dict[str, int] = {}
    for d in sorted((catalog / "shopify").glob("*")):
        meta = json.loads((d / "meta.json").read_text())
        ids = {p["id"] for p in json.loads((d / "products.json").read_text())["products"]}
        out[meta["myshopify_domain"]] = len(ids)
    for d in sorted((catalog / "etsy").glob("*")):
        shop = json.loads((d / "shop.json").read_text())
        listings = json.loads((d / "listings.json").read_text())["results"]
        out[str(shop["shop_id"])] = len({x["listing_id"] for x in listings if x.get("state") == "active"})
    return out


class RecordingSink:
    """A PageSink that parses pages immediately and keeps everything in memory."""

    def __init__(self) -> None:
        self.merchants: list[Merchant] = []
        self.pages: list[tuple[str, ParsedPage]] = []
        self.errors: list[tuple[str, int | None, str, str]] = []
        self.expected: int | None = None

    async def merchant(self, merchant: Merchant, raw: dict[str, Any]) -> None:
        self.merchants.append(merchant)

    def expect(self, total: int | None) -> None:
        self.expected = total

    async def page(self, url: str, build: Callable[[Skip | None], ParsedPage]) -> None:
        self.pages.append((url, build(None)))

    async def error(self, url: str, status: int | None, code: str, message: str) -> None:
        self.errors.append((url, status, code, message))

    @property
    def product_ids(self) -> list[str]:
        return [p.product_id for _, (items, _, _) in self.pages for p, _ in items]

    @property
    def quarantined(self) -> list[Any]:
        return [q for _, (_, bad, _) in self.pages for q in bad]
