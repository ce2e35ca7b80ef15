"""Changes to a running simulator's catalog (the admin API's library side).

Every change is in memory only, bumps the product's ``updated_at`` (Shopify, strictly later than
before even within one second) or ``last_modified_timestamp`` (Etsy), and drops the caches it
affects so every endpoint shows it at once. Unknown stores, products or variants raise
:class:`~indexer.errors.NotFoundError`; bad values raise :class:`~indexer.errors.ConfigError`.

Etsy availability follows the platform: a variant is an inventory product whose enabled offering
has a quantity; when no variant is left available the listing turns ``sold_out`` (and leaves
``/listings/active``), and it turns ``active`` again when one comes back.
"""

from __future__ import annotations

import copy
import hashlib
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from indexer.attributes import currency_exponent
from indexer.errors import ConfigError, NotFoundError
from indexer.storefront.catalog import Catalog, EtsyShop, ShopifyStore, slugify

_RESTOCK_QTY = 5  # quantity given to an Etsy offering made available again with none left


def _store(catalog: Catalog, slug: str) -> ShopifyStore:
    store = catalog.shopify.get(slug)
    if store is None:
        raise NotFoundError(f"unknown shopify store {slug!r}")
    return store


def _shop(catalog: Catalog, slug: str) -> EtsyShop:
    shop = catalog.etsy.get(slug)
    if shop is None:
        raise NotFoundError(f"unknown etsy shop {slug!r}")
    return shop


