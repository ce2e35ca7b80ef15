"""Fetch one Shopify store's public catalog: ``/meta.json``, then ``/products.json`` pages.

Walk rules (facts in ``shared/notes/platforms.md``):

* Pages of ``limit`` (max 250) products, ``page=1, 2, ...``; the walk stops at an empty or short page.
* Products are de-duplicated by ``id`` across the whole store. A page whose products were *all*
  already seen in the same walk is a repeated page: it is fetched again (a retry of kind ``dup``);
  if it keeps repeating, the store is taken to repeat its last page and the walk ends there.
* When the page cap answers 400 (``page * limit > 25000``), the store is walked again per collection
  (``/collections.json``, then ``/collections/<handle>/products.json``), de-duplicating by id.
  A collection that is itself over the cap is recorded as an error (the crawl is then incomplete).
* A page that fails for good (after the client's retries) is recorded and skipped; the walk goes on,
  and gives up after 3 failed pages in a row. A 4xx other than the cap (endpoint disabled: 401, 403,
  404) ends the walk. Any recorded error makes the crawl incomplete.
* When the walk ended in an unusual way (cap reached, repeated page) and found fewer products than
  ``meta.json``'s ``published_products_count``, the shortfall is recorded as an error too, so that an
  unreachable part of a catalog is never mistaken for removed products.
"""

from __future__ import annotations

from typing import Any

from indexer import jsontext
from indexer.crawl.http import PoliteClient
from indexer.crawl.pagesink import PageSink, ParsedPage, Skip
from indexer.crawl.parse import shopify_merchant, shopify_product
from indexer.errors import FetchError
from indexer.models import Merchant, Product, Quarantined, make_doc_id

MAX_LIMIT = 250
_MAX_FAILED_IN_A_ROW = 3


def parse_page(merchant: Merchant, raws: list[dict[str, Any]], skip: Skip | None = None) -> ParsedPage:
    """Parse one page's product dicts into ``(product, source JSON)`` pairs, quarantined records and the
    doc_ids that ``skip`` says are stored unchanged (those are not parsed)."""
    items: list[tuple[Product, str]] = []
    bad: list[Quarantined] = []
    same: list[str] = []
    for raw in raws:
        text = jsontext.dumps(raw)
        pid = raw.get("id")
        if skip is not None and isinstance(pid, int) and not isinstance(pid, bool):
            doc_id = make_doc_id("shopify", merchant.merchant_id, pid)
            if skip(doc_id, text):
                same.append(doc_id)
                continue
        rec = shopify_product(raw, merchant)
        if isinstance(rec, Quarantined):
            bad.append(rec)
        else:
            items.append((rec, text))
    return items, bad, same


def _products_of(body: Any) -> list[Any] | None:
    products = body.get("products") if isinstance(body, dict) else None
    return products if isinstance(products, list) else None


def _pid(raw: Any) -> Any:
    return raw.get("id") if isinstance(raw, dict) else None


