"""The simulator's admin API under ``/_admin/`` (JSON in, JSON out; loopback clients only).

It changes the running catalog (see :mod:`indexer.storefront.mutate`) and reads or resets the fault
log. It is never fault-injected. Requests from a non-loopback client get 403, so a simulator started
with ``--allow-public`` still cannot be changed from elsewhere. A POST must declare
``Content-Type: application/json`` (else ``415 unsupported_media_type``): a web page can send a
cross-site ``text/plain`` or form POST to a loopback port without a preflight, never a JSON one.

=======  ===========================  =====================================================================
method   path                         body / answer
=======  ===========================  =====================================================================
GET      /_admin/health               ``{"ok": true}``
GET      /_admin/stores               stores and shops with their paths, shop ids and product counts
POST     /_admin/set_price            ``{platform, slug, product_id, variant_id, price}`` → the product
POST     /_admin/set_available        ``{platform, slug, product_id, variant_id?, available}`` → product
POST     /_admin/add_product          ``{platform, slug, product}`` → the stored product (ids filled in)
POST     /_admin/remove_product       ``{platform, slug, product_id}`` → ``{"removed": true}``
POST     /_admin/set_vacation         ``{slug, on}`` → the Etsy shop
GET      /_admin/faults               ``{spec, seed, requests, counts{kind: n}, total, log[[path, kind]]}``
POST     /_admin/faults               ``{spec?, seed?}`` → change the fault spec at run time
POST     /_admin/faults/reset         empty the fault log → the (empty) stats
=======  ===========================  =====================================================================

Errors are ``{"error": message, "code": code}`` with 400 (bad input), 403, 404 or 409 (already exists).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from indexer.crawl.netguard import is_loopback_host
from indexer.errors import AisleError, ConfigError
from indexer.storefront import mutate
from indexer.storefront.catalog import Catalog, dumps
from indexer.storefront.etsy_oauth import OAuthServer
from indexer.storefront.faults import FaultInjector, parse_faults

Handler = Callable[[Request], Awaitable[Response]]


def _json(status: int, obj: object) -> Response:
    return Response(dumps(obj), status_code=status, media_type="application/json")




def _json_content(request: Request) -> bool:
    """True when the request declares a JSON body (``application/json``, parameters allowed)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json"


def _guard(fn: Callable[[Request, dict[str, Any]], Any]) -> Handler:
    """Loopback check, JSON body parsing and error mapping around one admin operation."""

    async def endpoint(request: Request) -> Response:
        if not is_loopback_host(request.client.host if request.client else None):
            return _json(403, {"error": "the admin API only answers loopback clients", "code": "forbidden"})
        body: dict[str, Any] = {}
        if request.method == "POST":
            if not _json_content(request):
                # A browser sends text/plain, form and multipart bodies cross-site without a preflight;
                # application/json it does not, so requiring it stops a web page from driving the admin API.
                return _json(415, {"error": "admin requests must be sent as Content-Type: application/json",
                                   "code": "unsupported_media_type"})
            raw = await request.body()
            try:
                parsed = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError as exc:
                return _json(400, {"error": f"body is not JSON: {exc}", "code": "bad_json"})
            if not isinstance(parsed, dict):
                return _json(400, {"error": "body must be a JSON object", "code": "bad_json"})
            body = parsed
        try:
            return _json(200, fn(request, body))
        except AisleError as exc:
            status = 409 if exc.code == "conflict" else exc.http_status
            return _json(status, {"error": exc.message, "code": exc.code})
        except KeyError as exc:
            return _json(400, {"error": f"missing field {exc.args[0]!r}", "code": "missing_field"})

    return endpoint


