"""Live re-check: read each cart item's current price and availability from its merchant, right now.

The merchant's answer is authoritative; the index is never trusted over it. For each item:

* **Shopify**: ``GET {store}/products/{handle}.js`` (prices in cents, i.e. the amount × 100 whatever
  the currency; converted to the currency's minor units). The variant's ``available`` and ``price``
  are read; a product that answers 404, or that no longer has the variant, is ``no_longer_listed``.
* **Etsy**: ``GET {api}/listings/{id}`` (state, personalisation) and ``/listings/{id}/inventory``
  (the variant's enabled offering: price, quantity), plus ``/shops/{shop_id}`` once per shop
  (vacation), all with ``x-api-key`` (``settings.etsy_api_key``, from ``EngineSettings``: env ``AISLE_ETSY_API_KEY``).
* A merchant that cannot be read (network error, timeout, 5xx, 429, non-JSON answer) gives
  ``merchant_unreachable``: the item is not eligible and its live price is unknown (``price`` null,
  ``indexed_price`` says what the index had). An Etsy item without an API key configured gives
  ``merchant_credentials_missing`` instead (:func:`search.filter.eligibility.credentials_missing`), and no
  request is made: the fix is the operator's, not the merchant's.
* The other rules are :func:`search.filter.eligibility.static_reasons` applied to the live facts (no
  ``stale_data``: the data was just read). Shipping comes from the indexed ship-to list.
* A price that differs from the indexed one sets ``price_changed`` with both prices.

Every request goes through the one guarded client (:class:`indexer.crawl.guarded.GuardedClient`): the
merchant URL and every redirect hop are checked against the SSRF guard (allow-list: ``allow_hosts``, from
``--allow-host``/``AISLE_ALLOW_HOSTS``) and connected to at the address that was checked; ``x-api-key``
never follows a redirect to another origin. A refused hop makes the item ``merchant_unreachable``.

Amplification is bounded (:class:`LiveChecker`): one call reads at most ``check_max_products`` products
live, at most ``check_max_per_merchant`` of them from one merchant (a Shopify product costs one request,
an Etsy listing two, plus one per Etsy shop); all calls together read at most ``check_merchant_per_minute``
a minute from one merchant (:mod:`search.checkout.rate`). Items whose product is past a cap are answered, not
fetched: not eligible, reason ``not_checked`` (check them in a later call). A product's fresh answer
(live facts or "no longer listed"; never a failure) is cached for ``check_cache_ttl_s`` seconds and
reused without a merchant request (cache hits cost nothing against the caps); ``checked_at`` then says
when the merchant was actually read, so a reused answer never passes for a newer one.

Items are grouped per merchant and merchants are read in parallel (``check_workers``); each product
is read once however many of its variants are in the cart. One checkout per merchant: Shopify, one
cart permalink with all that store's *eligible* items (none eligible: no link); Etsy, which has no
multi-item cart link, the listing URL per item in ``item_urls`` and, as ``checkout_url``, the single
listing's URL or, for several listings, the shop's page.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from indexer.attributes import currency_exponent, from_divisor
from indexer.crawl.etsy_auth import bearer_sync
from indexer.crawl.guarded import GuardedClient, read_capped
from indexer.crawl.netguard import HostGuard
from indexer.errors import AisleError, ConfigError
from indexer.models import Merchant, Product, Variant
from indexer.sanitise import plain_text as plain
from search.checkout.links import merchant_checkout
from search.checkout.rate import MerchantRate
from search.filter.catalog import CatalogArrays
from search.filter.eligibility import Policy, credentials_missing, iso, static_reasons
from search.schema import CheckedItem, CheckRequest, CheckResponse, Money


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
    @property
    def allow_hosts(self) -> tuple[str, ...]: ...
    @property
    def check_max_products(self) -> int: ...
    @property
    def check_max_per_merchant(self) -> int: ...
    @property
    def check_cache_ttl_s(self) -> float: ...
    @property
    def check_merchant_per_minute(self) -> int: ...
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
        r, data = read_capped(http, url, headers=headers)  # at most 2 MiB, 3 timeouts in all
    except (httpx.HTTPError, AisleError) as exc:  # AisleError: a refused hop, an answer too big or too slow
        raise _Unreachable(str(exc)) from None
    if r.status_code == 404:
        raise _Gone(url)
    if r.status_code != 200:
        raise _Unreachable(f"HTTP {r.status_code}")
    try:
        return json.loads(data)
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


def _etsy(http: httpx.Client, p: Product, m: Merchant, key: str | None, shop_ok: Callable[[], bool],
          bearer: str | None = None) -> _Live:
    if not key:
        raise _Unreachable("no Etsy API key (set AISLE_ETSY_API_KEY)")
    hdr = {"x-api-key": key}
    base = m.base_url.rstrip("/")
    listing = _get_json(http, f"{base}/listings/{quote(p.product_id, safe='')}", hdr)
    # Inventory is owner-only on Etsy: a connected shop is read with its owner's token; for a public shop the
    # listing is all there is (it is then the one variant, at listing level). extra["etsy_access"] says which.
    inv = {} if bearer is None else _get_json(http, f"{base}/listings/{quote(p.product_id, safe='')}/inventory",
                                              {**hdr, "authorization": f"Bearer {bearer}"})
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
    live_p = dataclasses.replace(p, personalization_required=bool(listing.get("personalization_is_required")),
                                 extra={**p.extra, "etsy_access": "public" if bearer is None else "connected"})
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


def _read_live(http: httpx.Client, p: Product, merchant: Merchant | None, key: str | None,
               shop_ok: Callable[[], bool], bearer: Callable[[], str | None] = lambda: None) -> _Live | str:
    """The merchant's answer about one product, or the reason it has none."""
    try:
        if merchant is None:
            raise _Unreachable("merchant missing from the snapshot")
        if p.platform == "shopify":
            return _shopify(http, p, merchant)
        return _etsy(http, p, merchant, key, shop_ok, bearer())
    except _Gone:
        return "no_longer_listed"
    except _Unreachable:
        return "merchant_unreachable"


