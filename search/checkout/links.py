"""Checkout links of a re-checked cart, one per merchant: built by aisle from what it verified, never copied.

Shopify: a cart permalink on the merchant's crawled origin with every eligible item. Etsy has no multi-listing
cart: one listing gives its page; several give no merchant-level link, each item keeping its own. Every link
goes through the URL policy (:func:`search.answer.product_url`), never the merchant's self-declared shop URL.
"""

from __future__ import annotations

from indexer.sanitise import plain_text as plain
from search.answer import product_url
from search.filter.catalog import CatalogArrays
from search.filter.eligibility import cart_permalink
from search.schema import CheckedItem, MerchantCheckout, MerchantOut


def merchant_checkout(cat: CatalogArrays, mid: str, entries: list[tuple[CheckedItem, int]]) -> MerchantCheckout:
    """The checkout of one merchant's items (``entries``: item and its variant row)."""
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
        # Etsy has no multi-listing cart link: one listing → its page; several → each item's own link only.
        # Every link is the URL policy's (search.answer.product_url), never the merchant's self-declared shop URL.
        urls = [product_url(p, m) for p in rows]
        distinct = list(dict.fromkeys(urls))
        url = distinct[0] if len(distinct) == 1 else None
    return MerchantCheckout(
        merchant=MerchantOut(id=mid, name=plain(m.name) if m else mid), platform=platform, checkout_url=url,
        variant_ids=[i.variant_id for i in items], eligible=eligible, item_urls=urls,
    )
