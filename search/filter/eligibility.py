"""Buy-eligibility: can this variant be bought right now by a buyer in this country, and if not, why.

Each returned variant gets ``eligible`` plus ``reasons`` from the fixed vocabulary :data:`REASONS`
(eligible ⇔ no reason), informational ``notes`` from :data:`NOTES` (they never block a purchase),
and a ``checkout_url``:

* Shopify: the cart permalink ``{store}/cart/{variant_id}:{qty}`` (several items of one store:
  ``{store}/cart/{v1}:{q1},{v2}:{q2}``), which opens the merchant's checkout with those items;
* Etsy: the listing page ``https://www.etsy.com/listing/{listing_id}`` (Etsy has no public cart
  permalink; the buyer picks the variant there).

Both are built by aisle from what it verified (the crawled store origin, the listing id), never taken
from a merchant-provided link, so a hostile ``url`` (``javascript:...``) can never become a checkout link.

The link is given whether or not the variant is eligible: ``eligible`` and ``reasons`` say whether
to use it (a ``stale_data`` variant is usually fine after a :meth:`search.engine.Engine.check`).

Rules (the same in :func:`assess`, one variant, and :func:`eligible_mask`, every variant at once,
which ``buyable_only`` uses before retrieval so that dropping ineligible results never empties a page):

* ``out_of_stock``: the variant is not available, or its known stock (Etsy quantity) is 0.
* ``no_price``: no price, or a price of 0 (a placeholder, not a free product).
* ``not_shipping_to_country``: the merchant lists the countries it ships to and the buyer's is not
  among them. An empty list means *unknown*: treated as shippable, with the note
  ``ships_to_unknown``. Etsy download-only listings need no shipping (note ``digital_download``).
* ``merchant_unavailable``: the store is disabled / password-protected, or the Etsy shop is on
  vacation (or the merchant is missing from the snapshot).
* ``gift_card``: gift cards are outside agent checkout.
* ``personalization_required``: the listing needs personalisation text the buyer must write.
* ``variants_unknown``: an Etsy listing with variations read at listing level (a public shop: Etsy lets only
  the owner read its inventory); which variant, at what price, is the buyer's choice on the listing page
  (the ``checkout_url``), not something aisle can vouch for.
* ``stale_data``: the index read this product longer ago than the stale TTL (default 24 h,
  :class:`search.engine.EngineSettings`), or when it was read is unknown (also: Etsy variants read with an
  owner's grant that has since been disconnected or revoked, :func:`lapsed_grants_unread`). Re-check before
  buying.
* ``quantity_exceeded``: more than the per-item policy (``max_quantity_per_item``, default 10), or
  more than the merchant's known stock.

The live re-check (:mod:`search.checkout.live`) adds ``merchant_unreachable``, ``no_longer_listed``,
``unknown_variant`` and ``merchant_credentials_missing`` (:func:`credentials_missing`: an Etsy item when no Etsy
API key is configured; nothing is asked of the merchant, and ``aisle serve`` warns at start).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np

from indexer.models import Merchant, Product, Variant
from search.filter.catalog import CatalogArrays
from search.filter.merge import ranges
from search.filter.shipping import is_digital, merchant_ships_to

REASONS: dict[str, str] = {
    "out_of_stock": "The merchant reports this variant unavailable (or its stock is 0).",
    "no_price": "The variant has no usable price (missing or 0).",
    "not_shipping_to_country": "The merchant's ship-to list excludes the buyer's country.",
    "merchant_unavailable": "The store is disabled or password-protected, or the Etsy shop is on vacation.",
    "gift_card": "Gift cards cannot be bought through agent checkout.",
    "personalization_required": "The listing requires personalisation text from the buyer.",
    "stale_data": "The indexed data is older than the stale TTL (or of unknown age); re-check before buying.",
    "quantity_exceeded": "The quantity exceeds the per-item policy or the merchant's known stock.",
    "merchant_unreachable": "Live re-check: the merchant could not be read (network error, timeout, bad answer).",
    "merchant_credentials_missing": "Live re-check: aisle has no credentials to read this merchant (an Etsy shop "
                                    "without AISLE_ETSY_API_KEY set); the operator must configure them.",
    "no_longer_listed": "Live re-check: the merchant no longer lists this product or variant.",
    "unknown_variant": "Live re-check: the variant id is not in the index.",
    "variants_unknown": "An Etsy listing with variations read without its owner's grant: its variants (options, "
                        "per-variant price and stock) are unknown; choose the variant on the listing page.",
    "not_checked": "Live re-check: not read this time, a per-call or per-merchant cap was reached (check it again).",
}

NOTES: dict[str, str] = {
    "ships_to_unknown": "The merchant publishes no ship-to list; shipping to the buyer is assumed, not known.",
    "digital_download": "A digital download: nothing is shipped.",
    "on_sale": "The variant is priced below its compare-at price.",
    "etsy_owner_grant": "Etsy: variants read with the shop owner's grant (OAuth, listings_r).",
    "etsy_public_listing": "Etsy: read from the public listing (no owner grant): listing-level price and stock.",
}


ETSY_LISTING = "https://www.etsy.com/listing/"


@dataclass(frozen=True, slots=True)
class Policy:
    """The eligibility knobs (from :class:`search.engine.EngineSettings`)."""

    stale_ttl_s: float | None = 24 * 3600.0  # None or 0: never stale
    max_quantity_per_item: int = 10


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The answer for one variant."""

    eligible: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    checkout_url: str | None
    checked_at: str


