"""A UCP-shaped facade over the engine: Universal Commerce Protocol ``catalog search`` in, UCP products out.

Request (``dev.ucp.shopping.catalog.search`` ``$defs/search_request``) → :class:`~search.schema.SearchRequest`:

* ``query`` → ``query``; ``context.address_country`` (ISO 3166-1 alpha-2) → ``context.country``;
  ``context.currency`` → ``context.currency`` and the currency of the price filter (UCP denominates
  price filters in ``context.currency``; without it a bound holds in each merchant's own currency and
  the response says so in ``messages``). Other context members (``intent``, ``language``...) are
  accepted and ignored, as UCP requires.
* ``filters.categories`` → ``filters.product_type`` (the facade reports a product's type as its
  ``merchant``-taxonomy category, so values found in results can be sent back);
  ``filters.price {min, max}`` (minor units) → ``filters.price``. UCP filters are open to extensions;
  the facade accepts aisle's own filter names (``attributes``, ``vendor``, ``merchant``, ``platform``,
  ``available_only``) and rejects any other name with code ``unknown_filter``.
* ``pagination {cursor, limit}`` → ``cursor``, ``limit``; a limit above 100 is clamped (UCP allows it).

Response (``$defs/search_response``): one product per engine result, all its variants, the variant the
engine picked first (UCP: "first item is the featured variant"), money in minor units, variant
``availability {available, status}`` from the merchant's stock flag, and the buyer-country eligibility
(``eligible``, ``reasons``, ``checkout_url``) under each variant's ``metadata``. Availability and
eligibility are discovery-time signals: the checkout re-check is authoritative.

Each hit's full product is read right after the search; if the snapshot switches in between, the details
come from the newer snapshot, and a product that left it is answered from the hit alone (its one variant).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from indexer.errors import NotFoundError, QueryError
from search.schema import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MERCHANT_CONTENT_NOTICE,
    BuyInfo,
    Context,
    Filters,
    PriceFilter,
    ProductOut,
    Result,
    SearchRequest,
    SearchResponse,
    VariantOut,
    iso_country,
)
from search.serve.protocol import SearchEngine
from search.serve.sanitise import clean_merchant_text

UCP_VERSION = "2026-04-08"
CAPABILITY = "dev.ucp.shopping.catalog.search"


class UcpPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: int | None = Field(default=None, ge=0, description="Minimum price, ISO 4217 minor units.")
    max: int | None = Field(default=None, ge=0, description="Maximum price, ISO 4217 minor units.")


class UcpFilters(BaseModel):
    """UCP filters plus aisle's own (UCP filters are open to extensions); any other name is refused."""

    model_config = ConfigDict(extra="forbid")
    categories: list[str] | None = None
    price: UcpPrice | None = None
    attributes: dict[str, list[str] | str] | None = None
    vendor: list[str] | str | None = None
    merchant: list[str] | str | None = None
    platform: list[Literal["shopify", "etsy"]] | Literal["shopify", "etsy"] | None = None
    available_only: bool = False


class UcpContext(BaseModel):
    model_config = ConfigDict(extra="allow")  # UCP: unrecognised context members MUST be ignored
    address_country: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")

    @field_validator("address_country")
    @classmethod
    def _alpha2(cls, v: str | None) -> str | None:
        if v is not None and (len(v) != 2 or not v.isascii() or not v.isalpha()):
            raise ValueError("address_country must be an ISO 3166-1 alpha-2 code such as 'US'")
        return iso_country(v) if v else v


class UcpPagination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=10, ge=1)


class UcpSearchRequest(BaseModel):
    """``catalog_search.json#/$defs/search_request`` (``signals`` and ``attribution`` accepted, unused)."""

    model_config = ConfigDict(extra="allow")
    query: str = Field(default="", max_length=MAX_QUERY_CHARS)
    context: UcpContext = Field(default_factory=UcpContext)
    filters: UcpFilters | None = None
    pagination: UcpPagination = Field(default_factory=UcpPagination)


def to_search_request(req: UcpSearchRequest) -> SearchRequest:
    """The engine request a UCP catalog search stands for."""
    currency = req.context.currency.upper() if req.context.currency else None
    filters: Filters | None = None
    if req.filters is not None:
        f = req.filters
        price = None
        if f.price is not None and (f.price.min is not None or f.price.max is not None):
            if f.price.min is not None and f.price.max is not None and f.price.min > f.price.max:
                raise QueryError("filters.price.min is greater than filters.price.max", code="bad_price_range")
            price = PriceFilter(min=f.price.min, max=f.price.max, currency=currency)
        filters = Filters.model_validate(
            {
                "attributes": f.attributes or {},
                "vendor": f.vendor,
                "product_type": f.categories or None,
                "merchant": f.merchant,
                "platform": f.platform,
                "price": price,
                "available_only": f.available_only,
            }
        )
    return SearchRequest(
        query=req.query,
        filters=filters,
        context=Context(country=req.context.address_country or "US", currency=currency),
        limit=min(req.pagination.limit, MAX_LIMIT),
        cursor=req.pagination.cursor,
    )


def _money(v: VariantOut) -> dict[str, Any] | None:
    return {"amount": v.price.amount, "currency": v.price.currency} if v.price is not None else None


