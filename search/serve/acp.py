"""An ACP product feed (Agentic Commerce Protocol, structured feed 2026-04-17) from the served snapshot.

:func:`acp_products` maps snapshot products to ``schema.feed.json#/$defs/Product``: product ``id`` is the
``doc_id``, variant ``id`` the merchant's variant id (the id ``/v1/checkout/check`` accepts), prices in
integer minor units, ``availability {available, status}`` from the merchant's stock flag (as crawled:
a discovery-time signal; the checkout re-check is authoritative), ``variant_options [{name, value}]``,
the merchant as ``seller``, the product type as a ``merchant``-taxonomy category. Merchant text is plain
text: each field is mapped through :func:`indexer.sanitise.plain_text` (the feed is built from snapshot
records, not response models, so it sanitises field by field rather than with
:func:`search.serve.sanitise.sanitised`). Served by ``GET /acp/feed`` (search.serve.http), one page at a time, with the
merchant-content marker in :data:`ACP_CONTENT_HEADERS`. Links pass the URL policy
(:func:`search.answer.product_url`, :func:`search.answer.images_out`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from indexer.models import Merchant, Product, Variant
from indexer.sanitise import plain_text
from search.answer import images_out, product_url
from search.schema import MERCHANT_CONTENT_NOTICE

#: The merchant-content marker of every feed page. ``/v1`` answers carry ``content_notice`` and UCP a
#: ``merchant_content`` message; the ACP feed schema allows no field beside ``products``, so the same
#: notice travels in these response headers.
ACP_CONTENT_HEADERS = {"X-Aisle-Content-Source": "merchant", "X-Aisle-Content-Notice": MERCHANT_CONTENT_NOTICE}


def _variant(p: Product, v: Variant, merchant: Merchant | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.variant_id,
        "title": plain_text(v.title or p.title) or "Default",
        "url": product_url(p, merchant),
        "availability": {"available": v.available, "status": "in_stock" if v.available else "out_of_stock"},
        "variant_options": [{"name": plain_text(o.name), "value": plain_text(o.value)} for o in v.options],
    }
    if v.price is not None:
        out["price"] = {"amount": v.price, "currency": v.currency.upper()}
        if v.compare_at is not None and v.compare_at > v.price:
            out["list_price"] = {"amount": v.compare_at, "currency": v.currency.upper()}
    if p.product_type:
        out["categories"] = [{"value": plain_text(p.product_type), "taxonomy": "merchant"}]
    if merchant is not None:
        out["seller"] = {"name": plain_text(merchant.name)}
    return out


def acp_product(p: Product, merchant: Merchant | None) -> dict[str, Any]:
    """One ACP feed product (all variants) for a snapshot product."""
    out: dict[str, Any] = {
        "id": p.doc_id,
        "title": plain_text(p.title),
        "url": product_url(p, merchant),
        "media": [{"type": "image", "url": u} for u in images_out(p, merchant)],
        "variants": [_variant(p, v, merchant) for v in p.variants],
    }
    text = plain_text(p.body_text or p.body_html)
    if text:
        out["description"] = {"plain": text}
    return out


def acp_products(products: Iterable[Product], merchants: dict[str, Merchant]) -> Iterator[dict[str, Any]]:
    """ACP feed products for ``products`` (gift cards left out: they cannot be bought by an agent)."""
    for p in products:
        if not p.gift_card and p.variants:
            yield acp_product(p, merchants.get(p.merchant_id))