def iso(ts: float) -> str:
    """Epoch seconds → ISO 8601 UTC (``""`` when unknown)."""
    if ts is None or not math.isfinite(ts):
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def cart_permalink(base_url: str, items: Sequence[tuple[str, int]]) -> str:
    """Shopify cart permalink for ``(variant_id, quantity)`` items of one store."""
    return base_url.rstrip("/") + "/cart/" + ",".join(f"{quote(str(vid), safe='')}:{int(qty)}" for vid, qty in items)


def checkout_url(product: Product, variant: Variant, merchant: Merchant | None, quantity: int = 1) -> str | None:
    """Shopify cart permalink, or the Etsy listing page (see module docstring): built, never copied."""
    if product.platform == "shopify":
        if merchant is None or not merchant.base_url:
            return None
        return cart_permalink(merchant.base_url, [(variant.variant_id, quantity)])
    return ETSY_LISTING + quote(product.product_id, safe="") if product.product_id else None


def static_reasons(
    product: Product,
    variant: Variant,
    merchant: Merchant | None,
    *,
    country: str,
    quantity: int,
    policy: Policy,
) -> tuple[list[str], list[str]]:
    """``(reasons, notes)`` from the variant's own facts (no clock): everything but ``stale_data``."""
    reasons: list[str] = []
    notes: list[str] = []
    if not variant.available or variant.quantity == 0:
        reasons.append("out_of_stock")
    if not variant.price:
        reasons.append("no_price")
    if is_digital(product):
        notes.append("digital_download")
    elif merchant is not None:
        if not merchant.ships_to:
            notes.append("ships_to_unknown")
        elif not merchant_ships_to(merchant, country):
            reasons.append("not_shipping_to_country")
    if merchant is None or not merchant.available:
        reasons.append("merchant_unavailable")
    if product.gift_card:
        reasons.append("gift_card")
    if product.personalization_required:
        reasons.append("personalization_required")
    if isinstance(product.extra, dict) and product.extra.get("variants_unknown") is True:
        reasons.append("variants_unknown")
    access = product.extra.get("etsy_access") if isinstance(product.extra, dict) else None
    if product.platform == "etsy" and access in ("connected", "public"):  # how it was read (live re-check too)
        notes.append("etsy_owner_grant" if access == "connected" else "etsy_public_listing")
    if quantity > policy.max_quantity_per_item or (
        variant.quantity is not None and variant.quantity > 0 and quantity > variant.quantity
    ):
        reasons.append("quantity_exceeded")
    if variant.price and variant.compare_at and variant.compare_at > variant.price:
        notes.append("on_sale")
    return reasons, notes


def read_with_grant(p: Product) -> bool:
    """Whether ``p`` was read with an Etsy shop owner's grant (its variants are owner-only data)."""
    return p.platform == "etsy" and isinstance(p.extra, dict) and p.extra.get("etsy_access") == "connected"


def live_grants(tokens_home: str | None) -> set[str] | None:
    """The Etsy shops whose grant is connected now (None: no token store, nothing can have lapsed)."""
    if tokens_home is None:
        return None
    from indexer.crawl.etsy_auth import TokenStore

    return {t.shop_id for t in TokenStore(Path(tokens_home)).all() if not t.revoked}


