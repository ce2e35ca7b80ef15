"""Platform JSON → domain records. Pure functions, no I/O: pages in, records out.

* :func:`shopify_merchant` (``/meta.json``) and :func:`shopify_product` (one element of
  ``/products.json``'s ``products``).
* :func:`etsy_merchant` (``/shops/{id}``) and :func:`etsy_product` (a listing plus its
  ``/listings/{id}/inventory``).

A record that cannot become a :class:`~indexer.models.Product` (no id, no title, unparseable or
absurd price, no variants) yields a :class:`~indexer.models.Quarantined` with a reason instead of
raising, so one bad record never costs the rest of its page.
"""

from __future__ import annotations

import json
from typing import Any

from indexer.attributes import canonical_attribute, from_divisor, html_to_text, to_minor
from indexer.models import Merchant, Option, OptionValue, Product, Quarantined, Variant, make_doc_id

# A price above this many major units is treated as a data error (quarantined), not a product.
ABSURD_PRICE_MAJOR = 10_000_000_000
_DEFAULT_TITLE = "default title"


def _dump(raw: Any) -> str:
    # Only quarantined records need their source text; serialising every record up front cost a
    # third of the parse time.
    return json.dumps(raw, ensure_ascii=False)


def _absurd(minor: int | None, currency: str) -> bool:
    from indexer.attributes import currency_exponent

    return minor is not None and minor > ABSURD_PRICE_MAJOR * 10 ** currency_exponent(currency)


def shopify_merchant(meta: dict[str, Any], base_url: str) -> Merchant:
    """Merchant from a Shopify store's ``/meta.json``. ``base_url`` is the store URL crawled."""
    domain = meta.get("myshopify_domain") or meta.get("domain")
    if not domain:
        raise ValueError("meta.json has no myshopify_domain")
    return Merchant(
        merchant_id=str(domain),
        platform="shopify",
        name=str(meta.get("name") or domain),
        base_url=base_url.rstrip("/"),
        currency=str(meta.get("currency") or "USD").upper(),
        country=meta.get("country"),
        ships_to=tuple(str(c).upper() for c in meta.get("ships_to_countries") or ()),
        available=not bool(meta.get("password_enabled") or meta.get("disabled")),
        shop_url=f"https://{meta['domain']}" if meta.get("domain") else base_url.rstrip("/"),
    )


def shopify_product(raw: dict[str, Any], merchant: Merchant) -> Product | Quarantined:
    """One Shopify storefront product → Product (or Quarantined with a reason)."""
    pid = raw.get("id")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        rid = str(pid) if pid is not None else None
        return Quarantined(merchant.merchant_id, rid, "missing or invalid id", _dump(raw))
    title = (raw.get("title") or "").strip()
    if not title:
        return Quarantined(merchant.merchant_id, str(pid), "missing title", _dump(raw))
    option_defs = sorted(raw.get("options") or [], key=lambda o: o.get("position") or 0)
    names = [str(o.get("name") or f"Option{i + 1}") for i, o in enumerate(option_defs)]
    variants: list[Variant] = []
    for i, v in enumerate(raw.get("variants") or []):
        vid = v.get("id")
        if not isinstance(vid, int) or isinstance(vid, bool):
            return Quarantined(merchant.merchant_id, str(pid), f"variant {i} has no valid id", _dump(raw))
        price = to_minor(v.get("price"), merchant.currency)
        if v.get("price") not in (None, "") and price is None:
            return Quarantined(merchant.merchant_id, str(pid), f"unparseable price {v.get('price')!r}", _dump(raw))
        if _absurd(price, merchant.currency):
            return Quarantined(merchant.merchant_id, str(pid), f"absurd price {v.get('price')!r}", _dump(raw))
        opts: list[OptionValue] = []
        for k, name in enumerate(names[:3]):
            val = v.get(f"option{k + 1}")
            if val is None or (str(val).strip().lower() == _DEFAULT_TITLE and name.lower() == "title"):
                continue
            opts.append(OptionValue(name, canonical_attribute(name), str(val)))
        variants.append(
            Variant(
                variant_id=str(vid),
                title=str(v.get("title") or ""),
                price=price,
                currency=merchant.currency,
                available=bool(v.get("available", True)),
                options=tuple(opts),
                sku=(v.get("sku") or None),
                compare_at=to_minor(v.get("compare_at_price"), merchant.currency),
                position=int(v.get("position") or i + 1),
            )
        )
    if not variants:
        return Quarantined(merchant.merchant_id, str(pid), "no variants", _dump(raw))
    options = tuple(
        Option(n, canonical_attribute(n), tuple(str(x) for x in (o.get("values") or [])))
        for n, o in zip(names, option_defs, strict=True)
        if not (n.lower() == "title" and [str(x).lower() for x in o.get("values") or []] == [_DEFAULT_TITLE])
    )
    tags = raw.get("tags") or []
    if isinstance(tags, str):  # some exports give a comma string
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    ptype = (raw.get("product_type") or "").strip() or None
    handle = raw.get("handle") or None
    gift = any("gift card" in (s or "").lower() for s in (ptype, title)) or bool(raw.get("gift_card"))
    body = raw.get("body_html") or ""
    return Product(
        doc_id=make_doc_id("shopify", merchant.merchant_id, pid),
        platform="shopify",
        merchant_id=merchant.merchant_id,
        product_id=str(pid),
        title=title,
        url=f"{merchant.base_url}/products/{handle}" if handle else merchant.base_url,
        variants=tuple(variants),
        handle=handle,
        vendor=(raw.get("vendor") or "").strip() or None,
        product_type=ptype,
        tags=tuple(str(t) for t in tags),
        body_html=body,
        body_text=html_to_text(body),
        options=options,
        images=tuple(str(im.get("src")) for im in raw.get("images") or [] if isinstance(im, dict) and im.get("src")),
        gift_card=gift,
        updated_at=raw.get("updated_at"),
    )