def _check_merchant(
    cat: CatalogArrays, mid: str, items: list[tuple[int, int, int]], country: str, settings: CheckSettings,
    now: float, read: Callable[[int, Product], tuple[_Live | str, float]],
) -> list[tuple[int, CheckedItem]]:
    """Re-check one merchant's items ``(position in request, flat variant index, quantity)``; ``read(row,
    product)`` gives the merchant's answer (or a reason) for one product and when it was read."""
    policy = dataclasses.replace(settings.policy(), stale_ttl_s=None)
    lives: dict[int, tuple[_Live | str, float]] = {}
    out: list[tuple[int, CheckedItem]] = []
    for pos, v, qty in items:
        row = int(cat.var_row[v])
        p = cat.products[row]
        indexed = p.variants[v - int(cat.var_start[row])]
        if row not in lives:
            lives[row] = read(row, p)
        live, read_at = lives[row]
        indexed_price = Money(amount=indexed.price, currency=indexed.currency) if indexed.price is not None else None
        base: dict[str, Any] = {"variant_id": indexed.variant_id, "doc_id": p.doc_id, "quantity": qty,
                                "title": plain(p.title), "indexed_price": indexed_price, "checked_at": iso(read_at)}
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


_USER_AGENT = "aisle-recheck/0.1"
_Key = tuple[str, str, str, str]


