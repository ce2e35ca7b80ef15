"""The storefront simulator's ASGI app: Shopify stores, the Etsy API, faults and the admin API.

Paths (one server, one port)::

    /shopify/<slug>/...              a Shopify store (see indexer.storefront.shopify)
    /etsy/v3/application/...         the Etsy Open API v3 (see indexer.storefront.etsy)
    /etsy/oauth/connect              Etsy's OAuth 2.0 authorisation page (see indexer.storefront.etsy_oauth)
    /etsy/v3/public/oauth/token      Etsy's OAuth 2.0 token endpoint
    /_admin/...                      the admin API, loopback only (see indexer.storefront.admin)
    /                                a JSON index of the stores and shops

The catalog is loaded once when the app is created. Faults (see indexer.storefront.faults) hit only
the JSON data endpoints: products/collections pages, meta.json, and the Etsy shop, listings and
inventory. ``.js``, ``.json`` product reads, cart pages and the admin API are never faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from indexer.errors import ConfigError
from indexer.storefront import etsy, shopify
from indexer.storefront.admin import admin_routes
from indexer.storefront.catalog import Catalog, ShopifyStore, dumps, load_catalog
from indexer.storefront.etsy_oauth import OAuthServer
from indexer.storefront.faults import FaultInjector, FaultSpec, as_fault_spec
from indexer.storefront.reply import HTML, Reply, html_page, json_reply

_5XX = (500, 502, 503)
_BOT_PAGE = html_page(
    "Just a moment...",
    "<h1>Checking your browser before accessing the store.</h1><p>This process is automatic.</p>",
)


class _Settings:
    """Run-time settings and state shared by every handler of one app."""

    def __init__(self, catalog: Catalog, injector: FaultInjector, page_cap: int, slow_seconds: float,
                 retry_after: float, meter: etsy.RateMeter) -> None:
        self.catalog = catalog
        self.injector = injector
        self.page_cap = page_cap
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.meter = meter
        self.oauth = OAuthServer(catalog)
        self.stopping: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None


def _retry_after_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


async def _apply_faults(request: Request, reply: Reply, platform: str, cfg: _Settings) -> Reply:
    """Draw a fault for a data endpoint and turn the reply into it (logging what was injected)."""
    query = request.url.query
    draw = cfg.injector.draw(request.method, request.url.path, query)
    kind = draw.kind
    if kind is None:
        return reply
    where = request.url.path + (f"?{query}" if query else "")
    if kind == "429":
        cfg.injector.record(where, kind)
        body = {"error": "Too many requests"} if platform == "etsy" else {"errors": "Too Many Requests"}
        headers = {**reply.headers, "retry-after": _retry_after_text(cfg.retry_after)}
        return Reply(429, dumps(body), headers=headers)
    if kind == "500":
        cfg.injector.record(where, kind)
        status = _5XX[min(2, int(draw.detail * 3))]
        if platform == "etsy":
            return Reply(status, dumps({"error": "Server error"}), headers=reply.headers)
        return Reply(status, html_page(f"{status} error", f"<h1>There was a problem ({status})</h1>"), HTML)
    if kind == "timeout":
        cfg.injector.record(where, kind)
        if cfg.stopping is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cfg.stopping.wait(), timeout=cfg.slow_seconds)
        else:  # pragma: no cover - the lifespan always sets the event
            await asyncio.sleep(cfg.slow_seconds)
        return reply
    if kind == "html":
        cfg.injector.record(where, kind)
        return Reply(200, _BOT_PAGE, HTML)
    if kind == "truncate" and reply.status == 200 and len(reply.body) > 1:
        cfg.injector.record(where, kind)
        cut = max(1, min(len(reply.body) - 1, int(len(reply.body) * (0.2 + 0.6 * draw.detail))))
        return Reply(200, reply.body[:cut], reply.content_type, reply.headers)
    if kind == "dup" and reply.status == 200 and reply.dup is not None:
        cfg.injector.record(where, kind)
        return Reply(200, reply.dup(), reply.content_type, reply.headers)
    return reply


def _to_response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, headers=reply.headers, media_type=reply.content_type)


def _shopify_routes(cfg: _Settings) -> list[Route]:
    def bind(fn: Callable[[ShopifyStore, Request], Reply]) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> Response:
            store = cfg.catalog.shopify.get(request.path_params["slug"])
            reply = shopify.not_found() if store is None else fn(store, request)
            if reply.faultable:
                reply = await _apply_faults(request, reply, "shopify", cfg)
            return _to_response(reply)

        return endpoint

    def product_json(store: ShopifyStore, request: Request) -> Reply:
        p = store.by_handle(request.path_params["handle"])
        return shopify.not_found() if p is None else Reply(200, b'{"product":' + store.product_bytes(p) + b"}")

    base = "/shopify/{slug}"
    table: list[tuple[str, Callable[[ShopifyStore, Request], Reply]]] = [
        ("/products.json", lambda s, r: shopify.products_page(s, r.query_params, cfg.page_cap)),
        ("/meta.json", lambda s, r: shopify.meta(s)),
        ("/products/{handle}.js", lambda s, r: shopify.product_js(s, r.path_params["handle"])),
        ("/products/{handle}.json", product_json),
        ("/collections.json", lambda s, r: shopify.collections(s, r.query_params, cfg.page_cap)),
        ("/collections/{handle}/products.json",
         lambda s, r: shopify.collection_products(s, r.path_params["handle"], r.query_params, cfg.page_cap)),
        ("/cart/{items}", lambda s, r: shopify.cart(s, r.path_params["items"])),
        ("/{rest:path}", lambda s, r: shopify.not_found()),
        ("", lambda s, r: Reply(200, html_page(str(s.meta.get("name") or s.slug), "<h1>Welcome</h1>"), HTML)),
    ]
    return [Route(base + path, bind(fn), methods=["GET", "HEAD"]) for path, fn in table]  # type: ignore[arg-type]


def _etsy_routes(cfg: _Settings) -> list[Route]:
    def bind(fn: Callable[[Request], Reply]) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> Response:
            key = etsy.check_key(request.headers)
            if key is None:
                return _to_response(etsy.error(403, etsy.MISSING_SECRET))
            headers, refused = cfg.meter.hit(key)
            if refused is not None:
                return _to_response(refused)
            reply = fn(request)
            reply.headers = {**reply.headers, **headers}
            if reply.faultable:
                reply = await _apply_faults(request, reply, "etsy", cfg)
            return _to_response(reply)

        return endpoint

    base = "/etsy/v3/application"
    c = cfg.catalog
    table: list[tuple[str, Callable[[Request], Reply]]] = [
        ("/shops/{shop_id}", lambda r: etsy.shop(c, r.path_params["shop_id"])),
        ("/shops/{shop_id}/listings/active",
         lambda r: etsy.active_listings(c, r.path_params["shop_id"], r.query_params)),
        ("/listings/{listing_id}", lambda r: etsy.listing(c, r.path_params["listing_id"])),
        ("/listings/{listing_id}/inventory",
         lambda r: etsy.inventory(c, r.path_params["listing_id"], cfg.oauth, r.headers)),
        ("/{rest:path}", lambda r: etsy.error(404, f"Resource not found: {r.url.path}")),
    ]
    return [Route(base + path, bind(fn), methods=["GET", "HEAD"]) for path, fn in table]  # type: ignore[arg-type]


def _oauth_routes(cfg: _Settings) -> list[Route]:
    """Etsy's OAuth 2.0 pages (see indexer.storefront.etsy_oauth); never faulted, no API key needed."""

    async def connect(request: Request) -> Response:
        return _to_response(cfg.oauth.connect(request.query_params))

    async def token(request: Request) -> Response:
        # A form body (application/x-www-form-urlencoded) parsed here: no multipart dependency for one form.
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        return _to_response(cfg.oauth.token(form))

    return [Route("/etsy/oauth/connect", connect, methods=["GET"]),
            Route("/etsy/v3/public/oauth/token", token, methods=["POST"])]