def lapsed_grants_unread(crawled_at: Mapping[str, str], products: Sequence[Product],
                         tokens_home: str | None) -> Mapping[str, str]:
    """``crawled_at`` without the Etsy products read with an owner's grant that is no longer connected.

    A shop disconnected (``aisle etsy disconnect``) or whose grant was revoked keeps its last variants, but
    they can no longer be re-read as they were: their read time becomes unknown, so every one of them is
    ``stale_data`` until the next crawl reads the shop at listing level. Nothing is deleted. Applied when a
    snapshot is loaded (a running server sees a disconnect at its next snapshot); the memory-mapped open
    applies the same rule as a mask (:func:`search.filter.columns.with_lapsed_grants`).
    """
    live = live_grants(tokens_home)
    if live is None:
        return crawled_at
    lapsed = {p.doc_id for p in products if read_with_grant(p) and p.merchant_id not in live}
    if not lapsed:
        return crawled_at
    return {d: ts for d, ts in crawled_at.items() if d not in lapsed}


def credentials_missing(merchant: Merchant, etsy_api_key: str | None) -> bool:
    """True when aisle cannot read ``merchant`` live for lack of credentials (``merchant_credentials_missing``):
    every Etsy API call needs the operator's key (``AISLE_ETSY_API_KEY``); Shopify storefronts need none."""
    return merchant.platform == "etsy" and not etsy_api_key


def is_stale(crawled_ts: float, now: float, policy: Policy) -> bool:
    """Whether data read at ``crawled_ts`` (NaN = unknown) is stale at ``now``."""
    if not policy.stale_ttl_s:
        return False
    return not math.isfinite(crawled_ts) or now - crawled_ts > policy.stale_ttl_s


def assess(
    product: Product,
    variant: Variant,
    merchant: Merchant | None,
    *,
    country: str,
    crawled_ts: float,
    now: float,
    policy: Policy,
    quantity: int = 1,
) -> Eligibility:
    """Eligibility of one variant from the index (see the module docstring for the rules)."""
    reasons, notes = static_reasons(product, variant, merchant, country=country, quantity=quantity, policy=policy)
    if is_stale(crawled_ts, now, policy):
        reasons.append("stale_data")
    return Eligibility(
        eligible=not reasons,
        reasons=tuple(reasons),
        notes=tuple(notes),
        checkout_url=checkout_url(product, variant, merchant, quantity),
        checked_at=iso(crawled_ts),
    )


def eligible_mask(cat: CatalogArrays, *, country: str, now: float, policy: Policy,
                  rows: np.ndarray | None = None) -> np.ndarray:
    """bool (V,): variants :func:`assess` would call eligible at quantity 1, computed for all at once.

    With ``rows`` (product rows), only the variants of those rows are computed and every other variant is False:
    ``buyable_first`` reads the candidates' variants only, and a pass over every variant per search would grow
    with the catalog (``buyable_only`` filters before retrieval, so it needs them all)."""
    country = country.upper()
    r = None if rows is None else np.asarray(rows, dtype=np.int64)
    sel: slice | np.ndarray = slice(None) if r is None else r
    prod_ok = cat.merchant_ok[cat.prod_merchant[sel]] & cat.ships_mask(country, r)
    prod_ok &= ~cat.prod_gift[sel] & ~cat.prod_personalization[sel] & ~cat.prod_variants_unknown[sel]
    if policy.stale_ttl_s:
        with np.errstate(invalid="ignore"):
            prod_ok &= (now - cat.prod_crawled[sel]) <= policy.stale_ttl_s  # NaN (unknown) compares False
    if policy.max_quantity_per_item < 1:
        prod_ok[:] = False
    if r is None:
        m = cat.var_available & (cat.var_quantity != 0) & (cat.var_price > 0)
        return m & prod_ok[cat.var_row]
    starts, ends = cat.var_start[r], cat.var_start[r + 1]
    counts = ends - starts
    vi = ranges(starts, counts)  # the variant indices of every row, contiguous per row
    out = np.zeros(cat.n_variants, dtype=bool)
    out[vi] = cat.var_available[vi] & (cat.var_quantity[vi] != 0) & (cat.var_price[vi] > 0) & np.repeat(prod_ok, counts)
    return out
