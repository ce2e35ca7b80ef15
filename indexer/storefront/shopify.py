"""Shopify storefront endpoints of the simulator (pure: catalog + request parameters in, Reply out).

Served under ``/shopify/<slug>``, as a real store serves them at its root:

* ``/products.json?limit=&page=``: ``limit`` defaults to 30 and is clamped to 1..250 (a missing,
  zero or non-numeric limit means the default); ``page`` defaults to 1. ``page * limit`` above the page
  cap answers HTTP 400 ``{"errors": "Page * Limit exceeds the <cap> limit."}``.
* ``/meta.json``; ``/products/<handle>.js``: Shopify's AJAX product, prices as integer **cents**
  (the decimal price × 100 for every currency, as Shopify does even for JPY) and ``available``
  per variant and product.
* ``/collections.json?limit=&page=`` and ``/collections/<handle>/products.json?limit=&page=``:
  one collection per ``product_type`` (handle = slugified type; an empty type goes to ``other``),
  paged and capped like ``/products.json``.
* ``/cart/<variant_id>:<qty>[,...]``: 200 HTML checkout page for known available variants, 404 HTML
  for an unknown variant, 422 HTML for a sold-out variant or a malformed item list.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from indexer.storefront.catalog import ShopifyStore, dumps
from indexer.storefront.reply import HTML, Reply, html_page, json_reply

DEFAULT_LIMIT = 30
MAX_LIMIT = 250


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    try:
        return int(params.get(name, ""))
    except ValueError:
        return None


def paging(params: Mapping[str, str]) -> tuple[int, int]:
    """``(limit, page)`` from query parameters, with Shopify's defaults and clamp."""
    limit = _int_param(params, "limit")
    limit = DEFAULT_LIMIT if limit is None or limit < 1 else min(limit, MAX_LIMIT)
    page = _int_param(params, "page")
    page = 1 if page is None or page < 1 else page
    return limit, page


def not_found() -> Reply:
    return json_reply(404, {"errors": "Not Found"})


def _capped(limit: int, page: int, cap: int) -> Reply | None:
    if page * limit > cap:
        return json_reply(400, {"errors": f"Page * Limit exceeds the {cap} limit."})
    return None


def products_page(store: ShopifyStore, params: Mapping[str, str], cap: int) -> Reply:
    """``/products.json``: one page of products (a repeat of the previous page is the ``dup`` fault)."""
    limit, page = paging(params)
    refused = _capped(limit, page, cap)
    if refused:
        return refused
    body = store.page("all", store.products, limit, page)
    dup = (lambda: store.page("all", store.products, limit, page - 1)) if page > 1 else None
    return Reply(200, body, faultable=True, dup=dup)


def meta(store: ShopifyStore) -> Reply:
    """``/meta.json`` (``published_products_count`` follows the live catalog)."""
    return Reply(200, store.meta_bytes(), faultable=True)


def collections(store: ShopifyStore, params: Mapping[str, str], cap: int) -> Reply:
    """``/collections.json``: collections derived from product types."""
    limit, page = paging(params)
    refused = _capped(limit, page, cap)
    if refused:
        return refused
    cols = list(store.collections().values())[(page - 1) * limit : page * limit]
    stamp = max((str(p.get("updated_at") or "") for p in store.products), default="") or None
    items = [
        {"id": c.collection_id, "title": c.title, "handle": c.handle, "description": "",
         "published_at": stamp, "updated_at": stamp, "image": None, "products_count": len(c.product_ids)}
        for c in cols
    ]
    return Reply(200, dumps({"collections": items}), faultable=True)


def collection_products(store: ShopifyStore, handle: str, params: Mapping[str, str], cap: int) -> Reply:
    """``/collections/<handle>/products.json``: one page of that collection's products."""
    col = store.collections().get(handle)
    if col is None:
        return not_found()
    limit, page = paging(params)
    refused = _capped(limit, page, cap)
    if refused:
        return refused
    items = [p for pid in col.product_ids if (p := store.product(pid)) is not None]
    body = store.page(f"c/{handle}", items, limit, page)
    dup = (lambda: store.page(f"c/{handle}", items, limit, page - 1)) if page > 1 else None
    return Reply(200, body, faultable=True, dup=dup)


