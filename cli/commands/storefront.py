"""``aisle storefront``: serve a catalog directory as Shopify stores and the Etsy API (a test tool)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from indexer.errors import ConfigError

console = Console()


def _loopback(host: str) -> bool:
    from indexer.crawl.netguard import is_loopback_host as is_loopback

    return is_loopback(host)


def storefront(
    catalog: Path = typer.Option(..., "--catalog", help="Catalog directory (shopify/<slug>/..., etsy/<slug>/...)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback only unless --allow-public)."),
    port: int = typer.Option(8765, "--port", help="Port to listen on (0 = any free port)."),
    faults: str = typer.Option("", "--faults", help="Fault spec, e.g. 429=0.05,500=0.03,timeout=0.02,truncate=0.02,"
                               "html=0.01,dup=0.02."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fault draws (same seed, same faults)."),
    page_cap: int = typer.Option(25000, "--page-cap", help="Shopify's page*limit cap (HTTP 400 above it)."),
    slow_seconds: float = typer.Option(5.0, "--slow-seconds", help="Delay of a 'timeout' fault, in seconds."),
    retry_after: float = typer.Option(1.0, "--retry-after", help="Retry-After of a 429 fault, in seconds."),
    enforce_rate_limit: bool = typer.Option(False, "--enforce-etsy-rate-limit",
                                            help="Answer 429 past Etsy's 10 requests/s per key."),
    allow_public: bool = typer.Option(False, "--allow-public", help="Allow a non-loopback --host."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
    as_json: bool = typer.Option(False, "--json", help="Print the store URLs as one JSON object at start."),
) -> None:
    """Serve CATALOG as Shopify stores (/shopify/<slug>) and the Etsy API (/etsy/v3/application).

    For tests, demos and benchmarks: optional seeded faults, a configurable page cap, and an admin API
    under /_admin/ (loopback clients only) to change prices, availability and products while it runs.
    """
    from indexer.storefront.app import create_app
    from indexer.storefront.faults import parse_faults
    from indexer.storefront.server import bind_socket, serve_forever

    if not _loopback(host) and not allow_public:
        raise ConfigError(f"refusing to listen on non-loopback host {host!r}: this is a test tool "
                          "(pass --allow-public to insist; the admin API still answers loopback clients only)")
    spec = parse_faults(faults)
    app = create_app(catalog, faults=spec, seed=seed, page_cap=page_cap, slow_seconds=slow_seconds,
                     retry_after=retry_after, enforce_etsy_rate_limit=enforce_rate_limit)
    cat = app.state.storefront.catalog
    sock = bind_socket(host, port)  # bound before the banner so --port 0 prints the real port
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{sock.getsockname()[1]}"
    shopify_urls = {slug: f"{base}/shopify/{slug}" for slug in cat.shopify}
    etsy_api = f"{base}/etsy/v3/application"
    shop_ids = {slug: s.shop_id for slug, s in cat.etsy.items()}
    if as_json:
        print(json.dumps({"base_url": base, "shopify": shopify_urls, "etsy_api": etsy_api, "etsy_shop_ids": shop_ids,
                          "admin": f"{base}/_admin/", "faults": str(spec), "seed": seed, "page_cap": page_cap}),
              flush=True)
    else:
        console.print(f"[bold]aisle storefront[/bold] serving {catalog} on {base} (faults: {spec}, seed {seed}, "
                      f"page cap {page_cap})", soft_wrap=True)
        for slug, url in shopify_urls.items():
            console.print(f"  shopify  {slug:<28} {url}", soft_wrap=True, highlight=False)
        for slug, sid in shop_ids.items():
            console.print(f"  etsy     {slug:<28} {etsy_api}/shops/{sid}", soft_wrap=True, highlight=False)
        console.print(f"  admin    {base}/_admin/   (Ctrl+C to stop)", soft_wrap=True, highlight=False)
    serve_forever(app, sock, access_log=access_log)


def register(app: typer.Typer) -> None:
    """Add ``aisle storefront`` to the CLI."""
    app.command("storefront")(storefront)