class LiveChecker:
    """The live re-check of one engine: its guarded client, its caps and its cache of fresh answers.

    ``http`` must be a :class:`~indexer.crawl.guarded.GuardedClient` (default: one over
    ``HostGuard(settings.allow_hosts)``, or over ``guard`` when given, e.g. with a test resolver).
    Thread-safe: concurrent calls share the cache. :attr:`fetched` counts products read from merchants.
    """

    def __init__(self, settings: CheckSettings, *, http: httpx.Client | None = None, guard: HostGuard | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if http is not None and not isinstance(http, GuardedClient):
            raise ConfigError("the live re-check only sends requests through indexer.crawl.guarded.GuardedClient")
        if settings.check_max_products < 1 or settings.check_max_per_merchant < 1:
            raise ConfigError("check_max_products and check_max_per_merchant must be at least 1")
        self.settings, self._clock, self._own = settings, clock, http is None
        self.http: httpx.Client = http or GuardedClient(
            guard or HostGuard(settings.allow_hosts), timeout=settings.http_timeout_s, max_redirects=3,
            headers={"user-agent": _USER_AGENT})
        self._cache: dict[_Key, tuple[float, _Live | str, float]] = {}  # key -> (expiry, answer, read at)
        self._lock = threading.Lock()
        self._rate = MerchantRate(settings.check_merchant_per_minute, 60.0, clock)
        self.fetched = 0

    def close(self) -> None:
        """Close the client (when this checker made it)."""
        if self._own:
            self.http.close()

    @staticmethod
    def _key(p: Product, m: Merchant | None) -> _Key:
        return (m.base_url if m else "", p.platform, p.product_id, p.handle or "")

    def _cached(self, key: _Key) -> tuple[_Live | str, float] | None:
        with self._lock:
            hit = self._cache.get(key)
        return None if hit is None or hit[0] < self._clock() else (hit[1], hit[2])

    def _remember(self, key: _Key, live: _Live | str, now: float) -> None:
        if live in ("merchant_unreachable", "not_checked") or self.settings.check_cache_ttl_s <= 0:
            return  # only fresh answers are worth repeating; a failure is tried again next time
        with self._lock:
            if len(self._cache) > 4096:  # drop what expired; a cache of seconds stays small
                t = self._clock()
                self._cache = {k: v for k, v in self._cache.items() if v[0] >= t}
            self._cache[key] = (self._clock() + self.settings.check_cache_ttl_s, live, now)

    def _budget(self, cat: CatalogArrays, by_merchant: dict[str, list[tuple[int, int, int]]]) -> set[int]:
        """Rows that may be read from merchants in this call (cached rows cost nothing), in cart order."""
        allowed: set[int] = set()
        left = self.settings.check_max_products
        for mid, items in by_merchant.items():
            m, mine = cat.merchants.get(mid), 0
            for row in dict.fromkeys(int(cat.var_row[v]) for _, v, _ in items):
                if self._cached(self._key(cat.products[row], m)) is not None:
                    continue
                if left > 0 and mine < self.settings.check_max_per_merchant and self._rate.take(mid):
                    allowed.add(row)
                    left, mine = left - 1, mine + 1
        return allowed

    def _merchant(self, cat: CatalogArrays, mid: str, items: list[tuple[int, int, int]], country: str,
                  now: float, allowed: set[int]) -> list[tuple[int, CheckedItem]]:
        merchant = cat.merchants.get(mid)
        key = self.settings.etsy_api_key
        shop_ok = _shop_checker(self.http, merchant, key) if merchant is not None else (lambda: False)
        home = getattr(self.settings, "etsy_tokens", None)  # connected Etsy shops (indexer.crawl.etsy_auth)

        def bearer() -> str | None:
            if home is None or merchant is None or merchant.platform != "etsy":
                return None
            return bearer_sync(Path(home), merchant.merchant_id, HostGuard(self.settings.allow_hosts))

        def read(row: int, p: Product) -> tuple[_Live | str, float]:
            k = self._key(p, merchant)
            hit = self._cached(k)
            if hit is not None:
                return hit
            if merchant is not None and credentials_missing(merchant, key):
                return "merchant_credentials_missing", now  # nothing to ask the merchant without a key
            if row not in allowed:
                return "not_checked", now
            with self._lock:
                self.fetched += 1
            live = _read_live(self.http, p, merchant, key, shop_ok, bearer)
            self._remember(k, live, now)
            return live, now

        return _check_merchant(cat, mid, items, country, self.settings, now, read)

    def check(self, request: CheckRequest, cat: CatalogArrays, *, now: float) -> CheckResponse:
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
        allowed = self._budget(cat, by_merchant)
        if by_merchant:
            workers = max(1, min(self.settings.check_workers, len(by_merchant)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(self._merchant, cat, mid, items, country, now, allowed)
                           for mid, items in by_merchant.items()]
                for f in futures:
                    results.update(dict(f.result()))
        items = [results[i] for i in range(len(request.items))]
        checkouts = [merchant_checkout(cat, mid, [(results[pos], v) for pos, v, _ in its])
                     for mid, its in by_merchant.items()]
        return CheckResponse(country=country, items=items, checkouts=checkouts, eligible=all(i.eligible for i in items))

