"""Platform JSON → domain records. Pure functions, no I/O: pages in, records out.

* :func:`shopify_merchant` (``/meta.json``) and :func:`shopify_product` (one element of
  ``/products.json``'s ``products``).
* :func:`etsy_merchant` (``/shops/{id}``) and :func:`etsy_product` (a listing plus its
  ``/listings/{id}/inventory``).

A record that cannot become a :class:`~indexer.models.Product` (no id, no title, unparseable or
absurd price, no variants) yields a :class:`~indexer.models.Quarantined` with a reason instead of
raising, so one bad record never costs the rest of its page.

Links go through the one URL policy, :func:`indexer.urls.check_merchant_url`: a record whose product
link is refused (``javascript:``, another host...) is quarantined with the reason (``unsafe url: ...``);
a refused image is dropped and its reason kept in ``Product.extra["dropped_urls"]``. Shopify product
links are built by aisle from the crawled origin and the URL-quoted handle, never taken from the record.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from indexer import jsontext
from indexer.attributes import canonical_attribute, currency_exponent, from_divisor, html_to_text, to_minor
from indexer.models import Merchant, Option, OptionValue, Product, Quarantined, Variant, make_doc_id
from indexer.urls import check_merchant_url

# A price above this many major units is treated as a data error (quarantined), not a product.
ABSURD_PRICE_MAJOR = 10_000_000_000
_DEFAULT_TITLE = "default title"
_INT32_MAX = 2**31 - 1  # positions and quantities are INTEGER columns


def _dump(raw: Any) -> str:
    # Only quarantined records need their source text; serialising every record up front cost a
    # third of the parse time.
    return jsontext.dumps(raw)


def _absurd(minor: int | None, currency: str) -> bool:
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
    return _guarded(_shopify_product, raw.get("id") if isinstance(raw, dict) else None, raw, merchant, raw)


def _guarded(fn: Any, rid: Any, raw: Any, merchant: Merchant, *args: Any) -> Product | Quarantined:
    """``fn(*args, merchant)``, with a record of an unexpected shape quarantined instead of raising.

    The parsers check what platforms get wrong in practice; anything stranger (a title that is a list,
    a variant that is a number) must cost only that record, never the page or the crawl.
    """
    try:
        return fn(*args, merchant)  # type: ignore[no-any-return]
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        return Quarantined(merchant.merchant_id, None if rid is None else str(rid),
                           f"unreadable record ({type(exc).__name__}: {exc})", _dump(raw))


def _text(x: Any) -> str:
    """A source text field, stripped ('' for null; a number is written out; anything else is unreadable)."""
    if x is None:
        return ""
    if isinstance(x, str):
        return x.strip()
    if isinstance(x, int | float) and not isinstance(x, bool):
        return str(x)
    raise TypeError(f"expected text, got {type(x).__name__}")


def _small_int(x: Any, default: int | None) -> int | None:
    """A source integer that fits the store's INTEGER columns, else ``default``."""
    if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= _INT32_MAX:
        return default
    return x