class _Admin:
    """The ``/_admin/*`` endpoints of one catalog and fault injector (each takes the request and JSON body)."""

    def __init__(self, catalog: Catalog, injector: FaultInjector) -> None:
        self.catalog, self.injector = catalog, injector
        self.oauth: OAuthServer | None = None

    def stores(self, _: Request, __: dict[str, Any]) -> dict[str, Any]:
        return {
            "shopify": {
                slug: {"path": f"/shopify/{slug}", "name": s.meta.get("name"), "currency": s.meta.get("currency"),
                       "products": len(s.products)}
                for slug, s in self.catalog.shopify.items()
            },
            "etsy": {
                slug: {"shop_id": s.shop_id, "name": s.shop.get("shop_name"), "currency": s.shop.get("currency_code"),
                       "listings": len(s.listings), "is_vacation": bool(s.shop.get("is_vacation"))}
                for slug, s in self.catalog.etsy.items()
            },
        }

    def set_price(self, _: Request, b: dict[str, Any]) -> Any:
        return mutate.set_price(self.catalog, b["platform"], b["slug"], b["product_id"], b.get("variant_id"),
                                b["price"])

    def set_available(self, _: Request, b: dict[str, Any]) -> Any:
        if not isinstance(b.get("available"), bool):
            raise ConfigError("available must be true or false")
        return mutate.set_available(self.catalog, b["platform"], b["slug"], b["product_id"], b.get("variant_id"),
                                    b["available"])

    def add_product(self, _: Request, b: dict[str, Any]) -> Any:
        return mutate.add_product(self.catalog, b["platform"], b["slug"], b["product"])

    def remove_product(self, _: Request, b: dict[str, Any]) -> Any:
        mutate.remove_product(self.catalog, b["platform"], b["slug"], b["product_id"])
        return {"removed": True}

    def set_vacation(self, _: Request, b: dict[str, Any]) -> Any:
        return mutate.set_vacation(self.catalog, b["slug"], bool(b.get("on", True)))

    def faults(self, request: Request, b: dict[str, Any]) -> Any:
        if request.method == "POST":
            spec = parse_faults(str(b["spec"])) if "spec" in b else self.injector.spec
            seed = b.get("seed")
            if seed is not None and not isinstance(seed, int):
                raise ConfigError("seed must be an integer")
            self.injector.configure(spec, seed)
        return self.injector.stats()

    def reset(self, _: Request, __: dict[str, Any]) -> Any:
        self.injector.reset()
        return self.injector.stats()

    def revoke(self, _: Request, b: dict[str, Any]) -> Any:
        """``{"shop_id": N}``: the shop owner removes the app; every token of their grants stops working."""
        if self.oauth is None or not isinstance(b["shop_id"], int):
            raise ConfigError("shop_id must be an integer (and the app must serve Etsy OAuth)")
        return {"revoked": self.oauth.revoke(b["shop_id"])}

    def health(self, _: Request, __: dict[str, Any]) -> Any:
        return {"ok": True}


def admin_routes(catalog: Catalog, injector: FaultInjector, oauth: OAuthServer | None = None) -> list[Route]:
    """The ``/_admin/*`` routes bound to one catalog and fault injector (and Etsy OAuth state, for revoke)."""
    admin = _Admin(catalog, injector)
    admin.oauth = oauth
    table: list[tuple[str, Callable[[Request, dict[str, Any]], Any], list[str]]] = [
        ("/_admin/health", admin.health, ["GET"]),
        ("/_admin/stores", admin.stores, ["GET"]),
        ("/_admin/set_price", admin.set_price, ["POST"]),
        ("/_admin/set_available", admin.set_available, ["POST"]),
        ("/_admin/add_product", admin.add_product, ["POST"]),
        ("/_admin/remove_product", admin.remove_product, ["POST"]),
        ("/_admin/set_vacation", admin.set_vacation, ["POST"]),
        ("/_admin/faults", admin.faults, ["GET", "POST"]),
        ("/_admin/faults/reset", admin.reset, ["POST"]),
        ("/_admin/etsy/revoke", admin.revoke, ["POST"]),
    ]
    return [Route(path, _guard(fn), methods=methods) for path, fn, methods in table]
