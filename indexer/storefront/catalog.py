"""The simulator's in-memory catalog: loaded once from a catalog directory, serialised lazily, cached.

Layout read (the same as the shared evaluation catalogs)::

    shopify/<slug>/products.json   {"products": [...]}   storefront JSON, as /products.json serves it
    shopify/<slug>/meta.json       /meta.json
    etsy/<slug>/shop.json          GET /shops/{shop_id}
    etsy/<slug>/listings.json      {"count": N, "results": [...]} (every state; only active ones are served)
    etsy/<slug>/inventory/<listing_id>.json   GET /listings/{id}/inventory (optional per listing)

Each product's JSON bytes are produced on first use and cached; every page is a cached join of those.
A change (see :mod:`indexer.storefront.mutate`) drops the changed product's bytes and the owner's
page caches, so every endpoint reflects it at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import ConfigError

_SLUG_NON = re.compile(r"[^a-z0-9]+")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as the platforms send it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def slugify(text: str) -> str:
    """Shopify-style handle: ASCII lower case, runs of other characters become ``-``."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").lower()
    return _SLUG_NON.sub("-", ascii_text).strip("-")


def _read_json(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"catalog file missing: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"catalog file is not valid JSON: {path} ({exc})") from None


@dataclass
class Collection:
    """A collection derived from ``product_type`` (handle = slugified type; empty type → ``other``)."""

    collection_id: int
    handle: str
    title: str
    product_ids: list[int] = field(default_factory=list)


@dataclass
class ShopifyStore:
    """One Shopify store: its meta and products, with lazily built indexes and byte caches."""

    slug: str
    meta: dict[str, Any]
    products: list[dict[str, Any]]
    _by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    _by_handle: dict[str, dict[str, Any]] = field(default_factory=dict)
    _variants: dict[int, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    _product_bytes: dict[int, bytes] = field(default_factory=dict)
    _pages: dict[tuple[str, int, int], bytes] = field(default_factory=dict)
    _collections: dict[str, Collection] | None = None
    _meta_bytes: bytes | None = None

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        """Rebuild the id/handle/variant indexes and drop page caches (after any change)."""
        self._by_id = {p["id"]: p for p in self.products if isinstance(p.get("id"), int)}
        self._by_handle = {str(p["handle"]): p for p in self.products if p.get("handle")}
        self._variants = {
            v["id"]: (p, v) for p in self.products for v in p.get("variants") or [] if isinstance(v.get("id"), int)
        }
        self._pages.clear()
        self._collections = None
        self._meta_bytes = None

    def touch(self, product_id: int) -> None:
        """Forget cached bytes of one product and every page (its content changed)."""
        self._product_bytes.pop(product_id, None)
        self.reindex()

    def product(self, product_id: int) -> dict[str, Any] | None:
        return self._by_id.get(product_id)

    def by_handle(self, handle: str) -> dict[str, Any] | None:
        return self._by_handle.get(handle)

    def variant(self, variant_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """``(product, variant)`` for a variant id of this store."""
        return self._variants.get(variant_id)

    def product_bytes(self, product: dict[str, Any]) -> bytes:
        pid = product.get("id")
        key = pid if isinstance(pid, int) else id(product)
        cached = self._product_bytes.get(key)
        if cached is None:
            cached = self._product_bytes[key] = dumps(product)
        return cached

    def meta_bytes(self) -> bytes:
        if self._meta_bytes is None:
            meta = dict(self.meta)
            meta["published_products_count"] = len(self.products)
            self._meta_bytes = dumps(meta)
        return self._meta_bytes

    def collections(self) -> dict[str, Collection]:
        """Collections by handle, sorted by handle (derived once per catalog version)."""
        if self._collections is None:
            found: dict[str, Collection] = {}
            for p in self.products:
                ptype = str(p.get("product_type") or "").strip()
                handle = slugify(ptype) or "other"
                col = found.get(handle)
                if col is None:
                    # A stable 13-digit id, like Shopify's.
                    digest = hashlib.sha1(f"{self.slug}/{handle}".encode()).digest()
                    cid = 10**12 + int.from_bytes(digest[:8], "big") % (9 * 10**12)
                    col = found[handle] = Collection(cid, handle, ptype or "Other")
                if isinstance(p.get("id"), int):
                    col.product_ids.append(p["id"])
            self._collections = dict(sorted(found.items()))
        return self._collections

    def page(self, key: str, items: list[dict[str, Any]], limit: int, page: int, wrapper: str = "products") -> bytes:
        """``{"<wrapper>": [items of this page]}`` as bytes, cached under ``(key, limit, page)``."""
        cache_key = (key, limit, page)
        body = self._pages.get(cache_key)
        if body is None:
            chunk = items[(page - 1) * limit : page * limit]
            body = b'{"' + wrapper.encode() + b'":[' + b",".join(self.product_bytes(p) for p in chunk) + b"]}"
            self._pages[cache_key] = body
        return body


@dataclass
class EtsyShop:
    """One Etsy shop: the shop resource, all its listings (every state) and inventories."""

    slug: str
    shop: dict[str, Any]
    listings: list[dict[str, Any]]
    inventories: dict[int, dict[str, Any]]
    _by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    _active: list[dict[str, Any]] = field(default_factory=list)
    _bytes: dict[tuple[str, int], bytes] = field(default_factory=dict)
    _pages: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    @property
    def shop_id(self) -> int:
        return int(self.shop["shop_id"])

    def reindex(self) -> None:
        self._by_id = {int(x["listing_id"]): x for x in self.listings if isinstance(x.get("listing_id"), int)}
        self._active = [x for x in self.listings if (x.get("state") or "active") == "active"]
        self._pages.clear()
        self._bytes.pop(("shop", 0), None)

    def touch(self, listing_id: int | None = None) -> None:
        """Forget cached bytes of a listing (and its inventory) and every page."""
        if listing_id is not None:
            self._bytes.pop(("listing", listing_id), None)
            self._bytes.pop(("inventory", listing_id), None)
        self.reindex()

    def listing(self, listing_id: int) -> dict[str, Any] | None:
        return self._by_id.get(listing_id)

    def inventory(self, listing_id: int) -> dict[str, Any]:
        """The stored inventory, or one built from the listing (single product) when the file was absent."""
        inv = self.inventories.get(listing_id)
        if inv is None:
            listing = self._by_id[listing_id]
            inv = {
                "products": [{
                    "product_id": listing_id,
                    "sku": "",
                    "is_deleted": False,
                    "offerings": [{
                        "offering_id": listing_id,
                        "quantity": int(listing.get("quantity") or 0),
                        "is_enabled": (listing.get("state") or "active") == "active",
                        "is_deleted": False,
                        "price": listing.get("price"),
                    }],
                    "property_values": [],
                }],
                "price_on_property": [], "quantity_on_property": [], "sku_on_property": [],
            }
            self.inventories[listing_id] = inv
        return inv

    def shop_bytes(self) -> bytes:
        key = ("shop", 0)
        if key not in self._bytes:
            shop = dict(self.shop)
            shop["listing_active_count"] = len(self._active)
            self._bytes[key] = dumps(shop)
        return self._bytes[key]

    def listing_bytes(self, listing: dict[str, Any]) -> bytes:
        key = ("listing", int(listing["listing_id"]))
        if key not in self._bytes:
            self._bytes[key] = dumps(listing)
        return self._bytes[key]

    def inventory_bytes(self, listing_id: int) -> bytes:
        key = ("inventory", listing_id)
        if key not in self._bytes:
            self._bytes[key] = dumps(self.inventory(listing_id))
        return self._bytes[key]

    def active_page(self, limit: int, offset: int) -> bytes:
        """``{"count": N, "results": [...]}`` for active listings ``[offset, offset+limit)``, cached."""
        key = (limit, offset)
        body = self._pages.get(key)
        if body is None:
            chunk = self._active[offset : offset + limit]
            body = (b'{"count":' + str(len(self._active)).encode() + b',"results":['
                    + b",".join(self.listing_bytes(x) for x in chunk) + b"]}")
            self._pages[key] = body
        return body


@dataclass
class Catalog:
    """Every store and shop of a catalog directory, by slug (Etsy also by shop_id)."""

    root: Path
    shopify: dict[str, ShopifyStore]
    etsy: dict[str, EtsyShop]
    etsy_by_id: dict[int, EtsyShop]

    def etsy_listing(self, listing_id: int) -> tuple[EtsyShop, dict[str, Any]] | None:
        """The shop and listing for a listing id (listing ids are global on Etsy)."""
        for shop in self.etsy.values():
            listing = shop.listing(listing_id)
            if listing is not None:
                return shop, listing
        return None


def load_catalog(root: Path) -> Catalog:
    """Load a catalog directory into memory; :class:`ConfigError` naming the file when it is unusable."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"catalog directory not found: {root}")
    shopify: dict[str, ShopifyStore] = {}
    for d in sorted((root / "shopify").glob("*/")) if (root / "shopify").is_dir() else []:
        data = _read_json(d / "products.json")
        products = data.get("products") if isinstance(data, dict) else data
        if not isinstance(products, list):
            raise ConfigError(f"{d / 'products.json'}: expected {{\"products\": [...]}}")
        meta = _read_json(d / "meta.json")
        if not isinstance(meta, dict):
            raise ConfigError(f"{d / 'meta.json'}: expected an object")
        shopify[d.name] = ShopifyStore(d.name, meta, [p for p in products if isinstance(p, dict)])
    etsy: dict[str, EtsyShop] = {}
    for d in sorted((root / "etsy").glob("*/")) if (root / "etsy").is_dir() else []:
        shop = _read_json(d / "shop.json")
        if not isinstance(shop, dict) or not isinstance(shop.get("shop_id"), int):
            raise ConfigError(f"{d / 'shop.json'}: expected an object with an integer shop_id")
        data = _read_json(d / "listings.json")
        listings = data.get("results") if isinstance(data, dict) else data
        if not isinstance(listings, list):
            raise ConfigError(f"{d / 'listings.json'}: expected {{\"count\": N, \"results\": [...]}}")
        inventories: dict[int, dict[str, Any]] = {}
        inv_dir = d / "inventory"
        if inv_dir.is_dir():
            for f in inv_dir.glob("*.json"):
                if f.stem.isdigit():
                    inv = _read_json(f)
                    if isinstance(inv, dict):
                        inventories[int(f.stem)] = inv
        etsy[d.name] = EtsyShop(d.name, shop, [x for x in listings if isinstance(x, dict)], inventories)
    if not shopify and not etsy:
        raise ConfigError(f"no stores in {root}: expected shopify/<slug>/products.json or etsy/<slug>/shop.json")
    by_id: dict[int, EtsyShop] = {}
    for s in etsy.values():
        if s.shop_id in by_id:
            raise ConfigError(f"shop_id {s.shop_id} used by both etsy/{by_id[s.shop_id].slug} and etsy/{s.slug}")
        by_id[s.shop_id] = s
    return Catalog(root, shopify, etsy, by_id)
