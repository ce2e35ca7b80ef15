"""Live re-check: read each cart item's current price and availability from its merchant, right now.

The merchant's answer is authoritative; the index is never trusted over it. For each item:

* **Shopify**: ``GET {store}/products/{handle}.js`` (prices in cents, i.e. the amount × 100 whatever
  the currency; converted to the currency's minor units). The variant's ``available`` and ``price``
  are read; a product that answers 404, or that no longer has the variant, is ``no_longer_listed``.
* **Etsy**: ``GET {api}/listings/{id}`` (state, personalisation) and ``/listings/{id}/inventory``
  (the variant's enabled offering: price, quantity), plus ``/shops/{shop_id}`` once per shop
  (vacation), all with ``x-api-key`` (``settings.etsy_api_key``, from ``EngineSettings``: env ``AISLE_ETSY_API_KEY``).
* A merchant that cannot be read (network error, timeout, 5xx, 429, non-JSON answer, missing API
  key) gives ``merchant_unreachable``: the item is not eligible and its live price is unknown
  (``price`` null, ``indexed_price`` says what the index had).
* The other rules are :func:`search.filter.eligibility.static_reasons` applied to the live facts (no
  ``stale_data``: the data was just read). Shipping comes from the indexed ship-to list.
* A price that differs from the indexed one sets ``price_changed`` with both prices.

Items are grouped per merchant and merchants are read in parallel (``check_workers``); each product
is read once however many of its variants are in the cart. One checkout per merchant: Shopify, one
cart permalink with all that store's *eligible* items (none eligible: no link); Etsy, which has no
multi-item cart link, the listing URL per item in ``item_urls`` and, as ``checkout_url``, the single
listing's URL or, for several listings, the shop's page.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from indexer.attributes import currency_exponent, from_divisor
from indexer.models import Merchant, Product, Variant
from indexer.sanitise import plain_text as plain
from search.filter.catalog import CatalogArrays
from search.filter.eligibility import Policy, cart_permalink, iso, static_reasons
from search.schema import CheckedItem, CheckRequest, CheckResponse, MerchantCheckout, MerchantOut, Money


class CheckSettings(Protocol):
    """What the re-check reads from the engine's settings (:class:`search.engine.EngineSettings` has it).

    A structural type, so this module needs nothing from the engine: the engine calls the re-check,
    never the other way round.
    """

    @property
    def etsy_api_key(self) -> str | None: ...
    @property
    def http_timeout_s(self) -> float: ...
    @property
    def check_workers(self) -> int: ...
    def policy(self) -> Policy: ...


class _Unreachable(Exception):
    pass


class _Gone(Exception):
    pass


@dataclass
class _Live:
    """What the merchant said about one product: per variant id (price, currency, available, quantity)."""

    variants: dict[str, tuple[int | None, str, bool, int | None]]
    product: Product
    merchant: Merchant


def _get_json(http: httpx.Client, url: str, headers: dict[str, str] | None = None) -> Any:
    try:
        r = http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise _Unreachable(str(exc)) from None
    if r.status_code == 404:
        raise _Gone(url)
    if r.status_code != 200:
        raise _Unreachable(f"HTTP {r.status_code}")
    try:
        return r.json()
    except ValueError:
        raise _Unreachable("not JSON") from None


def _money(money: Any, fallback: str) -> tuple[int | None, str]:
    """Etsy Money → (minor units, currency); (None, fallback) when absent or malformed."""
    if not isinstance(money, dict):
        return None, fallback
    cur = str(money.get("currency_code") or fallback).upper()
    amount, divisor = money.get("amount"), money.get("divisor")
    if not isinstance(amount, int) or not isinstance(divisor, int):
        return None, cur
    return from_divisor(amount, divisor, cur), cur


def _shopify(http: httpx.Client, p: Product, m: Merchant) -> _Live:
    if not p.handle:
        raise _Gone("no handle")
    data = _get_json(http, f"{m.base_url.rstrip('/')}/products/{quote(p.handle, safe='')}.js")
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        raise _Unreachable("unexpected product.js shape")
    exp = currency_exponent(m.currency)
    out: dict[str, tuple[int | None, str, bool, int | None]] = {}
    for v in data["variants"]:
        if not isinstance(v, dict) or v.get("id") is None:
            continue
        cents = v.get("price")
        price = None
        if isinstance(cents, int) and not isinstance(cents, bool) and cents >= 0:
            price = cents * 10**exp // 100  # Shopify AJAX prices are amount × 100 in every currency
        out[str(v["id"])] = (price, m.currency, bool(v.get("available")), None)
    return _Live(out, p, m)


def _etsy(http: httpx.Client, p: Product, m: Merchant, key: str | None, shop_ok: Callable[[], bool]) -> _Live:
    if not key:
        raise _Unreachable("no Etsy API key (set AISLE_ETSY_API_KEY)")
    hdr = {"x-api-key": key}
    base = m.base_url.rstrip("/")
    listing = _get_json(http, f"{base}/listings/{quote(p.product_id, safe='')}", hdr)
    inv = _get_json(http, f"{base}/listings/{quote(p.product_id, safe='')}/inventory", hdr)
    if not isinstance(listing, dict) or not isinstance(inv, dict):
        raise _Unreachable("unexpected Etsy answer")
    state = str(listing.get("state") or "active")
    if state in ("inactive", "draft", "expired", "removed"):
        raise _Gone(state)
    active = state == "active"
    out: dict[str, tuple[int | None, str, bool, int | None]] = {}
    for i, ip in enumerate(inv.get("products") or []):
        if not isinstance(ip, dict) or ip.get("is_deleted"):
            continue
        offs = [o for o in ip.get("offerings") or [] if isinstance(o, dict) and not o.get("is_deleted")]
        off = next((o for o in offs if o.get("is_enabled")), offs[0] if offs else None)
        price, cur = _money(off.get("price") if off else None, m.currency)
        qty = off.get("quantity") if off else None
        qty = qty if isinstance(qty, int) and not isinstance(qty, bool) else None
        ok = bool(active and off is not None and off.get("is_enabled") and (qty is None or qty > 0))
        pid = ip.get("product_id")
        out[str(pid if pid is not None else f"{p.product_id}-{i}")] = (price, cur, ok, qty)
    if not out:  # a listing without an inventory: the listing is the one variant
        price, cur = _money(listing.get("price"), m.currency)
        qty = listing.get("quantity") if isinstance(listing.get("quantity"), int) else None
        out[p.product_id] = (price, cur, active and (qty is None or qty > 0), qty)
    live_p = dataclasses.replace(p, personalization_required=bool(listing.get("personalization_is_required")))
    live_m = dataclasses.replace(m, available=shop_ok())
    return _Live(out, live_p, live_m)


def _shop_checker(http: httpx.Client, m: Merchant, key: str | None) -> Callable[[], bool]:
    """Reads the Etsy shop once (vacation); an unreadable shop keeps the indexed flag."""
    cache: dict[str, bool] = {}

    def ok() -> bool:
        if "v" not in cache:
            try:
                shop = _get_json(http, f"{m.base_url.rstrip('/')}/shops/{quote(m.merchant_id, safe='')}",
                                 {"x-api-key": key or ""})
                cache["v"] = not bool(shop.get("is_vacation")) if isinstance(shop, dict) else m.available
            except (_Unreachable, _Gone):
                cache["v"] = m.available
        return cache["v"]

    return ok


def _check_merchant(
    http: httpx.Client, cat: CatalogArrays, mid: str, items: list[tuple[int, int, int]], country: str,
    settings: CheckSettings, now: float,
) -> list[tuple[int, CheckedItem]]:
    """Re-check one merchant's items ``(position in request, flat variant index, quantity)``."""
    merchant = cat.merchants.get(mid)
    policy = dataclasses.replace(settings.policy(), stale_ttl_s=None)
    shop_ok = _shop_checker(http, merchant, settings.etsy_api_key) if merchant is not None else (lambda: False)
    lives: dict[int, _Live | str] = {}
    out: list[tuple[int, CheckedItem]] = []
    for pos, v, qty in items:
        row = int(cat.var_row[v])
        p = cat.products[row]
        indexed = p.variants[v - int(cat.var_start[row])]
        if row not in lives:
            try:
                if merchant is None:
                    raise _Unreachable("merchant missing from the snapshot")
                if p.platform == "shopify":
                    lives[row] = _shopify(http, p, merchant)
                else:
                    lives[row] = _etsy(http, p, merchant, settings.etsy_api_key, shop_ok)
            except _Gone:
                lives[row] = "no_longer_listed"
            except _Unreachable:
                lives[row] = "merchant_unreachable"
        live = lives[row]
        indexed_price = Money(amount=indexed.price, currency=indexed.currency) if indexed.price is not None else None
        base: dict[str, Any] = {"variant_id": indexed.variant_id, "doc_id": p.doc_id, "quantity": qty,
                                "title": plain(p.title), "indexed_price": indexed_price, "checked_at": iso(now)}
        if isinstance(live, str) or indexed.variant_id not in live.variants:
            reason = live if isinstance(live, str) else "no_longer_listed"
            out.append((pos, CheckedItem(**base, eligible=False, reasons=[reason], price=None, available=False)))
            continue
        price, cur, available, quantity = live.variants[indexed.variant_id]
        lv: Variant = dataclasses.replace(indexed, price=price, currency=cur, available=available, quantity=quantity)
        reasons, notes = static_reasons(live.product, lv, live.merchant, country=country, quantity=qty, policy=policy)
        live_price = Money(amount=price, currency=cur) if price is not None else None
        changed = (price, cur.upper()) != (indexed.price, (indexed.currency or "").upper())
        out.append((pos, CheckedItem(**base, eligible=not reasons, reasons=reasons, price=live_price,
                                     price_changed=changed, available=available, notes=notes)))
    return out


