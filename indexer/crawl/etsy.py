"""Fetch one Etsy shop through the Open API v3: the shop, its active listings, each listing's inventory.

* ``GET /shops/{shop_id}``, then ``GET /shops/{shop_id}/listings/active?limit=100&offset=N`` until a
  short or empty page or ``offset >= count``, then ``GET /listings/{id}/inventory`` for each new listing.
  Every call sends ``x-api-key: keystring:shared_secret``.
* Listings are de-duplicated by ``listing_id``; a page whose listings were all read before in this
  walk is a repeated page and is fetched again (retry kind ``dup``).
* A listing whose inventory cannot be fetched is recorded as an error and not stored (its previous
  version, if any, stays); a failed listings page is recorded and skipped. Either makes the crawl
  incomplete, so nothing is marked removed.
* Inventory is an owner-only read on Etsy. A **connected** shop (its owner granted ``listings_r``; tokens in
  the workspace, :mod:`indexer.crawl.etsy_auth`) is read with ``Authorization: Bearer`` as well, refreshed
  before expiry and after a 401. A **public** shop (no grant) is read at listing level: no inventory calls;
  a listing with variations becomes a product whose variants are unknown (see
  :func:`indexer.crawl.parse.etsy_product`). A grant revoked mid-crawl stops that shop's walk with the error
  ``etsy_auth_revoked``; the page being read is not stored, so the stored catalog is left as it was.
* Every request takes one unit of the key's daily budget (:mod:`indexer.crawl.etsy_budget`). When it is spent
  the walk stops cleanly with ``etsy_daily_budget`` (the page being read is not stored; nothing is marked
  removed) and the next crawl of the shop resumes at that offset (saying so with ``etsy_resumed``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from indexer import jsontext
from indexer.crawl.etsy_auth import EtsyAuth, TokenStore
from indexer.crawl.etsy_budget import DEFAULT_PER_DAY, BudgetExhausted, DailyBudget, shared_budget
from indexer.crawl.http import PoliteClient
from indexer.crawl.pagesink import PageSink, ParsedPage, Skip
from indexer.crawl.parse import etsy_merchant, etsy_product
from indexer.errors import EtsyAuthError, EtsyAuthRevoked, FetchError
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


_UNKNOWN_COUNT = 1 << 62  # the shop did not say how many listings it has: walk until a short page


async def crawl_etsy(client: PoliteClient, api_base: str, shop_id: str, api_key: str, sink: PageSink, *,
                     limit: int = MAX_LIMIT, tokens: str | None = None, per_day: int = DEFAULT_PER_DAY) -> bool:
    """Crawl one Etsy shop into ``sink``; True when the crawl is complete (see module docstring).

    ``tokens`` is the workspace home holding connected shops' tokens and the daily budget (None: every shop
    is public, the budget is counted in memory); ``per_day`` is the daily request budget of the key.
    """
    api = api_base.rstrip("/")
    walk = _ShopWalk(client, api, shop_id, api_key, sink, limit=max(1, min(MAX_LIMIT, limit)))
    walk.budget = shared_budget(Path(tokens) if tokens is not None else None, api_key, per_day)
    if tokens is not None:
        auth = EtsyAuth(TokenStore(Path(tokens)), client.guard)
        walk.auth = auth if auth.connected(shop_id) else None
    merchant = await walk.merchant(f"{api}/shops/{shop_id}")
    if merchant is None:
        return False
    return await walk.listings(merchant)


class _ShopWalk:
    """One shop's crawl: the requests it makes, the listings it has read, the errors it recorded."""

    def __init__(self, client: PoliteClient, api: str, shop_id: str, api_key: str, sink: PageSink, *,
                 limit: int) -> None:
        self.client, self.api, self.sink, self.limit = client, api, sink, limit
        self.headers = {"x-api-key": api_key}
        self.shop_id = shop_id
        self.auth: EtsyAuth | None = None  # None: a public shop, read at listing level
        self.revoked = False
        self.budget: DailyBudget | None = None
        self.out_of_budget = False
        self.listings_url = f"{api}/shops/{shop_id}/listings/active"
        self.errors = 0
        self.seen: set[Any] = set()  # listings taken in this crawl
        self.walk_seen: set[Any] = set()  # every listing id a page showed (a page of only these is repeated)

    async def error(self, url: str, status: int | None, code: str, message: str) -> None:
        self.errors += 1
        await self.sink.error(url, status, code, message)

    async def merchant(self, shop_url: str) -> Merchant | None:
        """Fetch the shop and announce it to the sink; None (error recorded) when it cannot be read."""
        try:
            self.spend()
            shop = await self.client.get_json(shop_url, headers=self.headers)
            merchant = etsy_merchant(shop, self.api)
        except BudgetExhausted as exc:
            await self.error(shop_url, None, exc.code, exc.message)
            return None
        except FetchError as exc:
            await self.error(exc.url or shop_url, exc.status, exc.code, exc.message)
            return None
        except (ValueError, TypeError, AttributeError) as exc:
            await self.error(shop_url, 200, "bad_shop", f"shop answer is unusable: {exc}")
            return None
        await self.sink.merchant(merchant, shop)
        return merchant

    async def owner_get(self, url: str) -> Any:
        """GET an owner-only resource with the shop's bearer token (one refresh and retry after a 401)."""
        assert self.auth is not None
        token = await self.auth.bearer(self.shop_id)
        try:
            self.spend()
            return await self.client.get_json(url, headers={**self.headers, "authorization": f"Bearer {token}"})
        except FetchError as exc:
            if exc.status != 401:
                raise
        token = await self.auth.bearer(self.shop_id, stale=token)
        self.spend()
        return await self.client.get_json(url, headers={**self.headers, "authorization": f"Bearer {token}"})

    async def listings(self, merchant: Merchant) -> bool:
        """Walk the active listings page by page; True when every listing was read without error."""
        start = self.budget.resume_offset(self.shop_id) if self.budget is not None else 0
        offset, failed_in_a_row, count = start, 0, None
        if start:
            await self.error(self.listings_url, None, "etsy_resumed", f"resumed at listing offset {start} where the "
                             "daily budget stopped the last crawl; listings before it were not re-read")
        while count is None or offset < count:
            page_url = f"{self.listings_url}?limit={self.limit}&offset={offset}"
            try:
                self.spend()
                body = await self.client.get_json(self.listings_url, params={"limit": self.limit, "offset": offset},
                                                  headers=self.headers, check=self.repeated)
            except BudgetExhausted as exc:
                return await self.budget_stop(page_url, offset, exc)
            except FetchError as exc:
                if exc.code == "dup":
                    break
                await self.error(exc.url or page_url, exc.status, exc.code, exc.message)
                failed_in_a_row += 1
                if _give_up(exc, count, failed_in_a_row):
                    return False
                offset += self.limit
                continue
            results = _results(body)
            if results is None:
                await self.error(page_url, 200, "bad_shape", "answer has no 'results' list")
                return False
            failed_in_a_row = 0
            if count is None:
                count = self.expect(body)
            await self.page(merchant, page_url, results)
            if self.budget is not None:
                self.budget.flush()
            if self.revoked:
                return False
            if self.out_of_budget:  # this page was not stored: the next crawl starts with it
                return await self.budget_stop(page_url, offset, None)
            offset += len(results)
            if len(results) < self.limit:
                break
        if self.budget is not None:
            self.budget.remember(self.shop_id, None)  # walked to the end: the next crawl starts from 0
        if self.errors == 0 and count is not None and count < _UNKNOWN_COUNT and len(self.seen) < count:
            await self.error(self.listings_url, None, "short", f"found {len(self.seen)} of the {count} active listings")
        return self.errors == 0

    def spend(self) -> None:
        """One request of the daily budget (BudgetExhausted when it is spent)."""
        if self.budget is not None:
            self.budget.take()

    async def budget_stop(self, url: str, offset: int, exc: BudgetExhausted | None) -> bool:
        """Stop the walk for the daily budget: remember where, record it once, and report incomplete."""
        assert self.budget is not None
        self.budget.remember(self.shop_id, offset)
        if not self.out_of_budget:
            self.out_of_budget = True
            message = exc.message if exc is not None else "Etsy's daily request budget is spent"
            await self.error(url, None, BudgetExhausted.code, f"{message} (listing offset {offset})")
        return False

    def repeated(self, body: Any) -> str | None:
        """The reason a listings page is a repeat of listings read before (None when it is not)."""
        ids = [r.get("listing_id") for r in _results(body) or [] if isinstance(r, dict)]
        if ids and all(i in self.walk_seen for i in ids):
            return f"page repeats {len(ids)} listings already read"
        return None

    def expect(self, body: dict[str, Any]) -> int:
        """Announce the shop's listing count (from the first page) to the sink and return it."""
        c = body.get("count")
        count = c if isinstance(c, int) and not isinstance(c, bool) else None
        self.sink.expect(count)
        return _UNKNOWN_COUNT if count is None else count

    async def page(self, merchant: Merchant, page_url: str, results: list[Any]) -> None:
        """Fetch the inventories of a page's new listings and hand the pairs to the sink."""
        fresh: list[dict[str, Any]] = []
        for r in results:
            lid = r.get("listing_id") if isinstance(r, dict) else None
            if lid is not None:
                self.walk_seen.add(lid)
                if lid in self.seen:
                    continue
                self.seen.add(lid)
            fresh.append(r if isinstance(r, dict) else {"listing_id": None, "_not_an_object": r})
        if self.auth is None:  # public: the listing is all there is
            pairs: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(r, None) for r in fresh]
        else:
            wanted = [r["listing_id"] for r in fresh if isinstance(r.get("listing_id"), int)]
            got = await asyncio.gather(*(self.inventory(lid) for lid in wanted))
            invs: dict[Any, dict[str, Any] | None] = dict(got)
            if self.revoked or self.out_of_budget:  # nothing of this page is stored: the catalog keeps what it had
                return
            # A listing whose inventory failed is left out (error recorded); one without a usable id goes to the
            # parser, which quarantines it with its reason.
            pairs = [(r, invs.get(r.get("listing_id"))) for r in fresh
                     if not (isinstance(r.get("listing_id"), int) and invs.get(r["listing_id"]) is None)]
        if pairs:
            await self.sink.page(page_url, lambda skip, m=merchant, p=pairs: parse_page(m, p, skip))  # type: ignore[misc]

    async def inventory(self, lid: int) -> tuple[int, dict[str, Any] | None]:
        """One listing's inventory; None (error recorded) when it cannot be fetched or is not an object."""
        url = f"{self.api}/listings/{lid}/inventory"
        try:
            inv = await self.owner_get(url)
        except BudgetExhausted as exc:
            if not self.out_of_budget:
                self.out_of_budget = True
                await self.error(url, None, exc.code, f"Etsy shop {self.shop_id}: {exc.message}")
            return lid, None
        except EtsyAuthRevoked as exc:
            if not self.revoked:
                self.revoked = True
                await self.error(url, 401, exc.code, f"Etsy shop {self.shop_id}: {exc.message}")
            return lid, None
        except EtsyAuthError as exc:
            await self.error(url, None, exc.code, f"inventory of listing {lid}: {exc.message}")
            return lid, None
        except FetchError as exc:
            await self.error(exc.url or url, exc.status, exc.code, f"inventory of listing {lid}: {exc.message}")
            return lid, None
        if not isinstance(inv, dict):
            await self.error(url, 200, "bad_shape", f"inventory of listing {lid} is not an object")
            return lid, None
        return lid, inv


def _give_up(exc: FetchError, count: int | None, failed_in_a_row: int) -> bool:
    """Whether a failed listings page ends the walk: the first page, too many in a row, or a refusal (4xx
    other than 429)."""
    refused = exc.status is not None and 400 <= exc.status < 500 and exc.status != 429
    return count is None or failed_in_a_row >= _MAX_FAILED_IN_A_ROW or refused


def _results(body: Any) -> list[Any] | None:
    results = body.get("results") if isinstance(body, dict) else None
    return results if isinstance(results, list) else None
