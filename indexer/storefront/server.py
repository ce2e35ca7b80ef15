"""Run the simulator: in a background thread for tests and the demo, or in the foreground for the CLI.

``running_storefront(catalog_dir, ...)`` binds a free loopback port, serves the app with uvicorn in a
daemon thread, waits until it answers, yields a :class:`RunningStorefront` and stops the server on
exit (slow ``timeout`` faults still sleeping are woken so shutdown is quick).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from indexer.errors import AisleError, ConfigError, NotFoundError
from indexer.storefront.app import create_app
from indexer.storefront.faults import FaultSpec

_START_TIMEOUT_S = 30.0


class AdminClient:
    """Typed helpers over the ``/_admin/`` API of one running simulator (also callable for raw calls)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def __call__(self, method: str, op: str, body: dict[str, Any] | None = None) -> Any:
        """Raw call: ``admin("POST", "set_price", {...})``; errors raise from the indexer.errors tree."""
        url = f"{self.base_url}/_admin/{op.lstrip('/')}"
        with httpx.Client(timeout=10.0, trust_env=False) as client:
            resp = client.request(method, url, json=(body or {}) if method != "GET" else None)
        try:
            data = resp.json()
        except ValueError:
            raise AisleError(f"admin {op}: HTTP {resp.status_code} with a non-JSON body") from None
        if resp.status_code == 404:
            raise NotFoundError(str(data.get("error")))
        if resp.status_code >= 400:
            raise ConfigError(str(data.get("error")), code=str(data.get("code") or "config_error"))
        return data

    def set_price(self, platform: str, slug: str, product_id: int | str, variant_id: int | str | None,
                  price: str) -> dict[str, Any]:
        """Set a variant's price (decimal string in the store currency); returns the changed product."""
        return self("POST", "set_price", {"platform": platform, "slug": slug, "product_id": product_id,
                                          "variant_id": variant_id, "price": str(price)})

    def set_available(self, platform: str, slug: str, product_id: int | str, variant_id: int | str | None,
                      available: bool) -> dict[str, Any]:
        """Make a variant (``variant_id=None``: every variant) available or sold out."""
        return self("POST", "set_available", {"platform": platform, "slug": slug, "product_id": product_id,
                                              "variant_id": variant_id, "available": bool(available)})

    def add_product(self, platform: str, slug: str, product: dict[str, Any]) -> dict[str, Any]:
        """Add a product (Shopify JSON) or listing (Etsy, optionally ``{"listing", "inventory"}``)."""
        return self("POST", "add_product", {"platform": platform, "slug": slug, "product": product})

    def remove_product(self, platform: str, slug: str, product_id: int | str) -> None:
        """Remove a product or listing."""
        self("POST", "remove_product", {"platform": platform, "slug": slug, "product_id": product_id})

    def set_vacation(self, slug: str, on: bool = True) -> dict[str, Any]:
        """Put an Etsy shop on vacation (or back)."""
        return self("POST", "set_vacation", {"slug": slug, "on": bool(on)})

    def fault_stats(self) -> dict[str, Any]:
        """``{spec, seed, requests, counts, total, log}`` of injected faults."""
        return self("GET", "faults")

    def reset_faults(self) -> dict[str, Any]:
        """Empty the fault log."""
        return self("POST", "faults/reset")

    def set_faults(self, spec: FaultSpec | str, seed: int | None = None) -> dict[str, Any]:
        """Change the fault spec (and seed) of the running server."""
        body: dict[str, Any] = {"spec": str(spec)}
        if seed is not None:
            body["seed"] = seed
        return self("POST", "faults", body)

    def stores(self) -> dict[str, Any]:
        """The stores and shops being served."""
        return self("GET", "stores")


class RunningStorefront:
    """A simulator serving in this process: its URLs and admin helpers."""

    def __init__(self, base_url: str, shopify_slugs: list[str], etsy_shop_ids: dict[str, int]) -> None:
        self.base_url = base_url
        self.shopify_slugs = shopify_slugs
        self.etsy_shop_ids = etsy_shop_ids
        self.etsy_api = f"{base_url}/etsy/v3/application"
        self.admin = AdminClient(base_url)

    def shopify_url(self, slug: str) -> str:
        """The store URL of a Shopify slug (``.../shopify/<slug>``)."""
        return f"{self.base_url}/shopify/{slug}"

    @property
    def shopify_urls(self) -> dict[str, str]:
        return {slug: self.shopify_url(slug) for slug in self.shopify_slugs}

    # Direct forms of the admin helpers, for brevity in tests.
    def set_price(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.admin.set_price(*args, **kwargs)

    def set_available(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.admin.set_available(*args, **kwargs)

    def add_product(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.admin.add_product(*args, **kwargs)

    def remove_product(self, *args: Any, **kwargs: Any) -> None:
        self.admin.remove_product(*args, **kwargs)

    def set_vacation(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.admin.set_vacation(*args, **kwargs)

    def fault_stats(self) -> dict[str, Any]:
        return self.admin.fault_stats()

    def reset_faults(self) -> dict[str, Any]:
        return self.admin.reset_faults()


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = a free port); ConfigError if it cannot bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on such sockets, and without it Nagle's
    # algorithm plus delayed ACKs add ~40 ms to every small response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from None
    sock.listen(1024)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextlib.contextmanager
def running_storefront(
    catalog_dir: Path,
    *,
    faults: FaultSpec | str | None = None,
    seed: int = 0,
    page_cap: int = 25000,
    slow_seconds: float = 5.0,
    retry_after: float = 1.0,
    enforce_etsy_rate_limit: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    **etsy_options: Any,
) -> Iterator[RunningStorefront]:
    """Serve ``catalog_dir`` on ``host:port`` (0 = a free port) in a background thread until exit.

    ``etsy_options`` go to :func:`create_app` (``etsy_token_ttl``, ``etsy_limit_per_second``, ``etsy_limit_per_day``).
    """
    app = create_app(catalog_dir, faults=faults, seed=seed, page_cap=page_cap, slow_seconds=slow_seconds,
                     retry_after=retry_after, enforce_etsy_rate_limit=enforce_etsy_rate_limit, **etsy_options)
    cfg = app.state.storefront
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2, timeout_keep_alive=5)
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            errors.append(exc)

    thread = threading.Thread(target=serve, name=f"storefront:{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if errors or not thread.is_alive():
            sock.close()
            raise AisleError(f"storefront failed to start: {errors[0] if errors else 'server exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise AisleError("storefront did not start within 30 s")
        time.sleep(0.01)
    base_url = f"http://{_url_host(host)}:{bound_port}"
    running = RunningStorefront(base_url, list(cfg.catalog.shopify),
                                {slug: s.shop_id for slug, s in cfg.catalog.etsy.items()})
    try:
        yield running
    finally:
        if cfg.loop is not None and cfg.stopping is not None and not cfg.loop.is_closed():
            with contextlib.suppress(RuntimeError):
                cfg.loop.call_soon_threadsafe(cfg.stopping.set)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve_forever(app: Any, sock: socket.socket, *, access_log: bool = False) -> None:
    """Serve ``app`` on an already bound socket (see :func:`bind_socket`) in the foreground until interrupted."""
    config = uvicorn.Config(app, log_level="info" if access_log else "warning", access_log=access_log,
                            timeout_graceful_shutdown=2)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
