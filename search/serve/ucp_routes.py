"""The UCP routes of the HTTP API (assembled by :func:`search.serve.http.create_app`)::

    GET  /.well-known/ucp          the business profile (search.serve.ucp_discovery)
    POST /ucp/catalog/search       search_catalog (search.serve.ucp)
    POST /ucp/catalog/lookup       lookup_catalog (search.serve.ucp_lookup)
    POST /ucp/catalog/product      get_product (search.serve.ucp_lookup)
    POST /ucp/carts                create_cart: a live re-check as a UCP cart (search.serve.ucp_cart)
    GET  /ucp/carts/{id}           get_cart: the same lines re-checked now
    GET  /ucp/buy/{items}          shopping permalink: 303 to the merchant's checkout (or the handoff page)
    GET  /ucp/handoff/{items}      a plain HTML page: one checkout link per merchant

Every ``/ucp/`` operation negotiates the version from the ``UCP-Agent`` header first
(:func:`search.serve.ucp_discovery.negotiate`) and answers at that version. Errors under ``/ucp/`` leave as
UCP ``error_response`` (:func:`search.serve.guard.render_error`); business outcomes (an unknown product for
``get_product``, a cart in several currencies) are HTTP 200 ``error_response`` bodies, as UCP's REST binding
says.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from search.schema import CheckRequest, country_or_error
from search.serve.protocol import SearchEngine
from search.serve.ucp import UcpSearchRequest, ucp_search
from search.serve.ucp_cart import (
    UcpCartRequest,
    handoff_page,
    parse_cart_id,
    parse_permalink_items,
    permalink_target,
    ucp_cart,
)
from search.serve.ucp_discovery import business_profile, negotiate
from search.serve.ucp_lookup import UcpLookupRequest, UcpProductRequest, ucp_get_product, ucp_lookup

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _json(data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, separators=(",", ":")), media_type="application/json",
                    headers=headers)


def ucp_version(ucp_agent: str | None = Header(None, alias="UCP-Agent", description=(
        'Platform profile and, optionally, its UCP version: profile="https://...", version="YYYY-MM-DD".'))) -> str:
    """The version a ``/ucp/`` request is answered at (FastAPI dependency over the ``UCP-Agent`` header)."""
    return negotiate(ucp_agent)


def ucp_routes(eng: SearchEngine, responses: dict[int | str, dict[str, Any]]) -> APIRouter:
    """The UCP router over ``eng`` (``responses``: the error responses documented in OpenAPI)."""
    router = APIRouter(tags=["ucp"], responses=responses)
    _catalog_routes(router, eng)
    _cart_routes(router, eng)
    return router


def _catalog_routes(router: APIRouter, eng: SearchEngine) -> None:
    """Discovery and the catalog operations."""

    @router.get("/.well-known/ucp")
    def profile(request: Request) -> Response:
        """UCP business profile: the catalog, cart and permalink capabilities aisle serves, with versions and
        the REST endpoint."""
        return _json(business_profile(str(request.base_url)), {"Cache-Control": "public, max-age=300"})

    @router.post("/ucp/catalog/search")
    def ucp_catalog_search(request: UcpSearchRequest, version: str = Depends(ucp_version)) -> Response:
        """UCP ``search_catalog``: minor units, cursor pagination, products[].variants[]."""
        doc = ucp_search(eng, request)
        doc["ucp"]["version"] = version
        return _json(doc)

    @router.post("/ucp/catalog/lookup")
    def ucp_catalog_lookup(request: UcpLookupRequest, version: str = Depends(ucp_version)) -> Response:
        """UCP ``lookup_catalog``: products and variants by product id, variant id or SKU (batch)."""
        return _json(ucp_lookup(eng, request, version))

    @router.post("/ucp/catalog/product")
    def ucp_catalog_product(request: UcpProductRequest, version: str = Depends(ucp_version)) -> Response:
        """UCP ``get_product``: one product, variants narrowed by selected options."""
        return _json(ucp_get_product(eng, request, version))


def _cart_routes(router: APIRouter, eng: SearchEngine) -> None:
    """Carts and permalinks: live re-checks in UCP's shapes."""

    @router.post("/ucp/carts")
    def ucp_create_cart(request: UcpCartRequest, version: str = Depends(ucp_version)) -> Response:
        """UCP ``create_cart``: the lines re-checked live at their merchants, with checkout links."""
        items = request.cart_items()
        check = eng.check(CheckRequest(items=items, country=request.context.address_country or "US"))
        return _json(ucp_cart(check, items, version), _NO_STORE)

    @router.get("/ucp/carts/{cart_id}")
    def ucp_get_cart(cart_id: str = Path(min_length=1, max_length=8000),
                     version: str = Depends(ucp_version)) -> Response:
        """UCP ``get_cart``: the cart's lines re-checked live now."""
        items, country = parse_cart_id(cart_id)
        return _json(ucp_cart(eng.check(CheckRequest(items=items, country=country)), items, version), _NO_STORE)

    @router.get("/ucp/buy/{items}", response_class=RedirectResponse, status_code=303)
    def ucp_permalink(request: Request, items: str = Path(min_length=3, max_length=4000),
                      country: str = Query("US", alias="context/address_country", max_length=60)) -> Response:
        """UCP shopping permalink: 303 to the merchant's checkout with these items (several merchants: the
        handoff page)."""
        cart = parse_permalink_items(items)
        check = eng.check(CheckRequest(items=cart, country=country_or_error(country)))
        target = permalink_target(check)
        if target is None:
            target = str(request.url_for("ucp_handoff", items=items).include_query_params(
                **{"context/address_country": check.country}))
        return RedirectResponse(target, status_code=303, headers=_NO_STORE)

    @router.get("/ucp/handoff/{items}", response_class=HTMLResponse)
    def ucp_handoff(items: str = Path(min_length=3, max_length=4000),
                    country: str = Query("US", alias="context/address_country", max_length=60)) -> Response:
        """The page a permalink of several merchants lands on: one checkout link per merchant."""
        check = eng.check(CheckRequest(items=parse_permalink_items(items), country=country_or_error(country)))
        return HTMLResponse(handoff_page(check), headers=_NO_STORE)