def create_app(
    catalog_dir: Path,
    *,
    faults: FaultSpec | str | None = None,
    seed: int = 0,
    page_cap: int = 25000,
    slow_seconds: float = 5.0,
    retry_after: float = 1.0,
    enforce_etsy_rate_limit: bool = False,
    etsy_token_ttl: float = 3600.0,
    etsy_limit_per_second: int = etsy.LIMIT_PER_SECOND,
    etsy_limit_per_day: int = etsy.LIMIT_PER_DAY,
) -> Starlette:
    """Build the simulator app over a catalog directory (loaded into memory now).

    ``faults`` is a :class:`FaultSpec` or a spec string (see :func:`parse_faults`); ``seed`` makes the
    fault draws reproducible; ``page_cap`` is Shopify's ``page * limit`` cap; ``slow_seconds`` is the
    delay of a ``timeout`` fault; ``retry_after`` is the ``Retry-After`` of a 429 fault; ``etsy_token_ttl``
    is the lifetime of an Etsy OAuth access token and ``etsy_limit_per_*`` Etsy's rate limits. Raises
    :class:`~indexer.errors.ConfigError` for an unusable catalog or bad settings.
    """
    if page_cap < 1:
        raise ConfigError(f"page_cap must be at least 1, not {page_cap}")
    if slow_seconds < 0 or retry_after < 0:
        raise ConfigError("slow_seconds and retry_after must not be negative")
    catalog = load_catalog(Path(catalog_dir))
    injector = FaultInjector(as_fault_spec(faults), seed)
    meter = etsy.RateMeter(enforce_etsy_rate_limit, per_second=etsy_limit_per_second, per_day=etsy_limit_per_day)
    cfg = _Settings(catalog, injector, page_cap, slow_seconds, retry_after, meter)
    cfg.oauth = OAuthServer(catalog, token_ttl=etsy_token_ttl)

    async def index(_: Request) -> Response:
        return _to_response(json_reply(200, {
            "shopify": {slug: f"/shopify/{slug}" for slug in catalog.shopify},
            "etsy": {"api": "/etsy/v3/application", "shops": {slug: s.shop_id for slug, s in catalog.etsy.items()}},
        }))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        cfg.loop = asyncio.get_running_loop()
        cfg.stopping = asyncio.Event()
        yield
        cfg.stopping.set()

    routes = [Route("/", index), *admin_routes(catalog, injector, cfg.oauth), *_shopify_routes(cfg),
              *_oauth_routes(cfg), *_etsy_routes(cfg)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.storefront = cfg
    return app