class _Reject(Exception):  # noqa: N818 - a control-flow signal inside this module, never raised out of it
    """A record that must be quarantined for ``reason`` (raised by the variant parsers, caught by their caller)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _shopify_product(raw: dict[str, Any], merchant: Merchant) -> Product | Quarantined:
    pid = raw.get("id")
    mid = merchant.merchant_id
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        rid = str(pid) if pid is not None else None
        return Quarantined(mid, rid, "missing or invalid id", _dump(raw))
    title = _text(raw.get("title"))
    if not title:
        return Quarantined(mid, str(pid), "missing title", _dump(raw))
    option_defs = sorted(raw.get("options") or [], key=lambda o: o.get("position") or 0)
    names = [str(o.get("name") or f"Option{i + 1}") for i, o in enumerate(option_defs)]
    try:
        variants = _shopify_variants(raw.get("variants") or [], names, merchant.currency)
    except _Reject as bad:
        return Quarantined(mid, str(pid), bad.reason, _dump(raw))
    if not variants:
        return Quarantined(mid, str(pid), "no variants", _dump(raw))
    options = tuple(
        Option(n, canonical_attribute(n), tuple(str(x) for x in (o.get("values") or [])))
        for n, o in zip(names, option_defs, strict=True)
        if not (n.lower() == "title" and [str(x).lower() for x in o.get("values") or []] == [_DEFAULT_TITLE])
    )
    return _shopify_record(raw, merchant, pid, title, variants, options)


def _shopify_variants(raws: list[Any], names: list[str], cur: str) -> list[Variant]:
    """The variants of one product (``names``: its option names by position); _Reject on a bad one."""
    # Per product, not per variant: (source key, name, canonical attribute, is the "Title" option).
    slots = [(f"option{k + 1}", n, canonical_attribute(n), n.lower() == "title") for k, n in enumerate(names[:3])]
    limit = ABSURD_PRICE_MAJOR * 10 ** currency_exponent(cur)
    variants: list[Variant] = []
    for i, v in enumerate(raws):
        vid = v.get("id")
        if not isinstance(vid, int) or isinstance(vid, bool):
            raise _Reject(f"variant {i} has no valid id")
        source_price = v.get("price")
        price = to_minor(source_price, cur)
        if price is None and source_price not in (None, ""):
            raise _Reject(f"unparseable price {source_price!r}")
        if price is not None and price > limit:
            raise _Reject(f"absurd price {source_price!r}")
        opts: list[OptionValue] = []
        for key, name, canonical, is_title in slots:
            val = v.get(key)
            if val is None or (is_title and str(val).strip().lower() == _DEFAULT_TITLE):
                continue
            opts.append(OptionValue(name, canonical, str(val)))
        sku = v.get("sku")
        variants.append(Variant(
            str(vid), str(v.get("title") or ""), price, cur, bool(v.get("available", True)), tuple(opts),
            str(sku) if sku else None, to_minor(v.get("compare_at_price"), cur), None,
            _small_int(v.get("position"), None) or i + 1))
    return variants


def _shopify_record(raw: dict[str, Any], merchant: Merchant, pid: int, title: str, variants: list[Variant],
                    options: tuple[Option, ...]) -> Product:
    """The Product of a Shopify record whose id, title and variants were checked."""
    mid = merchant.merchant_id
    tags = raw.get("tags") or []
    if isinstance(tags, str):  # some exports give a comma string
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    ptype = _text(raw.get("product_type")) or None
    handle = _text(raw.get("handle")) or None
    gift = "gift card" in title.lower() or "gift card" in (ptype or "").lower() or bool(raw.get("gift_card"))
    body = raw.get("body_html") or ""
    body = body if isinstance(body, str) else _text(body)
    images, dropped = _images(raw.get("images") or [], merchant)
    return Product(
        doc_id=make_doc_id("shopify", mid, pid),
        platform="shopify",
        merchant_id=mid,
        product_id=str(pid),
        title=title,
        url=f"{merchant.base_url}/products/{quote(handle, safe='')}" if handle else merchant.base_url,
        variants=tuple(variants),
        handle=handle,
        vendor=_text(raw.get("vendor")) or None,
        product_type=ptype,
        tags=tuple(str(t) for t in tags),
        body_html=body,
        body_text=html_to_text(body),
        options=options,
        images=images,
        gift_card=gift,
        updated_at=_text(raw.get("updated_at")) or None,
        extra={"dropped_urls": dropped} if dropped else {},
    )


def _images(raws: Any, merchant: Merchant) -> tuple[tuple[str, ...], list[str]]:
    """The image sources the URL policy keeps, and a reason for each one it dropped."""
    kept: list[str] = []
    dropped: list[str] = []
    for im in raws:  # not a list: TypeError, the record is quarantined as unreadable
        if not isinstance(im, dict) or not im.get("src"):
            continue
        url, why = check_merchant_url(im.get("src"), merchant.base_url, merchant.platform)
        if url is None:
            dropped.append(f"image: {why}")
        else:
            kept.append(url)
    return tuple(kept), dropped


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
    quantity). Without an inventory (a public shop: inventory is an owner-only read) the listing itself is
    the single variant at listing level (the minimum price, the listing's quantity); when the listing
    ``has_variations``, ``extra["variants_unknown"]`` is True: its real variants exist but are not known,
    so no variant-level constraint can be answered exactly. Nothing is guessed from the title.
    ``extra["etsy_access"]`` says how it was read: ``"connected"`` (with inventory) or ``"public"``.
    """
    lid = listing.get("listing_id") if isinstance(listing, dict) else None
    return _guarded(_etsy_product, lid, {"listing": listing, "inventory": inventory}, merchant, listing, inventory)