def _variant(v: VariantOut, buy: BuyInfo | None, product_url: str, seller: str) -> dict[str, Any] | None:
    price = _money(v)
    if price is None:  # UCP requires a price; a variant without one cannot be offered
        return None
    out: dict[str, Any] = {
        "id": v.id,
        "title": v.title or "Default",
        "description": {"plain": v.title or "Default"},
        "price": price,
        "availability": {"available": v.available, "status": "in_stock" if v.available else "out_of_stock"},
        "options": [{"name": name, "label": value} for name, value in v.options.items()],
        "seller": {"name": seller},
        "url": product_url,
    }
    if v.sku:
        out["sku"] = v.sku
    if buy is not None:
        out["metadata"] = {
            "eligible": buy.eligible,
            "reasons": list(buy.reasons),
            "checkout_url": buy.checkout_url,
            "checked_at": buy.checked_at,
        }
    return out


def to_ucp_product(
    product: ProductOut, featured: str | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """A UCP ``types/product.json`` for an engine product; ``featured`` (a variant id) goes first.

    None when no variant has a price (UCP requires ``price`` on every variant and at least one variant).
    """
    buys: list[BuyInfo | None] = list(product.buy) if product.buy else [None] * len(product.variants)
    pairs = list(zip(product.variants, buys, strict=False))
    pairs.sort(key=lambda p: p[0].id != featured)  # stable: the featured variant first, the rest in order
    variants = [x for v, b in pairs if (x := _variant(v, b, product.url, product.merchant.name)) is not None]
    if not variants:
        return None
    currency = variants[0]["price"]["currency"]
    amounts = [x["price"]["amount"] for x in variants if x["price"]["currency"] == currency]
    out: dict[str, Any] = {
        "id": product.doc_id,
        "title": product.title,
        "description": {"plain": product.description or product.title},
        "url": product.url,
        "price_range": {
            "min": {"amount": min(amounts), "currency": currency},
            "max": {"amount": max(amounts), "currency": currency},
        },
        "variants": variants,
        "options": [
            {"name": name, "values": [{"label": v} for v in values]}
            for name, values in product.options.items()
            if values
        ],
        "tags": list(product.tags),
        "media": [{"type": "image", "url": url} for url in product.images],
        "metadata": {
            "content_source": "merchant",
            "platform": product.platform,
            "merchant": {"id": product.merchant.id, "name": product.merchant.name},
            **(extra or {}),
        },
    }
    if product.product_type:
        out["categories"] = [{"value": product.product_type, "taxonomy": "merchant"}]
    if product.vendor:
        out["metadata"]["vendor"] = product.vendor
    return out


def _from_result(r: Result) -> ProductOut:
    # Used when the product vanished between search and lookup (a snapshot switch): the hit alone.
    return ProductOut(
        doc_id=r.doc_id,
        title=r.title,
        platform=r.platform,
        merchant=r.merchant,
        url=r.url,
        vendor=r.vendor,
        product_type=r.product_type,
        images=[r.image] if r.image else [],
        variants=[r.variant],
        buy=[r.buy],
    )


def to_ucp_response(resp: SearchResponse, products: list[ProductOut], notes: list[str]) -> dict[str, Any]:
    """``catalog_search.json#/$defs/search_response`` for an engine response and its full products."""
    items = []
    for r, p in zip(resp.results, products, strict=True):
        extra = {"score": round(r.score, 6), "match": r.match.model_dump(), "snapshot": resp.snapshot}
        item = to_ucp_product(p, featured=r.variant.id, extra=extra)
        if item is not None:
            items.append(item)
    messages: list[dict[str, Any]] = [{"type": "info", "code": "merchant_content", "content": MERCHANT_CONTENT_NOTICE}]
    messages += [{"type": "info", "code": code, "content": text} for code, text in (n.split(":", 1) for n in notes)]
    pagination: dict[str, Any] = {"has_next_page": resp.next_cursor is not None}
    if resp.next_cursor is not None:
        pagination["cursor"] = resp.next_cursor
    return {
        "ucp": {"version": UCP_VERSION, "status": "success", "capabilities": {CAPABILITY: [{"version": UCP_VERSION}]}},
        "products": clean_merchant_text(items, inside=True),
        "pagination": pagination,
        "messages": messages,
    }


def ucp_search(engine: SearchEngine, body: UcpSearchRequest) -> dict[str, Any]:
    """Run a UCP catalog search on ``engine`` (one engine.search, then each hit's full product)."""
    request = to_search_request(body)
    resp = engine.search(request)
    products = []
    for r in resp.results:
        try:
            products.append(engine.get_product(r.doc_id, request.context.country))
        except NotFoundError:
            products.append(_from_result(r))
    notes = []
    if request.filters is not None and request.filters.price is not None and request.context.currency is None:
        notes.append(
            "price_filter_currency:price bounds were applied in each merchant's own currency (no context.currency)"
        )
    return to_ucp_response(resp, products, notes)


def ucp_error(status: int, code: str, message: str) -> dict[str, Any]:
    """``common/types/error_response.json`` for a failed facade request."""
    return {
        "ucp": {"version": UCP_VERSION, "status": "error"},
        "messages": [
            {
                "type": "error",
                "code": code,
                "content": message,
                "severity": "unrecoverable" if status >= 500 or status == 404 else "recoverable",
            }
        ],
    }