class _StoreWalk:
    """State of one store's crawl: ids seen, errors, how walks ended."""

    def __init__(self, client: PoliteClient, base: str, merchant: Merchant, sink: PageSink, limit: int) -> None:
        self.client, self.base, self.merchant, self.sink, self.limit = client, base, merchant, sink, limit
        self.seen: set[Any] = set()
        self.errors = 0
        self.unusual_end = False

    async def _error(self, url: str, status: int | None, code: str, message: str) -> None:
        self.errors += 1
        await self.sink.error(url, status, code, message)

    async def walk(self, url: str) -> str:
        """Walk one paged product listing; returns ``done``, ``capped`` or ``failed``."""
        walk_seen: set[Any] = set()

        def repeated(body: Any) -> str | None:
            ids = [i for i in (_pid(p) for p in _products_of(body) or []) if i is not None]
            if ids and all(i in walk_seen for i in ids):
                return f"page repeats {len(ids)} products already read from {url}"
            return None

        page, failed_in_a_row = 1, 0
        while True:
            params = {"limit": self.limit, "page": page}
            page_url = f"{url}?limit={self.limit}&page={page}"
            try:
                body = await self.client.get_json(url, params=params, check=repeated)
            except FetchError as exc:
                if exc.status == 400 and page > 1:
                    return "capped"
                if exc.code == "dup":  # the store keeps repeating a page: treat it as the end
                    self.unusual_end = True
                    return "done"
                await self._error(exc.url or page_url, exc.status, exc.code, exc.message)
                failed_in_a_row += 1
                if (exc.status is not None and 400 <= exc.status < 500 and exc.status != 429) or (
                        failed_in_a_row >= _MAX_FAILED_IN_A_ROW):
                    return "failed"
                page += 1
                continue
            products = _products_of(body)
            if products is None:
                await self._error(page_url, 200, "bad_shape", "answer has no 'products' list")
                return "failed"
            failed_in_a_row = 0
            fresh: list[dict[str, Any]] = []
            for raw in products:
                pid = _pid(raw)
                if pid is not None:
                    walk_seen.add(pid)
                    if pid in self.seen:
                        continue
                    self.seen.add(pid)
                if isinstance(raw, dict):
                    fresh.append(raw)
                else:
                    fresh.append({"id": None, "_not_an_object": raw})  # quarantined by the parser
            if fresh:
                merchant = self.merchant
                await self.sink.page(page_url, lambda skip, m=merchant, r=fresh: parse_page(m, r, skip))  # type: ignore[misc]
            if len(products) < self.limit:
                return "done"
            page += 1

    async def walk_collections(self) -> str:
        """Walk every collection's products (after the page cap); ``done`` or ``failed``."""
        handles: list[str] = []
        page = 1
        while True:
            url = f"{self.base}/collections.json"
            try:
                body = await self.client.get_json(url, params={"limit": self.limit, "page": page})
            except FetchError as exc:
                if not (exc.status == 400 and page > 1):
                    await self._error(exc.url or url, exc.status, exc.code, exc.message)
                    return "failed"
                await self._error(exc.url or url, exc.status, "capped",
                                  "the collection list itself exceeds the page cap")
                break
            cols = body.get("collections") if isinstance(body, dict) else None
            if not isinstance(cols, list):
                await self._error(f"{url}?page={page}", 200, "bad_shape", "answer has no 'collections' list")
                return "failed"
            new = [str(c["handle"]) for c in cols if isinstance(c, dict) and c.get("handle")
                   and str(c["handle"]) not in handles]
            handles += new
            if len(cols) < self.limit or not new:
                break
            page += 1
        result = "done"
        for handle in handles:
            url = f"{self.base}/collections/{handle}/products.json"
            status = await self.walk(url)
            if status == "capped":
                self.unusual_end = True
                await self._error(url, 400, "capped", f"collection {handle!r} exceeds the page cap; "
                                  "its products past the cap cannot be listed")
            elif status == "failed":
                result = "failed"
        return result


async def crawl_shopify(client: PoliteClient, store_url: str, sink: PageSink, *, limit: int = MAX_LIMIT) -> bool:
    """Crawl one Shopify store into ``sink``; True when the crawl is complete (see module docstring)."""
    base = store_url.rstrip("/")
    limit = max(1, min(MAX_LIMIT, limit))
    try:
        meta = await client.get_json(f"{base}/meta.json")
        merchant = shopify_merchant(meta, base)
    except FetchError as exc:
        await sink.error(exc.url or f"{base}/meta.json", exc.status, exc.code, exc.message)
        return False
    except (ValueError, TypeError, AttributeError) as exc:
        await sink.error(f"{base}/meta.json", 200, "bad_meta", f"meta.json is unusable: {exc}")
        return False
    expected = meta.get("published_products_count")
    expected = expected if isinstance(expected, int) and not isinstance(expected, bool) else None
    await sink.merchant(merchant, meta)
    sink.expect(expected)
    w = _StoreWalk(client, base, merchant, sink, limit)
    status = await w.walk(f"{base}/products.json")
    if status == "capped":
        w.unusual_end = True
        status = await w.walk_collections()
    if status == "done" and w.unusual_end and expected is not None and len(w.seen) < expected:
        await w._error(f"{base}/products.json", None, "short",
                       f"found {len(w.seen)} of the {expected} published products")
    return status == "done" and w.errors == 0