def _int_id(value: Any, what: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be an integer id, not {value!r}") from None


def _decimal(price: str) -> Decimal:
    try:
        d = Decimal(str(price).strip())
    except (InvalidOperation, ValueError):
        raise ConfigError(f"price {price!r} is not a decimal amount") from None
    if not d.is_finite() or d < 0:
        raise ConfigError(f"price {price!r} must be a non-negative amount")
    return d


def _bump_iso(previous: Any) -> str:
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        prev = datetime.fromisoformat(str(previous))
        if prev.tzinfo is None:
            prev = prev.replace(tzinfo=UTC)
        if prev >= now:
            now = (prev + timedelta(seconds=1)).astimezone(UTC)
    except ValueError:
        pass
    return now.isoformat()


def _bump_epoch(previous: Any) -> int:
    now = int(time.time())
    return max(now, int(previous) + 1) if isinstance(previous, int) else now


def _format_price(d: Decimal, currency: str) -> str:
    """A storefront price string with the currency's decimals (``"34.00"``, ``"1200"`` for JPY)."""
    return f"{d.quantize(Decimal(1).scaleb(-currency_exponent(currency)))}"


# --- Shopify -------------------------------------------------------------------------------------------


def _shopify_variant(store: ShopifyStore, product_id: Any, variant_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    product = store.product(_int_id(product_id, "product_id"))
    if product is None:
        raise NotFoundError(f"unknown product {product_id} in shopify/{store.slug}")
    vid = _int_id(variant_id, "variant_id")
    for v in product.get("variants") or []:
        if v.get("id") == vid:
            return product, v
    raise NotFoundError(f"unknown variant {variant_id} of product {product_id} in shopify/{store.slug}")


def _touch_shopify(store: ShopifyStore, product: dict[str, Any], variants: list[dict[str, Any]]) -> None:
    stamp = _bump_iso(product.get("updated_at"))
    product["updated_at"] = stamp
    for v in variants:
        v["updated_at"] = stamp
    store.touch(product["id"])


# --- Etsy ----------------------------------------------------------------------------------------------


def _etsy_listing(shop: EtsyShop, listing_id: Any) -> dict[str, Any]:
    listing = shop.listing(_int_id(listing_id, "listing_id"))
    if listing is None:
        raise NotFoundError(f"unknown listing {listing_id} in etsy/{shop.slug}")
    return listing


def _etsy_products(shop: EtsyShop, listing: dict[str, Any], variant_id: Any) -> list[dict[str, Any]]:
    products = [p for p in shop.inventory(int(listing["listing_id"]))["products"] if not p.get("is_deleted")]
    if variant_id is None:
        return products
    vid = _int_id(variant_id, "variant_id")
    chosen = [p for p in products if p.get("product_id") == vid]
    if not chosen:
        raise NotFoundError(f"unknown inventory product {variant_id} of listing {listing['listing_id']}")
    return chosen


def _refresh_listing(shop: EtsyShop, listing: dict[str, Any]) -> None:
    """Recompute the listing's quantity, minimum price and state from its inventory, bump its timestamp."""
    lid = int(listing["listing_id"])
    live = [
        o for p in shop.inventory(lid)["products"] if not p.get("is_deleted")
        for o in p.get("offerings") or [] if not o.get("is_deleted") and o.get("is_enabled")
    ]
    in_stock = [o for o in live if int(o.get("quantity") or 0) > 0]
    listing["quantity"] = sum(int(o.get("quantity") or 0) for o in in_stock)
    prices = [o["price"] for o in live if isinstance(o.get("price"), dict)]
    if prices:
        listing["price"] = dict(min(prices, key=lambda m: Decimal(m["amount"]) / Decimal(m["divisor"])))
    state = listing.get("state") or "active"
    if state == "active" and not in_stock:
        listing["state"] = "sold_out"
    elif state == "sold_out" and in_stock:
        listing["state"] = "active"
    listing["last_modified_timestamp"] = _bump_epoch(listing.get("last_modified_timestamp"))
    shop.touch(lid)


# --- public operations ---------------------------------------------------------------------------------


def set_price(catalog: Catalog, platform: str, slug: str, product_id: Any, variant_id: Any,
              price: str) -> dict[str, Any]:
    """Set one variant's price (a decimal string in the store's currency, e.g. ``"34.00"``)."""
    d = _decimal(price)
    if platform == "shopify":
        store = _store(catalog, slug)
        product, variant = _shopify_variant(store, product_id, variant_id)
        variant["price"] = _format_price(d, str(store.meta.get("currency") or "USD"))
        _touch_shopify(store, product, [variant])
        return product
    if platform == "etsy":
        shop = _shop(catalog, slug)
        listing = _etsy_listing(shop, product_id)
        for p in _etsy_products(shop, listing, variant_id):
            for o in p.get("offerings") or []:
                cur = (o.get("price") or {}).get("currency_code") or shop.shop.get("currency_code") or "USD"
                divisor = 10 ** currency_exponent(cur)
                o["price"] = {"amount": int(d * divisor), "divisor": divisor, "currency_code": cur}
        _refresh_listing(shop, listing)
        return listing
    raise ConfigError(f"unknown platform {platform!r} (shopify or etsy)")


def set_available(catalog: Catalog, platform: str, slug: str, product_id: Any, variant_id: Any,
                  available: bool) -> dict[str, Any]:
    """Make one variant (or, with ``variant_id=None``, every variant) available or sold out."""
    if platform == "shopify":
        store = _store(catalog, slug)
        product = store.product(_int_id(product_id, "product_id"))
        if product is None:
            raise NotFoundError(f"unknown product {product_id} in shopify/{slug}")
        variants = (product.get("variants") or []) if variant_id is None else [
            _shopify_variant(store, product_id, variant_id)[1]]
        for v in variants:
            v["available"] = bool(available)
        _touch_shopify(store, product, list(variants))
        return product
    if platform == "etsy":
        shop = _shop(catalog, slug)
        listing = _etsy_listing(shop, product_id)
        for p in _etsy_products(shop, listing, variant_id):
            for o in p.get("offerings") or []:
                if o.get("is_deleted"):
                    continue
                o["is_enabled"] = bool(available)
                if available and int(o.get("quantity") or 0) <= 0:
                    o["quantity"] = _RESTOCK_QTY
                if not available:
                    o["quantity"] = 0
        _refresh_listing(shop, listing)
        return listing
    raise ConfigError(f"unknown platform {platform!r} (shopify or etsy)")


def _new_id(seed: str, taken: set[int], digits: int) -> int:
    n = 0
    while True:
        h = hashlib.sha1(f"{seed}/{n}".encode()).digest()
        candidate = 10 ** (digits - 1) + int.from_bytes(h[:8], "big") % (9 * 10 ** (digits - 1))
        if candidate not in taken:
            return candidate
        n += 1


def _add_shopify(store: ShopifyStore, raw: dict[str, Any]) -> dict[str, Any]:
    product = copy.deepcopy(raw)
    title = str(product.get("title") or "").strip()
    if not title:
        raise ConfigError("a new product needs a title")
    taken = {p["id"] for p in store.products if isinstance(p.get("id"), int)}
    if "id" in product:
        product["id"] = _int_id(product["id"], "id")
        if product["id"] in taken:
            raise ConfigError(f"product {product['id']} already exists in shopify/{store.slug}", code="conflict")
    else:
        product["id"] = _new_id(f"{store.slug}/{title}", taken, 13)
    handle = str(product.get("handle") or slugify(title) or product["id"])
    if store.by_handle(handle) is not None:
        if "handle" in raw:
            raise ConfigError(f"handle {handle!r} already exists in shopify/{store.slug}", code="conflict")
        handle = f"{handle}-{str(product['id'])[-4:]}"
    product["handle"] = handle
    now = _bump_iso(None)
    for key, default in (("body_html", ""), ("vendor", store.meta.get("name") or store.slug), ("product_type", ""),
                         ("tags", []), ("images", []), ("published_at", now), ("created_at", now)):
        product.setdefault(key, default)
    product["updated_at"] = now
    variants = product.get("variants") or [{"title": "Default Title", "option1": "Default Title"}]
    vtaken = {v.get("id") for p in store.products for v in p.get("variants") or []}
    for i, v in enumerate(variants):
        if "id" in v:
            v["id"] = _int_id(v["id"], "variant id")
            if v["id"] in vtaken:
                raise ConfigError(f"variant {v['id']} already exists in shopify/{store.slug}", code="conflict")
        else:
            v["id"] = _new_id(f"{product['id']}/{i}", {t for t in vtaken if isinstance(t, int)}, 14)
        vtaken.add(v["id"])
        v["price"] = _format_price(_decimal(v.get("price", "0")), str(store.meta.get("currency") or "USD"))
        for key, default in (("title", "Default Title"), ("option1", v.get("title") or "Default Title"),
                             ("option2", None), ("option3", None), ("sku", ""), ("requires_shipping", True),
                             ("taxable", True), ("featured_image", None), ("available", True), ("grams", 0),
                             ("compare_at_price", None), ("created_at", now)):
            v.setdefault(key, default)
        v.update(position=i + 1, product_id=product["id"], updated_at=now)
    product["variants"] = variants
    if not product.get("options"):
        product["options"] = [{"name": "Title", "position": 1, "values": sorted({str(v["option1"]) for v in variants})}]
    store.products.append(product)
    store.reindex()
    return product


def _add_etsy(catalog: Catalog, shop: EtsyShop, raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    inventory = raw.pop("inventory", None)
    listing = raw.pop("listing", raw)
    title = str(listing.get("title") or "").strip()
    if not title:
        raise ConfigError("a new listing needs a title")
    taken = {lid for s in catalog.etsy.values() for lid in s._by_id}
    if "listing_id" in listing:
        listing["listing_id"] = _int_id(listing["listing_id"], "listing_id")
        if listing["listing_id"] in taken:
            raise ConfigError(f"listing {listing['listing_id']} already exists", code="conflict")
    else:
        listing["listing_id"] = _new_id(f"{shop.slug}/{title}", taken, 10)
    lid = listing["listing_id"]
    cur = str(shop.shop.get("currency_code") or "USD")
    for key, default in (("shop_id", shop.shop_id), ("description", ""), ("state", "active"), ("quantity", 1),
                         ("url", f"https://www.etsy.com/listing/{lid}/{slugify(title)}"),
                         ("price", {"amount": 0, "divisor": 10 ** currency_exponent(cur), "currency_code": cur}),
                         ("tags", []), ("materials", []), ("listing_type", "physical"), ("has_variations", False),
                         ("is_personalizable", False), ("personalization_is_required", False),
                         ("who_made", "i_did"), ("when_made", "made_to_order"),
                         ("creation_timestamp", int(time.time()))):
        listing.setdefault(key, default)
    shop.listings.append(listing)
    shop.reindex()
    if inventory is not None:
        if not isinstance(inventory, dict) or not isinstance(inventory.get("products"), list):
            raise ConfigError("inventory must be an object with a products list")
        shop.inventories[lid] = inventory
        _refresh_listing(shop, listing)
    else:
        listing["last_modified_timestamp"] = _bump_epoch(None)
        shop.touch(lid)
    return listing


def add_product(catalog: Catalog, platform: str, slug: str, product: dict[str, Any]) -> dict[str, Any]:
    """Add a product (Shopify product JSON) or listing (Etsy: a listing, or ``{"listing", "inventory"}``).

    Missing ids, handle, timestamps and variant fields are filled in; the stored record is returned.
    """
    if not isinstance(product, dict):
        raise ConfigError("product must be a JSON object")
    if platform == "shopify":
        return _add_shopify(_store(catalog, slug), product)
    if platform == "etsy":
        return _add_etsy(catalog, _shop(catalog, slug), product)
    raise ConfigError(f"unknown platform {platform!r} (shopify or etsy)")


def remove_product(catalog: Catalog, platform: str, slug: str, product_id: Any) -> None:
    """Remove a product or listing: it disappears from every endpoint (404 on direct reads)."""
    pid = _int_id(product_id, "product_id")
    if platform == "shopify":
        store = _store(catalog, slug)
        if store.product(pid) is None:
            raise NotFoundError(f"unknown product {product_id} in shopify/{slug}")
        store.products[:] = [p for p in store.products if p.get("id") != pid]
        store.touch(pid)
        return
    if platform == "etsy":
        shop = _shop(catalog, slug)
        _etsy_listing(shop, pid)
        shop.listings[:] = [x for x in shop.listings if x.get("listing_id") != pid]
        shop.inventories.pop(pid, None)
        shop.touch(pid)
        return
    raise ConfigError(f"unknown platform {platform!r} (shopify or etsy)")


def set_vacation(catalog: Catalog, slug: str, on: bool) -> dict[str, Any]:
    """Put an Etsy shop on vacation (``is_vacation``) or back; its listings stay as they are."""
    shop = _shop(catalog, slug)
    shop.shop["is_vacation"] = bool(on)
    shop.touch()
    return shop.shop