def etsy_merchant(shop: dict[str, Any], api_base: str) -> Merchant:
    """Merchant from Etsy's ``GET /shops/{shop_id}``.

    Etsy's shop resource carries no ship-to list; ``ships_to`` is taken from ``ships_to_countries``
    when the crawled shop has it, and is empty (unknown) otherwise.
    """
    sid = shop.get("shop_id")
    if not isinstance(sid, int):
        raise ValueError("shop has no shop_id")
    return Merchant(
        merchant_id=str(sid),
        platform="etsy",
        name=str(shop.get("shop_name") or sid),
        base_url=api_base.rstrip("/"),
        currency=str(shop.get("currency_code") or "USD").upper(),
        country=shop.get("country_iso") or shop.get("country"),
        ships_to=tuple(str(c).upper() for c in shop.get("ships_to_countries") or ()),
        available=not bool(shop.get("is_vacation")),
        shop_url=shop.get("url"),
    )


def _money(m: Any, fallback_currency: str) -> tuple[int | None, str]:
    if not isinstance(m, dict):
        return None, fallback_currency
    cur = str(m.get("currency_code") or fallback_currency).upper()
    return from_divisor(m.get("amount"), m.get("divisor"), cur), cur  # type: ignore[arg-type]


def etsy_product(
    listing: dict[str, Any], inventory: dict[str, Any] | None, merchant: Merchant
) -> Product | Quarantined:
    """An Etsy listing (+ its inventory, when fetched) → Product (or Quarantined).

    Each non-deleted inventory product is a variant (its enabled offering gives price and
    quantity). Without an inventory the listing itself is the single variant.
    """
    lid = listing.get("listing_id")
    raw = {"listing": listing, "inventory": inventory}  # serialised only if quarantined
    if not isinstance(lid, int) or isinstance(lid, bool) or lid <= 0:
        rid = str(lid) if lid is not None else None
        return Quarantined(merchant.merchant_id, rid, "missing or invalid listing_id", _dump(raw))
    title = (listing.get("title") or "").strip()
    if not title:
        return Quarantined(merchant.merchant_id, str(lid), "missing title", _dump(raw))
    state = str(listing.get("state") or "active")
    listing_active = state == "active"
    variants: list[Variant] = []
    names: dict[str, list[str]] = {}
    for i, ip in enumerate((inventory or {}).get("products") or []):
        if ip.get("is_deleted"):
            continue
        offerings = [o for o in ip.get("offerings") or [] if not o.get("is_deleted")]
        off = next((o for o in offerings if o.get("is_enabled")), offerings[0] if offerings else None)
        price, cur = _money(off.get("price") if off else None, merchant.currency)
        if off is not None and off.get("price") is not None and price is None:
            return Quarantined(merchant.merchant_id, str(lid), "unparseable offering price", _dump(raw))
        if _absurd(price, cur):
            return Quarantined(merchant.merchant_id, str(lid), "absurd offering price", _dump(raw))
        qty = off.get("quantity") if off else None
        qty = qty if isinstance(qty, int) and not isinstance(qty, bool) else None
        opts = []
        for pv in ip.get("property_values") or []:
            name = str(pv.get("property_name") or "")
            vals = pv.get("values") or []
            if not name or not vals:
                continue
            value = " / ".join(str(x) for x in vals)
            opts.append(OptionValue(name, canonical_attribute(name), value))
            names.setdefault(name, [])
            if value not in names[name]:
                names[name].append(value)
        pid = ip.get("product_id")
        variants.append(
            Variant(
                variant_id=str(pid if pid is not None else f"{lid}-{i}"),
                title=" / ".join(o.value for o in opts) or title,
                price=price,
                currency=cur,
                available=bool(
                    listing_active and off is not None and off.get("is_enabled") and (qty is None or qty > 0)
                ),
                options=tuple(opts),
                sku=(ip.get("sku") or None),
                quantity=qty,
                position=len(variants) + 1,
            )
        )
    if not variants:
        price, cur = _money(listing.get("price"), merchant.currency)
        if listing.get("price") is not None and price is None:
            return Quarantined(merchant.merchant_id, str(lid), "unparseable listing price", _dump(raw))
        if _absurd(price, cur):
            return Quarantined(merchant.merchant_id, str(lid), "absurd listing price", _dump(raw))
        qty = listing.get("quantity")
        qty = qty if isinstance(qty, int) and not isinstance(qty, bool) else None
        variants.append(
            Variant(str(lid), title, price, cur, listing_active and (qty is None or qty > 0), quantity=qty, position=1)
        )
    desc = listing.get("description") or ""
    return Product(
        doc_id=make_doc_id("etsy", merchant.merchant_id, lid),
        platform="etsy",
        merchant_id=merchant.merchant_id,
        product_id=str(lid),
        title=title,
        url=str(listing.get("url") or f"https://www.etsy.com/listing/{lid}"),
        variants=tuple(variants),
        vendor=merchant.name,
        product_type=None,
        tags=tuple(str(t) for t in listing.get("tags") or []),
        body_html=desc,
        body_text=html_to_text(desc.replace("\n", "<br>")),
        options=tuple(Option(n, canonical_attribute(n), tuple(v)) for n, v in names.items()),
        gift_card=False,
        personalization_required=bool(listing.get("personalization_is_required")),
        updated_at=str(listing.get("last_modified_timestamp")) if listing.get("last_modified_timestamp") else None,
        extra={
            "state": state,
            "listing_type": listing.get("listing_type"),
            "materials": list(listing.get("materials") or []),
            "is_personalizable": bool(listing.get("is_personalizable")),
        },
    )
