"""Fetch one Etsy shop through the Open API v3: the shop, its active listings, each listing's inventory.

* ``GET /shops/{shop_id}``, then ``GET /shops/{shop_id}/listings/active?limit=100&offset=N`` until a
  short or empty page or ``offset >= count``, then ``GET /listings/{id}/inventory`` for each new listing.
  Every call sends ``x-api-key: keystring:shared_secret``.
* Listings are de-duplicated by ``listing_id``; a page whose listings were all read before in this
  walk is a repeated page and is fetched again (retry kind ``dup``).
* A listing whose inventory cannot be fetched is recorded as an error and not stored (its previous
  version, if any, stays); a failed listings page is recorded and skipped. Either makes the crawl
  incomplete, so nothing is marked removed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from indexer import jsontext
from indexer.crawl.http import PoliteClient
from indexer.crawl.pagesink import PageSink, ParsedPage, Skip
from indexer.crawl.parse import etsy_merchant, etsy_product
from indexer.errors import FetchError
from indexer.models import Merchant, Product, Quarantined, make_doc_id

MAX_LIMIT = 100
_MAX_FAILED_IN_A_ROW = 3


def parse_page(merchant: Merchant, pairs: list[tuple[dict[str, Any], dict[str, Any] | None]],
               skip: Skip | None = None) -> ParsedPage:
    """Parse ``(listing, inventory)`` pairs into ``(product, source JSON)`` pairs, quarantined records and
    the doc_ids that ``skip`` says are stored unchanged (those are not parsed)."""
    items: list[tuple[Product, str]] = []
    bad: list[Quarantined] = []
    same: list[str] = []
    for listing, inventory in pairs:
        text = jsontext.dumps({"listing": listing, "inventory": inventory})
        lid = listing.get("listing_id")
        if skip is not None and isinstance(lid, int) and not isinstance(lid, bool):
            doc_id = make_doc_id("etsy", merchant.merchant_id, lid)
            if skip(doc_id, text):
                same.append(doc_id)
                continue
        rec = etsy_product(listing, inventory, merchant)
        if isinstance(rec, Quarantined):
            bad.append(rec)
        else:
            items.append((rec, text))
    return items, bad, same


async def crawl_etsy(client: PoliteClient, api_base: str, shop_id: str, api_key: str, sink: PageSink, *,
                     limit: int = MAX_LIMIT) -> bool:
    """Crawl one Etsy shop into ``sink``; True when the crawl is complete (see module docstring)."""
    api = api_base.rstrip("/")
    headers = {"x-api-key": api_key}
    limit = max(1, min(MAX_LIMIT, limit))
    errors = 0

    async def error(url: str, status: int | None, code: str, message: str) -> None:
        nonlocal errors
        errors += 1
        await sink.error(url, status, code, message)

    shop_url = f"{api}/shops/{shop_id}"
    try:
        shop = await client.get_json(shop_url, headers=headers)
        merchant = etsy_merchant(shop, api)
    except FetchError as exc:
        await sink.error(exc.url or shop_url, exc.status, exc.code, exc.message)
        return False
    except (ValueError, TypeError, AttributeError) as exc:
        await sink.error(shop_url, 200, "bad_shop", f"shop answer is unusable: {exc}")
        return False
    await sink.merchant(merchant, shop)

    async def inventory(lid: int) -> tuple[int, dict[str, Any] | None]:
        url = f"{api}/listings/{lid}/inventory"
        try:
            inv = await client.get_json(url, headers=headers)
        except FetchError as exc:
            await error(exc.url or url, exc.status, exc.code, f"inventory of listing {lid}: {exc.message}")
            return lid, None
        if not isinstance(inv, dict):
            await error(url, 200, "bad_shape", f"inventory of listing {lid} is not an object")
            return lid, None
        return lid, inv

    seen: set[Any] = set()
    walk_seen: set[Any] = set()

    def repeated(body: Any) -> str | None:
        ids = [r.get("listing_id") for r in _results(body) or [] if isinstance(r, dict)]
        if ids and all(i in walk_seen for i in ids):
            return f"page repeats {len(ids)} listings already read"
        return None

    listings_url = f"{api}/shops/{shop_id}/listings/active"
    offset, failed_in_a_row, count = 0, 0, None
    while count is None or offset < count:
        page_url = f"{listings_url}?limit={limit}&offset={offset}"
        try:
            body = await client.get_json(listings_url, params={"limit": limit, "offset": offset},
                                         headers=headers, check=repeated)
        except FetchError as exc:
            if exc.code == "dup":
                break
            await error(exc.url or page_url, exc.status, exc.code, exc.message)
            failed_in_a_row += 1
            if count is None or failed_in_a_row >= _MAX_FAILED_IN_A_ROW or (
                    exc.status is not None and 400 <= exc.status < 500 and exc.status != 429):
                return False
            offset += limit
            continue
        results = _results(body)
        if results is None:
            await error(page_url, 200, "bad_shape", "answer has no 'results' list")
            return False
        failed_in_a_row = 0
        if count is None:
            c = body.get("count")
            count = c if isinstance(c, int) and not isinstance(c, bool) else None
            sink.expect(count)
            if count is None:
                count = 1 << 62  # unknown: walk until a short page
        fresh: list[dict[str, Any]] = []
        for r in results:
            lid = r.get("listing_id") if isinstance(r, dict) else None
            if lid is not None:
                walk_seen.add(lid)
                if lid in seen:
                    continue
                seen.add(lid)
            fresh.append(r if isinstance(r, dict) else {"listing_id": None, "_not_an_object": r})
        wanted = [r["listing_id"] for r in fresh if isinstance(r.get("listing_id"), int)]
        invs: dict[Any, dict[str, Any] | None] = dict(await asyncio.gather(*(inventory(lid) for lid in wanted)))
        # A listing whose inventory failed is left out (error recorded); one without a usable id goes to the
        # parser, which quarantines it with its reason.
        pairs = [(r, invs.get(r.get("listing_id"))) for r in fresh
                 if not (isinstance(r.get("listing_id"), int) and invs.get(r["listing_id"]) is None)]
        if pairs:
            await sink.page(page_url, lambda skip, m=merchant, p=pairs: parse_page(m, p, skip))  # type: ignore[misc]
        offset += len(results)
        if len(results) < limit:
            break
    if errors == 0 and count is not None and count < 1 << 62 and len(seen) < count:
        await error(listings_url, None, "short", f"found {len(seen)} of the {count} active listings")
    return errors == 0


def _results(body: Any) -> list[Any] | None:
    results = body.get("results") if isinstance(body, dict) else None
    return results if isinstance(results, list) else None
