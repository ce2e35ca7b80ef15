"""``aisle crawl`` (Shopify stores and Etsy shops into the workspace catalog) and ``aisle stats``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()

_MERCHANTS_HELP = (
    "File listing merchants, one per line: 'shopify URL', 'etsy SHOP_ID', a bare URL or shop id, or JSON lines "
    "such as {\"platform\": \"shopify\", \"url\": \"https://...\"}; '#' starts a comment. A JSON line may add "
    "\"merchant_id\": \"ID\" to vouch that the URL is that merchant (a store that moved); otherwise a URL "
    "claiming a merchant id first crawled from another URL is refused (identity_conflict)."
)


def crawl(
    shopify: list[str] = typer.Option([], "--shopify", help="Shopify store URL (repeatable)."),
    etsy: list[str] = typer.Option([], "--etsy", help="Etsy shop id (repeatable); key from AISLE_ETSY_API_KEY."),
    etsy_api: str = typer.Option("https://openapi.etsy.com/v3/application", "--etsy-api",
                                 help="Etsy Open API v3 base URL."),
    merchants: Path | None = typer.Option(None, "--merchants", help=_MERCHANTS_HELP),
    allow_host: list[str] = typer.Option(
        [], "--allow-host", help="Allow a private/loopback host name or CIDR (repeatable; env AISLE_ALLOW_HOSTS)."),
    delay: float = typer.Option(0.5, "--delay", help="Minimum seconds between requests to one host (0 = none)."),
    timeout: float = typer.Option(20.0, "--timeout", help="Seconds to wait for an answer before retrying."),
    retries: int = typer.Option(4, "--retries", help="Retries per request on 429/5xx/timeouts/bad bodies."),
    concurrency: int = typer.Option(8, "--concurrency", help="Merchants crawled at the same time."),
    per_host: int = typer.Option(1, "--per-host", help="Requests in flight per host (raise only for your own "
                                 "hosts, e.g. a simulator serving many stores)."),
    use_ray: bool = typer.Option(False, "--ray", help="Spread the merchants over Ray tasks (needs aisle[ray]); one "
                                 "host's requests stay on one task, one sink writes the catalog."),
    address: str | None = typer.Option(None, "--address", help="With --ray: the Ray cluster to join (default: a "
                                       "local one)."),
    ray_workers: int = typer.Option(2, "--ray-workers", min=1, help="With --ray: crawl tasks (hosts are split "
                                    "between them)."),
    ray_sink: str = typer.Option("store", "--ray-sink", help="With --ray: 'store' sends every write to the one "
                                 "DuckDB sink actor; 'parquet' has tasks stage their writes as Parquet "
                                 "(<workspace>/crawl-staging) that one writer merges after them, same end state."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary (no progress bars)."),
) -> None:
    """Crawl Shopify stores and Etsy shops into the workspace catalog (DuckDB).

    Politely (one request in flight and --delay between requests per host), retrying faults, recording
    every fault that survives the retries. Products missing from a complete crawl of their merchant are
    marked removed; an incomplete crawl never removes anything. Exit status 3 when a merchant's crawl was
    incomplete.
    """
    from cli.main import State
    from cli.progress import progress_bars
    from indexer.crawl.run import CrawlSettings
    from indexer.crawl.run import crawl as run_crawl
    from indexer.crawl.targets import Target, dedupe, load_targets
    from indexer.store.store import Store

    targets = [Target.shopify(u) for u in shopify] + [Target.etsy(s) for s in etsy]
    if merchants is not None:
        targets += load_targets(merchants)
    env = State.settings()
    settings = CrawlSettings(delay=delay, timeout=timeout, retries=retries, concurrency=concurrency, per_host=per_host,
                             etsy_api=etsy_api, etsy_api_key=env.etsy_api_key,
                             allow_hosts=tuple(allow_host) + env.allow_hosts, etsy_tokens=str(State.workspace().home))
    ws = State.workspace()
    if use_ray:
        from indexer.crawl.ray_crawl import crawl_ray

        report = crawl_ray(dedupe(targets), ws.catalog_db, settings=settings, workers=ray_workers, address=address,
                            sink=ray_sink)
    else:
        with Store.open(ws.catalog_db) as store, progress_bars("crawl", not as_json and sys.stderr.isatty()) as bars:
            report = run_crawl(dedupe(targets), store, settings=settings, progress=bars)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print_report(report.to_dict(), ws.catalog_db)
    if not report.complete:
        raise typer.Exit(3)


def _print_report(doc: dict[str, Any], path: Path) -> None:
    table = Table(title=f"crawl {doc['run_id']} → {path}")
    for col in ("merchant", "products", "new", "changed", "unchanged", "removed", "quarantined", "errors",
                "complete", "s"):
        table.add_column(col, justify="left" if col == "merchant" else "right")
    for m in doc["merchants"]:
        table.add_row(m["name"] or m["target"], *(str(m[k]) for k in ("products", "new", "changed", "unchanged",
                                                                       "removed", "quarantined", "errors")),
                      "yes" if m["complete"] else "[red]no[/red]", f"{m['seconds']:.1f}")
    console.print(table)
    _print_errors(doc["merchants"])
    retried = ", ".join(f"{k} {v}" for k, v in sorted(doc["retried"].items())) or "none"
    console.print(f"{doc['products']} products, {doc['requests']} requests in {doc['seconds']:.1f} s; "
                  f"faults retried away: {retried}")
    if not doc["complete"]:
        console.print("[yellow]some crawls were incomplete: see `aisle stats` and the crawl_errors table; "
                      "nothing was marked removed for them[/yellow]")


def _print_errors(merchants: list[dict[str, Any]]) -> None:
    """One line per merchant whose (latest) crawl failed: what failed, where, and the merchant's answer."""
    for m in merchants:
        err = m.get("last_error")
        if err:
            who = m.get("name") or m.get("id") or m.get("target")
            status = f" HTTP {err['status']}" if err.get("status") else ""
            console.print(f"[red]error[/red] {escape(str(who))}: {escape(str(err['code']))}{status} "
                          f"{escape(err['message'])} ({escape(err['url'])})", soft_wrap=True)