def _etsy_product(
    listing: dict[str, Any], inventory: dict[str, Any] | None, merchant: Merchant
) -> Product | Quarantined:
    lid = listing.get("listing_id")
    raw = {"listing": listing, "inventory": inventory}  # serialised only if quarantined
    if not isinstance(lid, int) or isinstance(lid, bool) or lid <= 0:
        rid = str(lid) if lid is not None else None
        return Quarantined(merchant.merchant_id, rid, "missing or invalid listing_id", _dump(raw))
    title = (listing.get("title") or "").strip()
    if not title:
        return Quarantined(merchant.merchant_id, str(lid), "missing title", _dump(raw))
    state = str(listing.get("state") or "active")
    names: dict[str, list[str]] = {}  # option name -> its values, in order of appearance
    try:
        variants = (_etsy_variants(inventory, lid, title, state == "active", merchant.currency, names)
                    or [_etsy_listing_variant(listing, lid, title, state == "active", merchant.currency)])
    except _Reject as bad:
        return Quarantined(merchant.merchant_id, str(lid), bad.reason, _dump(raw))
    link = listing.get("url") or f"https://www.etsy.com/listing/{lid}"
    url, why = check_merchant_url(link, merchant.base_url, "etsy")
    if url is None:
        return Quarantined(merchant.merchant_id, str(lid), f"unsafe url: {why}", _dump(raw))
    desc = listing.get("description") or ""
    return Product(
        doc_id=make_doc_id("etsy", merchant.merchant_id, lid),
        platform="etsy",
        merchant_id=merchant.merchant_id,
        product_id=str(lid),
        title=title,
        url=url,
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
            "etsy_access": "public" if inventory is None else "connected",
            "variants_unknown": inventory is None and listing.get("has_variations") is True,
        },
    )


def _etsy_variants(inventory: dict[str, Any] | None, lid: int, title: str, listing_active: bool,
                   currency: str, names: dict[str, list[str]]) -> list[Variant]:
    """One variant per non-deleted inventory product (its enabled offering gives price and quantity);
    adds the option values met to ``names``; _Reject on a bad price."""
    variants: list[Variant] = []
    for i, ip in enumerate((inventory or {}).get("products") or []):
        if ip.get("is_deleted"):
            continue
        offerings = [o for o in ip.get("offerings") or [] if not o.get("is_deleted")]
        off = next((o for o in offerings if o.get("is_enabled")), offerings[0] if offerings else None)
        price, cur = _money(off.get("price") if off else None, currency)
        if off is not None and off.get("price") is not None and price is None:
            raise _Reject("unparseable offering price")
        if _absurd(price, cur):
            raise _Reject("absurd offering price")
        qty = _small_int(off.get("quantity") if off else None, None)
        opts = _etsy_options(ip.get("property_values") or [], names)
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
    return variants


def _etsy_options(property_values: list[Any], names: dict[str, list[str]]) -> list[OptionValue]:
    """The option values of one inventory product; each new value is added to ``names``."""
    opts = []
    for pv in property_values:
        name = str(pv.get("property_name") or "")
        vals = pv.get("values") or []
        if not name or not vals:
            continue
        value = " / ".join(str(x) for x in vals)
        opts.append(OptionValue(name, canonical_attribute(name), value))
        names.setdefault(name, [])
        if value not in names[name]:
            names[name].append(value)
    return opts


def _etsy_listing_variant(listing: dict[str, Any], lid: int, title: str, listing_active: bool,
                          currency: str) -> Variant:
    """The listing itself as the single variant (no inventory, or none usable); _Reject on a bad price."""
    price, cur = _money(listing.get("price"), currency)
    if listing.get("price") is not None and price is None:
        raise _Reject("unparseable listing price")
    if _absurd(price, cur):
        raise _Reject("absurd listing price")
    qty = _small_int(listing.get("quantity"), None)
    return Variant(str(lid), title, price, cur, listing_active and (qty is None or qty > 0), quantity=qty, position=1)
