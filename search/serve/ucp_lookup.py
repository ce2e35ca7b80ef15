"""UCP catalog lookup (``dev.ucp.shopping.catalog.lookup``): ``lookup_catalog`` (``POST /ucp/catalog/lookup``,
``catalog_lookup.json#/$defs/lookup_response``) and ``get_product`` (``POST /ucp/catalog/product``,
``$defs/get_product_response``), over :meth:`Engine.get_product <search.engine.Engine.get_product>`.

Identifiers: a product id (aisle's ``doc_id``, the ``id`` of UCP search results), a variant id (the id
``/v1/checkout/check`` and the cart take) or a SKU. Choices, where UCP leaves them open:

* ``lookup_catalog`` answers each product once, with only the variants the ids resolved to, each carrying
  ``inputs``: a variant id or SKU resolves to its variant (``match: exact``); a product id to its featured
  variant (``match: featured``: the first variant buyable in ``context.address_country``, else the first
  in stock, else the first with a price), as UCP's own examples do; ``get_product`` gives every variant.
  Unknown ids are left out with an ``info`` ``not_found`` message each (UCP: HTTP 200, fewer products);
  more than :data:`MAX_LOOKUP_IDS` ids is ``400 request_too_large``. ``filters`` are accepted and not
  applied (an ``info`` message says so).
* ``get_product`` narrows variants to ``selected`` options (names and labels compared case-insensitively).
  When no variant meets every selection, selections are dropped until one does: first those not named in
  ``preferences`` (the last given first), then ``preferences`` from the end, as UCP describes; a ``warning``
  ``selection_relaxed`` says which were dropped. A variant id with no ``selected`` selects that variant's
  options. Option values carry ``exists``/``available`` relative to the other effective selections. An id
  that resolves to nothing is HTTP 200 with ``error_response`` ``not_found`` (UCP's REST binding).
* Prices, availability and eligibility (``metadata``) are the snapshot's, for ``context.address_country``
  (default US): discovery-time signals; the cart (live re-check) is authoritative.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from indexer.errors import NotFoundError, QueryError
from search.schema import MERCHANT_CONTENT_NOTICE, ProductOut
from search.serve.protocol import SearchEngine
from search.serve.sanitise import clean_merchant_text
from search.serve.ucp import UcpContext, to_ucp_product
from search.serve.ucp_discovery import CATALOG_LOOKUP, outcome_error, response_meta

MAX_LOOKUP_IDS = 50
_index: list[Any] = [None, {}]  # [snapshot, {SKU or variant id: [(doc_id, variant_id)]}], one snapshot at a time


class UcpLookupRequest(BaseModel):
    """``catalog_lookup.json#/$defs/lookup_request`` (``signals`` and ``attribution`` accepted, unused)."""

    model_config = ConfigDict(extra="allow")
    ids: list[str] = Field(min_length=1, description="Product ids, variant ids or SKUs.")
    context: UcpContext = Field(default_factory=UcpContext)
    filters: dict[str, Any] | None = None


class UcpSelection(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=100)
    label: str = Field(min_length=1, max_length=200)