def stats(as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON.")) -> None:
    """Catalog statistics: merchants, products, variants, available variants, last crawl, errors."""
    from cli.main import State
    from indexer.store.store import Store

    with Store.open(State.workspace(read_only=True).catalog_db, read_only=True) as store:
        doc = store.stats()
    _etsy_access(doc, State.workspace(read_only=True).home)
    if as_json:
        print(json.dumps(doc, ensure_ascii=False))
        return
    table = Table(title=f"{doc['path']}")
    for col in ("merchant", "platform", "products", "variants", "available", "last crawl", "errors"):
        table.add_column(col, justify="left" if col in ("merchant", "platform", "last crawl") else "right")
    for m in doc["merchants"]:
        last = m["last_crawl"] or "never"
        if m["last_crawl"] and not m["last_crawl_complete"]:
            last += " (incomplete)"
        platform = m["platform"] + (f" ({m['etsy_access']})" if "etsy_access" in m else "")
        who = f"{escape(str(m['name']))} [dim]{escape(m['id'])}[/dim]" if m["id"] else escape(m["target"])
        table.add_row(who, platform, str(m["products"]), str(m["variants"]),
                      str(m["available_variants"]), last, str(m["errors"]))
    console.print(table)
    _print_errors(doc["merchants"])
    console.print(f"{doc['products']} products ({doc['removed_products']} removed not counted), {doc['variants']} "
                  f"variants ({doc['available_variants']} available), {doc['quarantined']} quarantined records, "
                  f"{doc['crawl_runs']} crawl runs")


def _etsy_access(doc: dict[str, Any], home: Path) -> None:
    """Add ``etsy_access`` to each Etsy merchant: ``"connected"`` (its owner's grant is stored and not revoked:
    crawls read its variants) or ``"public"`` (listing level). Read from the token store, never the tokens."""
    from indexer.crawl.etsy_auth import TokenStore

    connected = {t.shop_id for t in TokenStore(home).all() if not t.revoked}
    for m in doc.get("merchants", []):
        if m.get("platform") == "etsy":
            m["etsy_access"] = "connected" if str(m.get("id")) in connected else "public"


def register(app: typer.Typer) -> None:
    """Add ``aisle crawl`` and ``aisle stats`` to the CLI."""
    app.command("crawl")(crawl)
    app.command("stats")(stats)