def cents(price: Any) -> int | None:
    """Shopify AJAX money: the decimal amount × 100 as an integer (None when absent or unparseable)."""
    if price in (None, ""):
        return None
    try:
        return int((Decimal(str(price)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return None


def product_js_dict(p: dict[str, Any]) -> dict[str, Any]:
    """A storefront product as Shopify's ``/products/<handle>.js`` shapes it."""
    images = [str(im.get("src")) for im in p.get("images") or [] if isinstance(im, dict) and im.get("src")]
    variants = []
    for v in p.get("variants") or []:
        values = [v.get(f"option{i}") for i in (1, 2, 3) if v.get(f"option{i}") is not None]
        vtitle = str(v.get("title") or "")
        default = vtitle.lower() == "default title"
        variants.append({
            "id": v.get("id"), "title": vtitle, "option1": v.get("option1"), "option2": v.get("option2"),
            "option3": v.get("option3"), "sku": v.get("sku") or "",
            "requires_shipping": v.get("requires_shipping", True),
            "taxable": v.get("taxable", True), "featured_image": v.get("featured_image"),
            "available": bool(v.get("available", True)),
            "name": p.get("title") if default else f"{p.get('title')} - {vtitle}",
            "public_title": None if default else vtitle, "options": values, "price": cents(v.get("price")),
            "weight": v.get("grams") or 0, "compare_at_price": cents(v.get("compare_at_price")),
            "inventory_management": "shopify", "barcode": "", "requires_selling_plan": False,
            "selling_plan_allocations": [],
        })
    prices = [v["price"] for v in variants if v["price"] is not None]
    compares = [v["compare_at_price"] for v in variants if v["compare_at_price"] is not None]
    return {
        "id": p.get("id"), "title": p.get("title"), "handle": p.get("handle"), "description": p.get("body_html") or "",
        "published_at": p.get("published_at"), "created_at": p.get("created_at"), "vendor": p.get("vendor"),
        "type": p.get("product_type") or "", "tags": list(p.get("tags") or []),
        "price": min(prices, default=0), "price_min": min(prices, default=0), "price_max": max(prices, default=0),
        "available": any(v["available"] for v in variants), "price_varies": len(set(prices)) > 1,
        "compare_at_price": min(compares, default=None), "compare_at_price_min": min(compares, default=0),
        "compare_at_price_max": max(compares, default=0), "compare_at_price_varies": len(set(compares)) > 1,
        "variants": variants, "images": images, "featured_image": images[0] if images else None,
        "options": [
            {"name": o.get("name"), "position": o.get("position"), "values": list(o.get("values") or [])}
            for o in p.get("options") or []
        ],
        "url": f"/products/{p.get('handle')}", "requires_selling_plan": False, "selling_plan_groups": [],
    }


def product_js(store: ShopifyStore, handle: str) -> Reply:
    """``/products/<handle>.js`` as ``application/json`` (not fault-injected: it is the live re-check)."""
    p = store.by_handle(handle)
    if p is None:
        return not_found()
    return Reply(200, dumps(product_js_dict(p)))


def _error_page(status: int, store: ShopifyStore, message: str) -> Reply:
    name = html.escape(str(store.meta.get("name") or store.slug))
    body = html_page(f"{name} - Cart error", f"<h1>{name}</h1><p class=\"cart-error\">{html.escape(message)}</p>")
    return Reply(status, body, content_type=HTML)


def cart(store: ShopifyStore, items: str) -> Reply:
    """``/cart/<variant_id>:<qty>[,...]``: a checkout page, or an HTML error page (404/422)."""
    lines: list[tuple[dict[str, Any], dict[str, Any], int]] = []
    for part in items.split(","):
        vid_text, sep, qty_text = part.strip().partition(":")
        if not sep:
            qty_text = "1"
        if not vid_text.isdigit() or not qty_text.isdigit() or int(qty_text) < 1:
            return _error_page(422, store, f"Invalid cart item {part!r}.")
        found = store.variant(int(vid_text))
        if found is None:
            return _error_page(404, store, f"Variant {vid_text} not found.")
        product, variant = found
        if not variant.get("available", True):
            return _error_page(422, store, f"{product.get('title')} ({variant.get('title')}) is sold out.")
        lines.append((product, variant, int(qty_text)))
    currency = str(store.meta.get("currency") or "USD")
    total = sum((cents(v.get("price")) or 0) * q for _, v, q in lines)
    data = {"currency": currency, "total_price": total, "items": [
        {"variant_id": v["id"], "product_id": p.get("id"), "title": p.get("title"), "variant_title": v.get("title"),
         "quantity": q, "price": cents(v.get("price"))} for p, v, q in lines]}
    rows = "".join(
        f"<li data-variant-id=\"{v['id']}\">{q} × {html.escape(str(p.get('title')))} "
        f"({html.escape(str(v.get('title')))}) {html.escape(str(v.get('price')))} {currency}</li>"
        for p, v, q in lines
    )
    name = html.escape(str(store.meta.get("name") or store.slug))
    script = dumps(data).decode().replace("</", "<\\/")
    body = html_page(
        f"Checkout - {name}",
        f"<h1>{name} checkout</h1><ul class=\"line-items\">{rows}</ul>"
        f"<script type=\"application/json\" id=\"cart-json\">{script}</script>",
    )
    return Reply(200, body, content_type=HTML)