def _checkout(cat: CatalogArrays, mid: str, entries: list[tuple[CheckedItem, int]]) -> MerchantCheckout:
    m = cat.merchants.get(mid)
    items = [i for i, _ in entries]
    rows = [cat.products[int(cat.var_row[v])] for _, v in entries]
    platform = rows[0].platform
    eligible = all(i.eligible for i in items)
    urls: list[str] = []
    url: str | None
    if platform == "shopify":
        good = [(i.variant_id, i.quantity) for i in items if i.eligible]
        url = cart_permalink(m.base_url, good) if (m is not None and good) else None
        urls = [cart_permalink(m.base_url, [(i.variant_id, i.quantity)]) if m else "" for i in items]
    else:
        urls = [p.url for p in rows]
        distinct = list(dict.fromkeys(urls))
        url = distinct[0] if len(distinct) == 1 else ((m.shop_url if m else None) or distinct[0])
    return MerchantCheckout(
        merchant=MerchantOut(id=mid, name=plain(m.name) if m else mid), platform=platform, checkout_url=url,
        variant_ids=[i.variant_id for i in items], eligible=eligible, item_urls=urls,
    )


def check_items(
    request: CheckRequest, cat: CatalogArrays, *, settings: CheckSettings, http: httpx.Client | None, now: float
) -> CheckResponse:
    """Re-check every item of ``request`` live (rules in the module docstring)."""
    country = request.country.upper()
    by_merchant: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    results: dict[int, CheckedItem] = {}
    for pos, item in enumerate(request.items):
        cands = cat.variant_index.get(item.variant_id, [])
        if item.doc_id:
            cands = [v for v in cands if cat.products[cat.var_row[v]].doc_id == item.doc_id]
        if not cands:
            results[pos] = CheckedItem(variant_id=item.variant_id, doc_id=item.doc_id, quantity=item.quantity,
                                       eligible=False, reasons=["unknown_variant"], price=None, checked_at=iso(now))
            continue
        v = cands[0]
        by_merchant[cat.products[cat.var_row[v]].merchant_id].append((pos, v, item.quantity))
    client = http or httpx.Client(timeout=settings.http_timeout_s, follow_redirects=True, max_redirects=3,
                                  headers={"user-agent": "aisle-recheck/0.1"})
    try:
        if by_merchant:
            workers = max(1, min(settings.check_workers, len(by_merchant)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_check_merchant, client, cat, mid, items, country, settings, now)
                           for mid, items in by_merchant.items()]
                for f in futures:
                    results.update(dict(f.result()))
    finally:
        if http is None:
            client.close()
    items = [results[i] for i in range(len(request.items))]
    checkouts = []
    for mid, its in by_merchant.items():
        checkouts.append(_checkout(cat, mid, [(results[pos], v) for pos, v, _ in its]))
    return CheckResponse(country=country, items=items, checkouts=checkouts, eligible=all(i.eligible for i in items))