class UcpProductRequest(BaseModel):
    """``catalog_lookup.json#/$defs/get_product_request``."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=300, description="A product id, variant id or SKU.")
    selected: list[UcpSelection] = Field(default_factory=list, max_length=20)
    preferences: list[str] = Field(default_factory=list, max_length=20)
    context: UcpContext = Field(default_factory=UcpContext)
    filters: dict[str, Any] | None = None


def _sku_index(snapshot: Any) -> dict[str, list[tuple[str, str]]]:
    """SKUs (and variant ids) of ``snapshot`` → (doc_id, variant_id); built once per snapshot, on the first id
    that is neither a product nor a variant id (it reads every product: a one-off cost per snapshot)."""
    snap, index = _index
    if snap is snapshot:
        return index  # type: ignore[no-any-return]
    index = {}
    for p in snapshot.products:
        for v in p.variants:
            index.setdefault(v.variant_id, []).append((p.doc_id, v.variant_id))
            if v.sku and v.sku != v.variant_id:
                index.setdefault(v.sku, []).append((p.doc_id, v.variant_id))
    _index[:] = [snapshot, index]
    return index


def resolve(engine: SearchEngine, ident: str) -> list[tuple[str, str | None, str]]:
    """What ``ident`` names: [(doc_id, variant_id or None for a whole product, match)]."""
    snapshot = engine.snapshot
    if snapshot.row_of(ident) is not None:
        return [(ident, None, "featured")]
    cat = getattr(engine, "catalog", None)  # the engine's variant index: the one the live re-check reads
    if cat is not None and (rows := cat.variant_index.get(ident)):
        return [(cat.products[int(cat.var_row[v])].doc_id, ident, "exact") for v in rows]
    return [(doc, vid, "exact") for doc, vid in _sku_index(snapshot).get(ident, [])]


def featured_variant(product: ProductOut) -> str | None:
    """The variant a product id stands for: buyable, else in stock, else priced (None: nothing priced)."""
    priced = [(v, b) for v, b in zip(product.variants, product.buy, strict=False) if v.price is not None]
    for test in (lambda v, b: b.eligible, lambda v, b: v.available, lambda v, b: True):
        for v, b in priced:
            if test(v, b):
                return v.id
    return None


def _info(code: str, content: str) -> dict[str, str]:
    return {"type": "info", "code": code, "content": content}


def ucp_lookup(engine: SearchEngine, body: UcpLookupRequest, version: str) -> dict[str, Any]:
    """``lookup_catalog``: the products and variants ``body.ids`` resolve to (rules in the module docstring)."""
    if len(body.ids) > MAX_LOOKUP_IDS:
        raise QueryError(f"at most {MAX_LOOKUP_IDS} ids per lookup, got {len(body.ids)}", code="request_too_large")
    country = body.context.address_country or "US"
    products: dict[str, ProductOut] = {}
    picked: dict[str, dict[str, list[dict[str, str]]]] = {}
    messages = [_info("merchant_content", MERCHANT_CONTENT_NOTICE)]
    for ident in dict.fromkeys(body.ids):
        found = False
        for doc, vid, match in resolve(engine, ident):
            try:
                product = products.get(doc) or engine.get_product(doc, country)
            except NotFoundError:  # left the snapshot since the index was built
                continue
            products[doc] = product
            vid = vid or featured_variant(product)
            if vid is not None:
                picked.setdefault(doc, {}).setdefault(vid, []).append({"id": ident, "match": match})
                found = True
        if not found:
            messages.append(_info("not_found", ident))
    items = []
    for doc, chosen in picked.items():
        item = to_ucp_product(products[doc], featured=next(iter(chosen)))
        if item is None:
            continue
        item["variants"] = [{**v, "inputs": chosen[v["id"]]} for v in item["variants"] if v["id"] in chosen]
        items.append(item)
    if body.filters:
        messages.append(_info("filters_not_applied", "lookup answers every id it resolves; filters are ignored"))
    return {"ucp": response_meta(version, CATALOG_LOOKUP), "products": clean_merchant_text(items, inside=True),
            "messages": messages}


def _fold(text: str) -> str:
    return text.strip().casefold()


def _meets(options: dict[str, str], selections: list[tuple[str, str]]) -> bool:
    have = {_fold(k): _fold(v) for k, v in options.items()}
    return all(have.get(_fold(n)) == _fold(label) for n, label in selections)


def narrow(product: ProductOut, selected: list[tuple[str, str]], preferences: list[str]
           ) -> tuple[list[tuple[str, str]], list[str], list[tuple[str, str]]]:
    """(effective selections, ids of the priced variants meeting them, dropped selections)."""
    rank = {_fold(p): i for i, p in enumerate(preferences)}
    # Drop order: selections not in preferences (last given first), then preferences from the end.
    order = sorted(range(len(selected)), key=lambda i: (_fold(selected[i][0]) in rank,
                                                        -rank.get(_fold(selected[i][0]), 0), -i))
    effective, dropped = list(selected), list[tuple[str, str]]()
    priced = [v for v in product.variants if v.price is not None]
    for i in [*order, None]:
        matching = [v.id for v in priced if _meets(v.options, effective)]
        if matching or i is None:
            return effective, matching, dropped
        effective.remove(selected[i])
        dropped.append(selected[i])
    return effective, [], dropped  # unreachable: the loop returns on None


def detail_options(product: ProductOut, effective: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Product options whose values say whether a variant exists / is available with the other selections."""
    out = []
    for name, values in product.options.items():
        others = [(n, label) for n, label in effective if _fold(n) != _fold(name)]
        shown = []
        for value in values:
            fits = [v for v in product.variants if _meets(v.options, [*others, (name, value)])]
            shown.append({"label": value, "exists": bool(fits), "available": any(v.available for v in fits)})
        if shown:
            out.append({"name": name, "values": shown})
    return out


def ucp_get_product(engine: SearchEngine, body: UcpProductRequest, version: str) -> dict[str, Any]:
    """``get_product``: one product with the variants meeting ``selected`` (rules in the module docstring)."""
    country = body.context.address_country or "US"
    hits = resolve(engine, body.id)
    try:
        product = engine.get_product(hits[0][0], country) if hits else None
    except NotFoundError:
        product = None
    if product is None:
        return outcome_error(version, "not_found", f"Product not found: {body.id[:300]}", capability=CATALOG_LOOKUP)
    vid = hits[0][1]
    selected = [(s.name, s.label) for s in body.selected]
    if not selected and vid is not None:
        selected = next((list(v.options.items()) for v in product.variants if v.id == vid), [])
    effective, matching, dropped = narrow(product, selected, body.preferences)
    best = featured_variant(product)
    featured = vid if vid in matching else best if best in matching else (matching[0] if matching else None)
    item = to_ucp_product(product, featured=featured)
    if item is None or not matching:
        return outcome_error(version, "item_unavailable", f"Product {product.doc_id} has no variant with a price",
                             capability=CATALOG_LOOKUP)
    item["variants"] = [v for v in item["variants"] if v["id"] in matching]
    item["selected"] = [{"name": n, "label": label} for n, label in effective]
    item["options"] = detail_options(product, effective)
    messages: list[dict[str, str]] = [_info("merchant_content", MERCHANT_CONTENT_NOTICE)]
    if dropped:
        messages.append({"type": "warning", "code": "selection_relaxed", "content": "no variant has every selected "
                         "option; dropped " + ", ".join(f"{n}={label}" for n, label in dropped)})
    return {"ucp": response_meta(version, CATALOG_LOOKUP), "product": clean_merchant_text(item, inside=True),
            "messages": messages}
